package kernel

import (
	"encoding/binary"
	"sync"
)

// cpuid executes CPUID with eax=leaf, ecx=sub (cpuid_amd64.s).
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// xgetbv0 reads XCR0 (cpuid_amd64.s). It faults unless CPUID.1:ECX.OSXSAVE is set.
func xgetbv0() (eax, edx uint32)

const osxsaveBit = 1 << 27 // CPUID.1:ECX, the OS has set CR4.OSXSAVE

func osxsave() bool {
	_, _, ecx, _ := cpuid(1, 0)
	return ecx&osxsaveBit != 0
}

// XStateSize returns the size in bytes of the XSAVE area that
// PTRACE_GETREGSET(NT_X86_XSTATE) transfers: the standard (non-compacted)
// layout holding every feature enabled in XCR0. arch/x86/include/asm/user.h
// names CPUID.(EAX=0xd,ECX=0).EBX as the size debuggers must use. It
// returns 0 when the OS has not enabled XSAVE, in which case the kernel
// offers no NT_X86_XSTATE regset.
func XStateSize() int { return xstateSize() }

var xstateSize = sync.OnceValue(func() int {
	if !osxsave() {
		return 0
	}
	_, ebx, _, _ := cpuid(0xd, 0)
	return int(ebx)
})

// XFeatures returns XCR0, the set of XSAVE state components (x87, SSE, AVX,
// AVX-512, ...) the kernel has enabled for user space. Registers saved under
// one XCR0 can only be loaded where XFeatures is a superset. It returns 0
// when the OS has not enabled XSAVE.
func XFeatures() uint64 { return xfeatures() }

var xfeatures = sync.OnceValue(func() uint64 {
	if !osxsave() {
		return 0
	}
	lo, hi := xgetbv0()
	return uint64(hi)<<32 | uint64(lo)
})

// XStateSwFeaturesOffset is where, inside an NT_X86_XSTATE buffer, the
// kernel stores XCR0: the first 8 of the software-usable bytes 464..511 of
// the legacy FXSAVE region (arch/x86/include/asm/user.h).
const XStateSwFeaturesOffset = 464

// XStateFeatures returns the XCR0 recorded in an NT_X86_XSTATE buffer, and
// false if the buffer is too short to hold it.
func XStateFeatures(xstate []byte) (uint64, bool) {
	if len(xstate) < XStateSwFeaturesOffset+8 {
		return 0, false
	}
	return binary.LittleEndian.Uint64(xstate[XStateSwFeaturesOffset:]), true
}
