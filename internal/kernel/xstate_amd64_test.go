package kernel

import (
	"os"
	"strings"
	"testing"
)

// The kernel's own view of the CPU: /proc/cpuinfo lists "xsave" when the
// kernel uses it. The exact size and XCR0 are compared with a real
// NT_X86_XSTATE regset in internal/ptrace's tests.
func TestXState(t *testing.T) {
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(info), " xsave") {
		if XStateSize() != 0 || XFeatures() != 0 {
			t.Fatalf("no xsave in /proc/cpuinfo but XStateSize=%d XFeatures=%#x", XStateSize(), XFeatures())
		}
		t.Skip("CPU or kernel without XSAVE")
	}
	const x87, sse = 1 << 0, 1 << 1
	if f := XFeatures(); f&(x87|sse) != x87|sse {
		t.Errorf("XFeatures() = %#x lacks x87 and SSE, which XCR0 always has", f)
	}
	// 512 bytes legacy FXSAVE region + 64 bytes XSAVE header at least.
	if n := XStateSize(); n < 576 {
		t.Errorf("XStateSize() = %d, want >= 576", n)
	}
	if strings.Contains(string(info), " avx ") && XFeatures()&(1<<2) == 0 {
		t.Errorf("CPU has AVX but XFeatures() = %#x lacks the YMM component", XFeatures())
	}
}

func TestXStateFeatures(t *testing.T) {
	b := make([]byte, 576)
	b[XStateSwFeaturesOffset] = 0xe7
	b[XStateSwFeaturesOffset+4] = 0x02
	if f, ok := XStateFeatures(b); !ok || f != 0x2000000e7 {
		t.Errorf("XStateFeatures = %#x, %v; want 0x2000000e7, true", f, ok)
	}
	if _, ok := XStateFeatures(b[:470]); ok {
		t.Error("XStateFeatures accepted a 470-byte buffer")
	}
}
