package restore

import (
	"reflect"
	"testing"

	"github.com/ckpt/ckpt/image"
)

func TestIntersectRuns(t *testing.T) {
	r := func(page uint64, n uint32) image.PageRun { return image.PageRun{Vaddr: page * pageSize, Pages: n} }
	for _, c := range []struct {
		name string
		a, b []image.PageRun
		want []image.PageRun
	}{
		{"empty", nil, []image.PageRun{r(0, 4)}, nil},
		{"disjoint", []image.PageRun{r(0, 2)}, []image.PageRun{r(2, 2)}, nil},
		{"inside", []image.PageRun{r(0, 10)}, []image.PageRun{r(2, 2), r(5, 1)}, []image.PageRun{r(2, 2), r(5, 1)}},
		{"straddling", []image.PageRun{r(1, 3), r(6, 3)}, []image.PageRun{r(0, 2), r(3, 4), r(8, 5)},
			[]image.PageRun{r(1, 1), r(3, 1), r(6, 1), r(8, 1)}},
		{"b far ahead", []image.PageRun{r(100, 1)}, []image.PageRun{r(0, 1), r(50, 1), r(100, 2)}, []image.PageRun{r(100, 1)}},
	} {
		if got := intersectRuns(c.a, c.b); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
		if got := intersectRuns(c.b, c.a); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s, swapped: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestAppendParentRunsRefuses(t *testing.T) {
	for _, runs := range [][]image.PageRun{
		{{Vaddr: 0x1000, Pages: 0}},
		{{Vaddr: 0x1001, Pages: 1}},
		{{Vaddr: 0x3000, Pages: 1}, {Vaddr: 0x2000, Pages: 1}},
		{{Vaddr: 0x2000, Pages: 2}, {Vaddr: 0x3000, Pages: 1}},
		{{Vaddr: ^uint64(0) &^ 0xfff, Pages: 2}},
	} {
		var dst []image.PageRun
		if err := appendParentRuns(&dst, runs); err == nil {
			t.Errorf("%v accepted", runs)
		}
	}
}
