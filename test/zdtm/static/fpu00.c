/*
 * fpu00: the x87 state is live at checkpoint time and must come back intact:
 * eight values on the register stack and a non-default control word
 * (round toward zero, double precision). Transition style: the values sit
 * in the registers through a long spin, then are stored and checked; the
 * checkpoint lands inside a spin with high probability on every run.
 */
#include <stdint.h>
#include <string.h>

#include "zdtmtst.h"

#define SPIN 20000000UL

/* round toward zero (RC=11), double precision (PC=10), exceptions masked */
#define FPU_CW 0x0e7f

int main(int argc, char **argv)
{
	unsigned long iter = 0;

	test_init(argc, argv);

	test_daemon();
	/* do-while: even a run stopped at once does one checked round. */
	do {
		double in[8], out[8];
		uint16_t cw_in = FPU_CW, cw_out = 0, cw_default = 0x037f;
		unsigned long n = SPIN;
		unsigned long sab = test_sabotage() && iter == 0;

		for (int i = 0; i < 8; i++)
			in[i] = (double)iter * 1.25 + i * 3.0e10 + 0.5;
		asm volatile("fldcw %[cw]\n\t"
			     "fldl 0(%[in])\n\tfldl 8(%[in])\n\tfldl 16(%[in])\n\tfldl 24(%[in])\n\t"
			     "fldl 32(%[in])\n\tfldl 40(%[in])\n\tfldl 48(%[in])\n\tfldl 56(%[in])\n\t"
			     "1: dec %[n]\n\tjnz 1b\n\t"
			     "test %[sab], %[sab]\n\tjz 2f\n\tfchs\n\t"
			     "2: fnstcw %[cwout]\n\t"
			     "fstpl 56(%[out])\n\tfstpl 48(%[out])\n\tfstpl 40(%[out])\n\tfstpl 32(%[out])\n\t"
			     "fstpl 24(%[out])\n\tfstpl 16(%[out])\n\tfstpl 8(%[out])\n\tfstpl 0(%[out])\n\t"
			     "fldcw %[cwdef]\n\t"
			     : [n] "+r"(n), [cwout] "=m"(cw_out)
			     : [cw] "m"(cw_in), [cwdef] "m"(cw_default), [in] "r"(in), [out] "r"(out), [sab] "r"(sab)
			     : "memory", "cc", "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)");
		if (cw_out != FPU_CW)
			fail("iteration %lu: x87 control word %#x, want %#x", iter, cw_out, FPU_CW);
		for (int i = 0; i < 8; i++)
			if (memcmp(&in[i], &out[i], sizeof(double))) {
				fail("iteration %lu: st value %d is %g, want %g", iter, i, out[i], in[i]);
				break;
			}
		iter++;
	} while (test_go());
	test_msg("%lu iterations", iter);
	pass();
	return test_exit();
}
