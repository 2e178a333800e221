/*
 * prctl_mm00: the address space's prctl settings survive C/R:
 * PR_SET_THP_DISABLE (no transparent huge pages for the process) and
 * PR_SET_MEMORY_MERGE (KSM merges all its memory, new mappings too).
 */
#include <sys/mman.h>
#include <sys/prctl.h>

#include "vmflags.h"
#include "zdtmtst.h"

#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#define PR_GET_MEMORY_MERGE 68
#endif

int main(int argc, char **argv)
{
	void *p;

	test_init(argc, argv);
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) || prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0)) {
		fail("prctl");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		prctl(PR_SET_MEMORY_MERGE, 0, 0, 0, 0);
	if (prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) != 1)
		fail("PR_GET_THP_DISABLE is not 1");
	if (prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0) != 1)
		fail("PR_GET_MEMORY_MERGE is not 1");
	/* A mapping made now is mergeable without being advised so. */
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || has_vm_flag(p, "mg") != 1)
		fail("a new mapping is not mergeable");
	pass();
	return test_exit();
}
