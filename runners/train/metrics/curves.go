package metrics

import (
	"cmp"
	"container/heap"
	"fmt"
	"math"
	"slices"
)

// CurvePoint is one point of a ROC or precision–recall curve: X and Y are
// the curve's coordinates (false and true positive rate for ROC; recall and
// precision for precision–recall) when every row scoring at least
// Threshold is predicted positive.
type CurvePoint struct {
	// X is the false positive rate (ROC) or the recall (precision–recall).
	X float64 `json:"x"`
	// Y is the true positive rate (ROC) or the precision (precision–recall).
	Y float64 `json:"y"`
	// Threshold is the lowest score predicted positive at this point.
	Threshold float64 `json:"threshold"`
}

// binaryCurve mirrors scikit-learn's _binary_clf_curve: the rows sorted by
// descending score (the reverse of a stable ascending sort, as NumPy's
// argsort(kind="mergesort")[::-1]), and at the last row of each run of tied
// scores the cumulative false and true positives and that row's score.
func binaryCurve(y, p []float64) (fps, tps []int, thresholds []float64) {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(p[a], p[b]) })
	slices.Reverse(idx)
	tp := 0
	for k, i := range idx {
		if y[i] == 1 {
			tp++
		}
		if k == len(idx)-1 || p[idx[k+1]] != p[i] {
			tps = append(tps, tp)
			fps = append(fps, k+1-tp)
			thresholds = append(thresholds, p[i])
		}
	}
	return fps, tps, thresholds
}

// checkCurve validates the input of a curve: binary labels and finite
// scores of equal length, with both classes present.
func checkCurve(name string, y, p []float64) error {
	pos, err := checkBinary(name, y, p)
	if err != nil {
		return err
	}
	if neg := len(y) - pos; pos == 0 || neg == 0 {
		return fmt.Errorf("%s: %w (%d positives, %d negatives)", name, ErrSingleClass, pos, neg)
	}
	return nil
}

// ROCCurve returns the ROC curve of scores p for binary labels y exactly as
// scikit-learn 1.2's roc_curve(y, p, drop_intermediate=True): X is the
// false positive rate and Y the true positive rate, in order of decreasing
// threshold. The first point is (0, 0) with threshold max(p)+1 (scikit-learn
// ≥ 1.3 uses +Inf there, which JSON cannot hold); the others are one per
// distinct score, minus those lying on a straight line between their
// neighbours (no corner, so no change to the plot or the area). Labels of
// one class only give ErrSingleClass (scikit-learn warns and returns NaN
// rates); empty input, a length mismatch, labels other than 0 and 1 and
// NaN or infinite scores are errors too.
func ROCCurve(y, p []float64) ([]CurvePoint, error) {
	if err := checkCurve("roc_curve", y, p); err != nil {
		return nil, err
	}
	fps, tps, th := binaryCurve(y, p)
	keep := make([]int, 0, len(fps))
	for i := range fps {
		// np.diff(a, 2)[i-1] = a[i+1] - 2a[i] + a[i-1], nonzero at a corner.
		if i == 0 || i == len(fps)-1 ||
			fps[i+1]-2*fps[i]+fps[i-1] != 0 || tps[i+1]-2*tps[i]+tps[i-1] != 0 {
			keep = append(keep, i)
		}
	}
	negs, poss := float64(fps[len(fps)-1]), float64(tps[len(tps)-1])
	out := make([]CurvePoint, 0, len(keep)+1)
	out = append(out, CurvePoint{X: 0, Y: 0, Threshold: th[0] + 1})
	for _, i := range keep {
		out = append(out, CurvePoint{X: float64(fps[i]) / negs, Y: float64(tps[i]) / poss, Threshold: th[i]})
	}
	return out, nil
}

