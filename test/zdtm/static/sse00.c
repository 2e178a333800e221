/*
 * sse00: xmm0-xmm15 and a non-default MXCSR (round toward zero, FTZ, DAZ)
 * are live at checkpoint time and must come back intact. Transition style:
 * the registers hold known patterns through a long spin, then are stored
 * and checked.
 */
#include <stdint.h>
#include <string.h>

#include "zdtmtst.h"

#define SPIN 20000000UL
#define MXCSR 0xff80 /* all exceptions masked, RC=11, FTZ, DAZ */

int main(int argc, char **argv)
{
	unsigned long iter = 0;

	test_init(argc, argv);

	test_daemon();
	/* do-while: even a run stopped at once does one checked round. */
	do {
		uint8_t in[16][16], out[16][16];
		uint32_t csr_in = MXCSR, csr_out = 0, csr_def = 0x1f80;
		unsigned long n = SPIN;
		unsigned long sab = test_sabotage() && iter == 0;

		for (int r = 0; r < 16; r++)
			for (int b = 0; b < 16; b++)
				in[r][b] = (uint8_t)(r * 16 + b + iter * 7 + 1);
		asm volatile("ldmxcsr %[csr]\n\t"
			     "movdqu 0(%[in]), %%xmm0\n\tmovdqu 16(%[in]), %%xmm1\n\t"
			     "movdqu 32(%[in]), %%xmm2\n\tmovdqu 48(%[in]), %%xmm3\n\t"
			     "movdqu 64(%[in]), %%xmm4\n\tmovdqu 80(%[in]), %%xmm5\n\t"
			     "movdqu 96(%[in]), %%xmm6\n\tmovdqu 112(%[in]), %%xmm7\n\t"
			     "movdqu 128(%[in]), %%xmm8\n\tmovdqu 144(%[in]), %%xmm9\n\t"
			     "movdqu 160(%[in]), %%xmm10\n\tmovdqu 176(%[in]), %%xmm11\n\t"
			     "movdqu 192(%[in]), %%xmm12\n\tmovdqu 208(%[in]), %%xmm13\n\t"
			     "movdqu 224(%[in]), %%xmm14\n\tmovdqu 240(%[in]), %%xmm15\n\t"
			     "1: dec %[n]\n\tjnz 1b\n\t"
			     "test %[sab], %[sab]\n\tjz 2f\n\tpxor %%xmm9, %%xmm9\n\t"
			     "2: stmxcsr %[csrout]\n\t"
			     "movdqu %%xmm0, 0(%[out])\n\tmovdqu %%xmm1, 16(%[out])\n\t"
			     "movdqu %%xmm2, 32(%[out])\n\tmovdqu %%xmm3, 48(%[out])\n\t"
			     "movdqu %%xmm4, 64(%[out])\n\tmovdqu %%xmm5, 80(%[out])\n\t"
			     "movdqu %%xmm6, 96(%[out])\n\tmovdqu %%xmm7, 112(%[out])\n\t"
			     "movdqu %%xmm8, 128(%[out])\n\tmovdqu %%xmm9, 144(%[out])\n\t"
			     "movdqu %%xmm10, 160(%[out])\n\tmovdqu %%xmm11, 176(%[out])\n\t"
			     "movdqu %%xmm12, 192(%[out])\n\tmovdqu %%xmm13, 208(%[out])\n\t"
			     "movdqu %%xmm14, 224(%[out])\n\tmovdqu %%xmm15, 240(%[out])\n\t"
			     "ldmxcsr %[csrdef]\n\t"
			     : [n] "+r"(n), [csrout] "=m"(csr_out)
			     : [csr] "m"(csr_in), [csrdef] "m"(csr_def), [in] "r"(in), [out] "r"(out), [sab] "r"(sab)
			     : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
			       "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
		if (csr_out != MXCSR)
			fail("iteration %lu: MXCSR %#x, want %#x", iter, csr_out, MXCSR);
		for (int r = 0; r < 16; r++)
			if (memcmp(in[r], out[r], 16)) {
				fail("iteration %lu: xmm%d changed", iter, r);
				break;
			}
		iter++;
	} while (test_go());
	test_msg("%lu iterations", iter);
	pass();
	return test_exit();
}
