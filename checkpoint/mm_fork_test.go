package checkpoint

import (
	"slices"
	"testing"

	"github.com/ckpt/ckpt/image"
)

func TestSubtractRuns(t *testing.T) {
	const ps = image.PageSize
	run := func(page, n uint64) image.PageRun { return image.PageRun{Vaddr: page * ps, Pages: uint32(n)} }
	for _, c := range []struct {
		a, b, want []image.PageRun
	}{
		{[]image.PageRun{run(0, 10)}, nil, []image.PageRun{run(0, 10)}},
		{[]image.PageRun{run(0, 10)}, []image.PageRun{run(0, 10)}, nil},
		{[]image.PageRun{run(0, 10)}, []image.PageRun{run(2, 2), run(6, 2)}, []image.PageRun{run(0, 2), run(4, 2), run(8, 2)}},
		{[]image.PageRun{run(0, 4), run(10, 4)}, []image.PageRun{run(3, 8)}, []image.PageRun{run(0, 3), run(11, 3)}},
		{[]image.PageRun{run(5, 1)}, []image.PageRun{run(0, 5), run(6, 1)}, []image.PageRun{run(5, 1)}},
	} {
		if got := subtractRuns(c.a, c.b); !slices.Equal(got, c.want) {
			t.Errorf("subtractRuns(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