// PRCurve returns the precision–recall curve of scores p for binary labels
// y exactly as scikit-learn 1.2's precision_recall_curve: X is the recall
// and Y the precision, one point per distinct score in order of increasing
// threshold (so decreasing recall), followed by the point (recall 0,
// precision 1). scikit-learn gives that last point no threshold; here it
// carries max(p)+1, above every score, the threshold ROCCurve gives its
// (0, 0) point. Labels of one class only give ErrSingleClass, as PRAUC
// does; empty input, a length mismatch, labels other than 0 and 1 and NaN
// or infinite scores are errors too.
func PRCurve(y, p []float64) ([]CurvePoint, error) {
	if err := checkCurve("precision_recall_curve", y, p); err != nil {
		return nil, err
	}
	fps, tps, th := binaryCurve(y, p)
	poss := float64(tps[len(tps)-1])
	out := make([]CurvePoint, 0, len(fps)+1)
	for i := len(fps) - 1; i >= 0; i-- {
		// tps+fps > 0 at every point (each holds at least one row).
		out = append(out, CurvePoint{
			X:         float64(tps[i]) / poss,
			Y:         float64(tps[i]) / float64(tps[i]+fps[i]),
			Threshold: th[i],
		})
	}
	out = append(out, CurvePoint{X: 0, Y: 1, Threshold: th[0] + 1})
	return out, nil
}

// Downsample returns at most limit points of a curve for plotting, keeping
// its first and last points and its shape: starting from the two ends, it
// repeatedly adds the point farthest (in the X–Y plane) from the polyline
// of the points kept so far, as the Ramer–Douglas–Peucker simplification
// ranked by distance, until limit points are kept or every remaining
// point lies on that polyline. The result keeps the input order and is a
// new slice; a curve of at most limit points comes back whole. A limit
// below 2 is taken as 2. Points with a NaN coordinate are never added. Ties are broken
// towards the earlier point, so the result is deterministic.
func Downsample(points []CurvePoint, limit int) []CurvePoint {
	limit = max(limit, 2)
	n := len(points)
	if n <= limit {
		return slices.Clone(points)
	}
	kept := []int{0, n - 1}
	h := &segmentHeap{}
	if s, ok := farthest(points, 0, n-1); ok {
		heap.Push(h, s)
	}
	for len(kept) < limit && h.Len() > 0 {
		s := heap.Pop(h).(segment)
		kept = append(kept, s.far)
		for _, part := range [2][2]int{{s.lo, s.far}, {s.far, s.hi}} {
			if t, ok := farthest(points, part[0], part[1]); ok {
				heap.Push(h, t)
			}
		}
	}
	slices.Sort(kept)
	out := make([]CurvePoint, len(kept))
	for i, k := range kept {
		out[i] = points[k]
	}
	return out
}

// segment is a stretch of a curve between two kept points lo and hi, with
// the point between them farthest from the chord lo–hi.
type segment struct {
	lo, hi, far int
	dist        float64
}

// farthest returns the point strictly between lo and hi farthest from the
// segment joining them, and false when there is none at a positive
// distance.
func farthest(points []CurvePoint, lo, hi int) (segment, bool) {
	best := segment{lo: lo, hi: hi, far: -1}
	for k := lo + 1; k < hi; k++ {
		if d := segmentDistance(points[k], points[lo], points[hi]); d > best.dist {
			best.far, best.dist = k, d
		}
	}
	return best, best.far >= 0
}

// segmentDistance is the Euclidean distance from p to the segment a–b.
// Beside the segment it is |cross product| / length, which is exactly 0
// for a point on the line through exactly representable points.
func segmentDistance(p, a, b CurvePoint) float64 {
	dx, dy := b.X-a.X, b.Y-a.Y
	px, py := p.X-a.X, p.Y-a.Y
	l2 := dx*dx + dy*dy
	switch dot := px*dx + py*dy; {
	case l2 == 0 || dot <= 0:
		return math.Hypot(px, py)
	case dot >= l2:
		return math.Hypot(p.X-b.X, p.Y-b.Y)
	}
	return math.Abs(dx*py-dy*px) / math.Sqrt(l2)
}

// segmentHeap orders segments by decreasing distance of their farthest
// point, then by that point's position.
type segmentHeap []segment

func (h segmentHeap) Len() int { return len(h) }
func (h segmentHeap) Less(i, j int) bool {
	if h[i].dist != h[j].dist {
		return h[i].dist > h[j].dist
	}
	return h[i].far < h[j].far
}
func (h segmentHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *segmentHeap) Push(x any)   { *h = append(*h, x.(segment)) }
func (h *segmentHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	*h = old[:len(old)-1]
	return s
}
