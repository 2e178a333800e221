package bench

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// A scaling point's cost per tool: checkpoint plus restore, median wall.
type scalePoint struct {
	units int
	cost  time.Duration
}

// overBudget says why tool should not be run on w, or "": when its last
// two points on w's axis grow so that w would take longer than the budget,
// the point is left out and the report says so with the extrapolation.
// Without this one point (ckpt with 100,000 fds of one file, say) can take
// hours, where the table needs its trend, not the bench's whole night.
func (r *runner) overBudget(w *Workload, tool string) string {
	if w.Axis == "" || r.cfg.PointBudget <= 0 {
		return ""
	}
	pts := r.points[w.Axis+"/"+tool]
	est, how := extrapolate(pts, w.Units)
	if est <= r.cfg.PointBudget {
		return ""
	}
	return fmt.Sprintf("not run: %s it would take about %s, over the %s budget per point (BENCH_POINT_BUDGET)",
		how, est.Round(time.Second), r.cfg.PointBudget)
}

// extrapolate estimates the cost at units from the two largest points
// below it: a power law through them (cost ∝ units^k, k at least 0), or a
// line through the origin from a single point.
func extrapolate(all []scalePoint, units int) (time.Duration, string) {
	var pts []scalePoint
	for _, p := range all {
		if p.units < units && p.cost > 0 {
			pts = append(pts, p)
		}
	}
	slices.SortFunc(pts, func(a, b scalePoint) int { return a.units - b.units })
	n := len(pts)
	if n == 0 {
		return 0, ""
	}
	last := pts[n-1]
	if n == 1 || pts[n-2].units == last.units {
		est := time.Duration(float64(last.cost) * float64(units) / float64(last.units))
		return est, fmt.Sprintf("from %s at %d, growing linearly,", last.cost.Round(time.Millisecond), last.units)
	}
	prev := pts[n-2]
	k := math.Log(float64(last.cost)/float64(prev.cost)) / math.Log(float64(last.units)/float64(prev.units))
	k = max(k, 0)
	est := time.Duration(float64(last.cost) * math.Pow(float64(units)/float64(last.units), k))
	return est, fmt.Sprintf("from %s at %d and %s at %d (growing as units^%.1f)", prev.cost.Round(time.Millisecond),
		prev.units, last.cost.Round(time.Millisecond), last.units, k)
}

// recordPoint keeps tr's cost on w's axis for the next points. Points a
// tool failed on are not kept: the next point is tried, and fails or not
// on its own.
func (r *runner) recordPoint(w *Workload, tr ToolResult) {
	if w.Axis == "" || tr.Skipped != "" {
		return
	}
	var d, rs []*Op
	for _, run := range tr.Runs {
		d, rs = append(d, run.Dump), append(rs, run.Restore)
	}
	ds, rss := SummarizeOps(d), SummarizeOps(rs)
	if ds.OK == 0 || rss.OK == 0 {
		return
	}
	if r.points == nil {
		r.points = map[string][]scalePoint{}
	}
	key := w.Axis + "/" + tr.Tool
	r.points[key] = append(r.points[key], scalePoint{units: w.Units,
		cost: time.Duration(ds.Wall.Median + rss.Wall.Median)})
}
