/*
 * madvise00: mappings keep their madvise(2) flags and contents across C/R:
 * MADV_DONTFORK and MADV_WIPEONFORK memory (which a fork does not copy as
 * it is, so a checkpoint taken from a copy-on-write copy must read it from
 * the process itself), MADV_DONTDUMP and MADV_NOHUGEPAGE.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "zdtmtst.h"

#define LEN (8 * 4096)

struct area {
	const char *name;
	int advice;
	const char *flag; /* smaps VmFlags code */
	unsigned char *p;
	uint32_t crc;
};

static struct area areas[] = {
	{ "dontfork", MADV_DONTFORK, "dc" },
	{ "wipeonfork", MADV_WIPEONFORK, "wf" },
	{ "dontdump", MADV_DONTDUMP, "dd" },
	{ "nohugepage", MADV_NOHUGEPAGE, "nh" },
};

/* has_flag tells whether the smaps entry starting at addr lists code. */
static int has_flag(void *addr, const char *code)
{
	char line[512], start[32];
	int found = 0, in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	snprintf(start, sizeof(start), "%lx-", (unsigned long)addr);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, start, strlen(start)))
			in = 1;
		else if (in && !strncmp(line, "VmFlags:", 8)) {
			found = strstr(line, code) != NULL;
			break;
		}
	}
	fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	const int n = sizeof(areas) / sizeof(areas[0]);

	test_init(argc, argv);
	for (int i = 0; i < n; i++) {
		struct area *a = &areas[i];

		a->p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (a->p == MAP_FAILED || madvise(a->p, LEN, a->advice)) {
			fail("map %s", a->name);
			return 1;
		}
		datagen(a->p, LEN, &a->crc);
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		memset(areas[1].p, 0, 4096);
	for (int i = 0; i < n; i++) {
		struct area *a = &areas[i];

		if (datachk(a->p, LEN, &a->crc))
			fail("%s memory changed", a->name);
		if (has_flag(a->p, a->flag) != 1)
			fail("%s mapping lost VmFlags %s", a->name, a->flag);
	}
	pass();
	return test_exit();
}
