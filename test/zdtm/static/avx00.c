/*
 * avx00: the upper halves of ymm0-ymm15 (AVX state) and, where the CPU has
 * AVX-512, zmm16-zmm31 and the opmask registers k1-k7 are live at
 * checkpoint time and must come back intact. Transition style, as sse00.
 */
#include <stdint.h>
#include <string.h>

#include "zdtmtst.h"

#define SPIN 20000000UL

static unsigned long iter;

__attribute__((target("avx"))) static void ymm_round(int sab)
{
	uint8_t in[16][32], out[16][32];
	unsigned long n = SPIN;
	unsigned long s = sab;

	for (int r = 0; r < 16; r++)
		for (int b = 0; b < 32; b++)
			in[r][b] = (uint8_t)(r * 32 + b + iter * 3 + 1);
	asm volatile("vmovdqu 0(%[in]), %%ymm0\n\tvmovdqu 32(%[in]), %%ymm1\n\t"
		     "vmovdqu 64(%[in]), %%ymm2\n\tvmovdqu 96(%[in]), %%ymm3\n\t"
		     "vmovdqu 128(%[in]), %%ymm4\n\tvmovdqu 160(%[in]), %%ymm5\n\t"
		     "vmovdqu 192(%[in]), %%ymm6\n\tvmovdqu 224(%[in]), %%ymm7\n\t"
		     "vmovdqu 256(%[in]), %%ymm8\n\tvmovdqu 288(%[in]), %%ymm9\n\t"
		     "vmovdqu 320(%[in]), %%ymm10\n\tvmovdqu 352(%[in]), %%ymm11\n\t"
		     "vmovdqu 384(%[in]), %%ymm12\n\tvmovdqu 416(%[in]), %%ymm13\n\t"
		     "vmovdqu 448(%[in]), %%ymm14\n\tvmovdqu 480(%[in]), %%ymm15\n\t"
		     "1: dec %[n]\n\tjnz 1b\n\t"
		     "test %[sab], %[sab]\n\tjz 2f\n\tvmovdqa %%xmm3, %%xmm3\n\t" /* zeroes ymm3's upper half */
		     "2:\n\t"
		     "vmovdqu %%ymm0, 0(%[out])\n\tvmovdqu %%ymm1, 32(%[out])\n\t"
		     "vmovdqu %%ymm2, 64(%[out])\n\tvmovdqu %%ymm3, 96(%[out])\n\t"
		     "vmovdqu %%ymm4, 128(%[out])\n\tvmovdqu %%ymm5, 160(%[out])\n\t"
		     "vmovdqu %%ymm6, 192(%[out])\n\tvmovdqu %%ymm7, 224(%[out])\n\t"
		     "vmovdqu %%ymm8, 256(%[out])\n\tvmovdqu %%ymm9, 288(%[out])\n\t"
		     "vmovdqu %%ymm10, 320(%[out])\n\tvmovdqu %%ymm11, 352(%[out])\n\t"
		     "vmovdqu %%ymm12, 384(%[out])\n\tvmovdqu %%ymm13, 416(%[out])\n\t"
		     "vmovdqu %%ymm14, 448(%[out])\n\tvmovdqu %%ymm15, 480(%[out])\n\t"
		     "vzeroupper\n\t"
		     : [n] "+r"(n)
		     : [in] "r"(in), [out] "r"(out), [sab] "r"(s)
		     : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
		       "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
	for (int r = 0; r < 16; r++)
		if (memcmp(in[r], out[r], 32)) {
			fail("iteration %lu: ymm%d changed", iter, r);
			break;
		}
}

/* zmm16-31 exist only with AVX-512, and are a separate XSAVE component
 * (Hi16_ZMM), as are the opmask registers. */
__attribute__((target("avx512f"))) static void zmm_round(int sab)
{
	uint8_t in[4][64], out[4][64];
	uint16_t kin[3] = { 0xa5a5, 0x0ff0, 0x8001 }, kout[3] = { 0, 0, 0 };
	unsigned long n = SPIN;
	unsigned long s = sab;

	for (int r = 0; r < 4; r++)
		for (int b = 0; b < 64; b++)
			in[r][b] = (uint8_t)(r * 64 + b + iter * 5 + 1);
	asm volatile("vmovdqu64 0(%[in]), %%zmm16\n\tvmovdqu64 64(%[in]), %%zmm21\n\t"
		     "vmovdqu64 128(%[in]), %%zmm26\n\tvmovdqu64 192(%[in]), %%zmm31\n\t"
		     "kmovw 0(%[kin]), %%k1\n\tkmovw 2(%[kin]), %%k4\n\tkmovw 4(%[kin]), %%k7\n\t"
		     "1: dec %[n]\n\tjnz 1b\n\t"
		     "test %[sab], %[sab]\n\tjz 2f\n\tkxorw %%k4, %%k4, %%k4\n\t"
		     "2:\n\t"
		     "vmovdqu64 %%zmm16, 0(%[out])\n\tvmovdqu64 %%zmm21, 64(%[out])\n\t"
		     "vmovdqu64 %%zmm26, 128(%[out])\n\tvmovdqu64 %%zmm31, 192(%[out])\n\t"
		     "kmovw %%k1, 0(%[kout])\n\tkmovw %%k4, 2(%[kout])\n\tkmovw %%k7, 4(%[kout])\n\t"
		     "vzeroupper\n\t"
		     : [n] "+r"(n)
		     : [in] "r"(in), [out] "r"(out), [kin] "r"(kin), [kout] "r"(kout), [sab] "r"(s)
		     : "memory", "cc", "xmm16", "xmm21", "xmm26", "xmm31", "k1", "k4", "k7");
	for (int r = 0; r < 4; r++)
		if (memcmp(in[r], out[r], 64)) {
			fail("iteration %lu: zmm%d changed", iter, 16 + r * 5);
			break;
		}
	if (memcmp(kin, kout, sizeof(kin)))
		fail("iteration %lu: opmask registers changed: %#x %#x %#x", iter, kout[0], kout[1], kout[2]);
}

int main(int argc, char **argv)
{
	int avx512;

	test_init(argc, argv);
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("avx")) {
		test_msg("no AVX on this CPU: nothing to check");
		test_daemon();
		test_waitsig();
		pass();
		return test_exit();
	}
	avx512 = !!__builtin_cpu_supports("avx512f");

	test_daemon();
	/* do-while: even a run stopped at once does one checked round. */
	do {
		ymm_round(test_sabotage() && iter == 0);
		if (avx512)
			zmm_round(test_sabotage() && iter == 0);
		iter++;
	} while (test_go());
	test_msg("%lu iterations, avx512 %d", iter, avx512);
	pass();
	return test_exit();
}
