package checkpoint

import (
	"reflect"
	"testing"

	"github.com/ckpt/ckpt/image"
)

func TestAppendRunAndInRuns(t *testing.T) {
	var runs []image.PageRun
	runs = appendRun(runs, 0x1000, 0x3000)
	runs = appendRun(runs, 0x3000, 0x4000) // touches: joined
	runs = appendRun(runs, 0x8000, 0x9000)
	want := []image.PageRun{{Vaddr: 0x1000, Pages: 3}, {Vaddr: 0x8000, Pages: 1}}
	if !reflect.DeepEqual(runs, want) {
		t.Fatalf("got %v, want %v", runs, want)
	}
	for addr, in := range map[uint64]bool{0: false, 0x1000: true, 0x3000: true, 0x4000: false, 0x7000: false, 0x8000: true, 0x9000: false} {
		if got := inRuns(runs, addr); got != in {
			t.Errorf("inRuns(%#x) = %v, want %v", addr, got, in)
		}
	}
}
