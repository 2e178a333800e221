package bench

import (
	"math"
	"testing"
)

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []float64
		want Summary
	}{
		{"empty", nil, Summary{}},
		{"all unknown", []float64{-1, -1}, Summary{}},
		{"one", []float64{7}, Summary{N: 1, Median: 7, Min: 7, Max: 7}},
		{"odd", []float64{5, 1, 3}, Summary{N: 3, Median: 3, Min: 1, Max: 5}},
		{"even takes the mean of the middle two", []float64{4, 1, 3, 10}, Summary{N: 4, Median: 3.5, Min: 1, Max: 10}},
		{"unknowns left out", []float64{-1, 2, 8, -1, 5}, Summary{N: 3, Median: 5, Min: 2, Max: 8}},
		{"NaN left out", []float64{math.NaN(), 2}, Summary{N: 1, Median: 2, Min: 2, Max: 2}},
		{"zero is a figure", []float64{0, 0, 9}, Summary{N: 3, Median: 0, Min: 0, Max: 9}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Summarize(tc.in); got != tc.want {
				t.Errorf("Summarize(%v) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestSummarizeLeavesInputAlone(t *testing.T) {
	in := []float64{3, 1, 2}
	Summarize(in)
	if in[0] != 3 || in[1] != 1 || in[2] != 2 {
		t.Errorf("Summarize reordered its input: %v", in)
	}
}

func TestRatio(t *testing.T) {
	a := Summary{N: 1, Median: 3}
	b := Summary{N: 2, Median: 4}
	if got := Ratio(a, b); got != 0.75 {
		t.Errorf("Ratio = %v, want 0.75", got)
	}
	for _, tc := range []struct {
		name string
		a, b Summary
	}{
		{"missing numerator", Summary{}, b},
		{"missing denominator", a, Summary{}},
		{"zero denominator", a, Summary{N: 1}},
	} {
		if got := Ratio(tc.a, tc.b); !math.IsNaN(got) {
			t.Errorf("%s: Ratio = %v, want NaN", tc.name, got)
		}
	}
}

func TestSummarizeOps(t *testing.T) {
	ok := func(wall, freeze int64) *Op {
		op := newOp(toolRun{})
		op.WallNs, op.FreezeNs = wall, freeze
		return op
	}
	ops := []*Op{ok(30, -1), failedOp(errString("boom")), ok(10, 5), nil, ok(20, 7), failedOp(errString("boom"))}
	s := SummarizeOps(ops)
	if s.OK != 3 || s.Failed != 2 {
		t.Errorf("OK, Failed = %d, %d, want 3, 2", s.OK, s.Failed)
	}
	if len(s.Errors) != 1 || s.Errors[0] != "boom" {
		t.Errorf("Errors = %q, want one \"boom\"", s.Errors)
	}
	if s.Wall != (Summary{N: 3, Median: 20, Min: 10, Max: 30}) {
		t.Errorf("Wall = %+v", s.Wall)
	}
	// A tool that reports no freeze window in one run is not a zero.
	if s.Freeze != (Summary{N: 2, Median: 6, Min: 5, Max: 7}) {
		t.Errorf("Freeze = %+v", s.Freeze)
	}
}

type errString string

func (e errString) Error() string { return string(e) }
