package proc

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/internal/kernel"
)

// manyVmas maps n pages with alternating protections, n VMAs that cannot
// merge.
func manyVmas(b *testing.B, n int) {
	mem, _ := mmapAnon(b, n*pageSize, unix.PROT_NONE)
	for i := 0; i < n; i += 2 {
		if err := unix.Mprotect(mem[i*pageSize:(i+1)*pageSize], unix.PROT_READ); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMaps10000(b *testing.B) {
	manyVmas(b, 10000)
	pid := os.Getpid()
	var n int
	for b.Loop() {
		vmas, err := Maps(pid)
		if err != nil {
			b.Fatal(err)
		}
		n = len(vmas)
	}
	b.ReportMetric(float64(n), "vmas")
}

func BenchmarkSmaps10000(b *testing.B) {
	manyVmas(b, 10000)
	pid := os.Getpid()
	var n int
	for b.Loop() {
		vmas, err := Smaps(pid)
		if err != nil {
			b.Fatal(err)
		}
		n = len(vmas)
	}
	b.ReportMetric(float64(n), "vmas")
}

const (
	benchSpan    = 1 << 30
	benchTouched = 100 << 20
)

// touched1GiB maps 1 GiB and writes 100 MiB of it: one run at the start,
// or every tenth page (25600 separate pages).
func touched1GiB(b *testing.B, scattered bool) uint64 {
	mem, addr := mmapAnon(b, benchSpan, unix.PROT_READ|unix.PROT_WRITE)
	// No THP, so that pages stay 4 KiB as in the common case.
	if err := unix.Madvise(mem, unix.MADV_NOHUGEPAGE); err != nil {
		b.Fatal(err)
	}
	for i := range benchTouched / pageSize {
		p := i
		if scattered {
			p = i * 10
		}
		mem[p*pageSize] = 1
	}
	return addr
}

func BenchmarkPagemapRead1GiB(b *testing.B) {
	addr := touched1GiB(b, true)
	pm := openSelfPagemap(b)
	var dst []uint64
	b.SetBytes(benchSpan / pageSize * 8)
	for b.Loop() {
		var err error
		if dst, err = pm.Read(addr, addr+benchSpan, dst); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScanPresent1GiB(b *testing.B) {
	for _, c := range []struct {
		name      string
		scattered bool
	}{{"contiguous", false}, {"every10th", true}} {
		b.Run(c.name, func(b *testing.B) {
			addr := touched1GiB(b, c.scattered)
			pm := openSelfPagemap(b)
			var dst []kernel.PageRegion
			for b.Loop() {
				var err error
				if dst, err = pm.Scan(addr, addr+benchSpan, presentQuery, dst[:0]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(dst)), "regions")
		})
	}
}
