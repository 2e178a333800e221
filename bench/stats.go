package bench

import (
	"math"
	"slices"
)

// Summary is the median and range of one figure over the runs that
// produced it. N is zero when no run did.
type Summary struct {
	N      int     `json:"n"`
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// Summarize takes the median of xs (the mean of the middle two for an even
// count) and its range. Negative values mean "not measured" and are left
// out, so one figure a tool cannot report does not poison the rest.
func Summarize(xs []float64) Summary {
	var v []float64
	for _, x := range xs {
		if x >= 0 && !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return Summary{}
	}
	slices.Sort(v)
	n := len(v)
	med := v[n/2]
	if n%2 == 0 {
		med = (v[n/2-1] + v[n/2]) / 2
	}
	return Summary{N: n, Median: med, Min: v[0], Max: v[n-1]}
}

// Ratio is a.Median / b.Median, or NaN when either is missing or b is zero.
func Ratio(a, b Summary) float64 {
	if a.N == 0 || b.N == 0 || b.Median == 0 {
		return math.NaN()
	}
	return a.Median / b.Median
}
