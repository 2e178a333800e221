/*
 * busyloop: a CPU-bound loop that never enters the kernel on its own. Two
 * copies of a generator state, one kept in registers and one in memory,
 * must stay equal at every step across C/R.
 */
#include <stdint.h>

#include "zdtmtst.h"

static volatile uint64_t in_memory;

int main(int argc, char **argv)
{
	uint64_t in_reg = 0x243f6a8885a308d3ull, steps = 0;

	test_init(argc, argv);
	in_memory = in_reg;

	test_daemon();
	/* do-while: even a run stopped at once does one checked block. */
	do {
		if (test_sabotage() && steps == 0)
			in_memory ^= 1;
		for (int i = 0; i < 1000000; i++) {
			in_reg = in_reg * 6364136223846793005ull + 1442695040888963407ull;
			in_memory = in_memory * 6364136223846793005ull + 1442695040888963407ull;
			if (in_reg != in_memory) {
				fail("step %llu: register copy %#llx, memory copy %#llx", (unsigned long long)steps,
				     (unsigned long long)in_reg, (unsigned long long)in_memory);
				goto out;
			}
			steps++;
		}
	} while (test_go());
out:
	test_msg("%llu steps", (unsigned long long)steps);
	pass();
	return test_exit();
}
