/*
 * vmflags.h: what /proc/self/smaps says of the mapping that starts at an
 * address. Header-only, like nsutil.h.
 */
#ifndef VMFLAGS_H
#define VMFLAGS_H

#include <stdio.h>
#include <string.h>

/* vm_flags copies the VmFlags line of the smaps entry holding addr into
 * out (size n); it returns 0, or -1 if no mapping holds addr. Neighbours
 * with the same flags are one mapping: the entry may start below addr. */
static inline int vm_flags(void *addr, char *out, size_t n)
{
	unsigned long a = (unsigned long)addr, start, end;
	char line[512];
	int in = 0, ret = -1;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!in && sscanf(line, "%lx-%lx ", &start, &end) == 2 && start <= a && a < end)
			in = 1;
		else if (in && !strncmp(line, "VmFlags:", 8)) {
			snprintf(out, n, "%s", line + 8);
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

/* has_vm_flag tells whether the mapping at addr has the two-letter code:
 * 1 yes, 0 no, -1 no such mapping. */
static inline int has_vm_flag(void *addr, const char *code)
{
	char flags[512], want[8];

	if (vm_flags(addr, flags, sizeof(flags)))
		return -1;
	snprintf(want, sizeof(want), " %s", code);
	return strstr(flags, want) != NULL;
}

#endif
