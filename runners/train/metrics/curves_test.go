package metrics

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

// pt is shorthand for a curve point in tables.
func pt(x, y, th float64) CurvePoint { return CurvePoint{X: x, Y: y, Threshold: th} }

func TestCurvesHand(t *testing.T) {
	tests := []struct {
		name    string
		y, p    []float64
		roc, pr []CurvePoint
	}{
		{
			name: "sklearn docstring",
			y:    []float64{0, 0, 1, 1},
			p:    []float64{0.1, 0.4, 0.35, 0.8},
			roc:  []CurvePoint{pt(0, 0, 1.8), pt(0, 0.5, 0.8), pt(0.5, 0.5, 0.4), pt(0.5, 1, 0.35), pt(1, 1, 0.1)},
			pr:   []CurvePoint{pt(1, 0.5, 0.1), pt(1, 2.0/3, 0.35), pt(0.5, 0.5, 0.4), pt(0.5, 1, 0.8), pt(0, 1, 1.8)},
		},
		{
			// (0, 1/3) → (0, 2/3) → (0, 1) is a straight run: the middle
			// point is dropped from ROC but kept in precision–recall.
			name: "collinear point dropped",
			y:    []float64{1, 1, 1, 0},
			p:    []float64{0.9, 0.8, 0.7, 0.6},
			roc:  []CurvePoint{pt(0, 0, 1.9), pt(0, 1.0/3, 0.9), pt(0, 1, 0.7), pt(1, 1, 0.6)},
			pr:   []CurvePoint{pt(1, 0.75, 0.6), pt(1, 1, 0.7), pt(2.0/3, 1, 0.8), pt(1.0/3, 1, 0.9), pt(0, 1, 1.9)},
		},
		{
			name: "all tied",
			y:    []float64{0, 1, 0, 1},
			p:    []float64{0.5, 0.5, 0.5, 0.5},
			roc:  []CurvePoint{pt(0, 0, 1.5), pt(1, 1, 0.5)},
			pr:   []CurvePoint{pt(1, 0.5, 0.5), pt(0, 1, 1.5)},
		},
		{
			name: "negative scores",
			y:    []float64{1, 0},
			p:    []float64{-1, -3},
			roc:  []CurvePoint{pt(0, 0, 0), pt(0, 1, -1), pt(1, 1, -3)},
			pr:   []CurvePoint{pt(1, 0.5, -3), pt(1, 1, -1), pt(0, 1, 0)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			roc, err := ROCCurve(tt.y, tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(roc, tt.roc) {
				t.Errorf("ROCCurve = %v, want %v", roc, tt.roc)
			}
			pr, err := PRCurve(tt.y, tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(pr, tt.pr) {
				t.Errorf("PRCurve = %v, want %v", pr, tt.pr)
			}
		})
	}
}

func TestCurveErrors(t *testing.T) {
	tests := []struct {
		name   string
		y, p   []float64
		want   string
		single bool
	}{
		{name: "empty", want: "empty input"},
		{name: "length mismatch", y: []float64{0, 1}, p: []float64{0.5}, want: "2 labels, 1 scores"},
		{name: "bad label", y: []float64{0, 2}, p: []float64{0.1, 0.5}, want: "label 1 is 2, want 0 or 1"},
		{name: "NaN score", y: []float64{0, 1}, p: []float64{math.NaN(), 0.5}, want: "score 0 is NaN"},
		{name: "infinite score", y: []float64{0, 1}, p: []float64{0.1, math.Inf(1)}, want: "score 1 is +Inf"},
		{name: "only negatives", y: []float64{0, 0}, p: []float64{0.1, 0.5}, want: "0 positives, 2 negatives", single: true},
		{name: "only positives", y: []float64{1, 1, 1}, p: []float64{0.1, 0.5, 0.2}, want: "3 positives, 0 negatives", single: true},
	}
	for _, tt := range tests {
		for _, f := range []struct {
			name string
			fn   func(y, p []float64) ([]CurvePoint, error)
		}{{"roc_curve", ROCCurve}, {"precision_recall_curve", PRCurve}} {
			t.Run(f.name+"/"+tt.name, func(t *testing.T) {
				got, err := f.fn(tt.y, tt.p)
				if err == nil {
					t.Fatalf("no error, got curve %v", got)
				}
				if !strings.HasPrefix(err.Error(), f.name+": ") || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error %q, want %q prefixed by %q", err, tt.want, f.name)
				}
				if errors.Is(err, ErrSingleClass) != tt.single {
					t.Errorf("errors.Is(%q, ErrSingleClass) = %v, want %v", err, !tt.single, tt.single)
				}
			})
		}
	}
}

type curvesReference struct {
	SklearnVersion string `json:"sklearn_version"`
	Cases          []struct {
		Name string    `json:"name"`
		Y    []float64 `json:"y"`
		P    []float64 `json:"p"`
		LCG  *lcgSpec  `json:"lcg"`
		ROC  struct {
			FPR        []float64 `json:"fpr"`
			TPR        []float64 `json:"tpr"`
			Thresholds []float64 `json:"thresholds"`
		} `json:"roc"`
		PR struct {
			Precision  []float64 `json:"precision"`
			Recall     []float64 `json:"recall"`
			Thresholds []float64 `json:"thresholds"`
		} `json:"pr"`
	} `json:"cases"`
}

// TestCurvesSklearnReference compares both curves, thresholds included,
// with scikit-learn's recorded by testdata/curves_ref.py in
// testdata/curves_ref.json. Every value is a ratio of two counts (or a
// score, or a score plus one), so agreement must be exact.
func TestCurvesSklearnReference(t *testing.T) {
	raw, err := os.ReadFile("testdata/curves_ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref curvesReference
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) == 0 {
		t.Fatal("reference file holds no cases")
	}
	t.Logf("reference curves from scikit-learn %s", ref.SklearnVersion)
	for _, c := range ref.Cases {
		t.Run(c.Name, func(t *testing.T) {
			y, p := c.Y, c.P
			if c.LCG != nil {
				y, p = lcgBinary(c.LCG.Seed, c.LCG.N, c.LCG.Grid)
				checkArray(t, "y", y, c.LCG.Y)
				checkArray(t, "p", p, c.LCG.P)
			}
			roc, err := ROCCurve(y, p)
			if err != nil {
				t.Fatal(err)
			}
			if len(roc) != len(c.ROC.FPR) || len(c.ROC.TPR) != len(c.ROC.FPR) || len(c.ROC.Thresholds) != len(c.ROC.FPR) {
				t.Fatalf("ROC has %d points, scikit-learn %d", len(roc), len(c.ROC.FPR))
			}
			for i, q := range roc {
				if want := pt(c.ROC.FPR[i], c.ROC.TPR[i], c.ROC.Thresholds[i]); q != want {
					t.Errorf("ROC point %d = %+v, scikit-learn %+v", i, q, want)
				}
			}
			pr, err := PRCurve(y, p)
			if err != nil {
				t.Fatal(err)
			}
			n := len(c.PR.Precision)
			if len(pr) != n || len(c.PR.Recall) != n || len(c.PR.Thresholds) != n-1 {
				t.Fatalf("PR has %d points, scikit-learn %d (%d thresholds)", len(pr), n, len(c.PR.Thresholds))
			}
			for i, q := range pr {
				want := pt(c.PR.Recall[i], c.PR.Precision[i], 0)
				if i < n-1 {
					want.Threshold = c.PR.Thresholds[i]
				} else {
					// scikit-learn has no threshold for (recall 0, precision 1).
					want.Threshold = roc[0].Threshold
				}
				if q != want {
					t.Errorf("PR point %d = %+v, scikit-learn %+v", i, q, want)
				}
			}
		})
	}
}

// trapezoid integrates a curve given in order of increasing X.
func trapezoid(c []CurvePoint) float64 {
	a := 0.0
	for i := 1; i < len(c); i++ {
		a += (c[i].X - c[i-1].X) * (c[i].Y + c[i-1].Y) / 2
	}
	return a
}

// checkCurveInvariants checks what every ROC and precision–recall curve
// of valid input must hold, and that ROCCurve's area is ROCAUC's.
func checkCurveInvariants(t *testing.T, y, p []float64) {
	t.Helper()
	roc, err := ROCCurve(y, p)
	if err != nil {
		t.Fatal(err)
	}
	if roc[0] != pt(0, 0, roc[1].Threshold+1) || roc[len(roc)-1].X != 1 || roc[len(roc)-1].Y != 1 {
		t.Fatalf("ROC runs from %+v to %+v, want (0, 0) to (1, 1)", roc[0], roc[len(roc)-1])
	}
	for i := 1; i < len(roc); i++ {
		a, b := roc[i-1], roc[i]
		if b.X < a.X || b.Y < a.Y || b.Threshold >= a.Threshold {
			t.Fatalf("ROC points %d %+v and %d %+v are out of order", i-1, a, i, b)
		}
	}
	auc, err := ROCAUC(y, p)
	if err != nil {
		t.Fatal(err)
	}
	if got := trapezoid(roc); math.Abs(got-auc) > 1e-9 {
		t.Fatalf("area under ROCCurve %v, ROCAUC %v", got, auc)
	}
	pr, err := PRCurve(y, p)
	if err != nil {
		t.Fatal(err)
	}
	if last := pr[len(pr)-1]; last != pt(0, 1, roc[0].Threshold) || pr[0].X != 1 {
		t.Fatalf("PR runs from %+v to %+v, want recall 1 to (0, 1)", pr[0], last)
	}
	for i := 1; i < len(pr); i++ {
		a, b := pr[i-1], pr[i]
		if b.X > a.X || b.Threshold <= a.Threshold || b.Y < 0 || b.Y > 1 {
			t.Fatalf("PR points %d %+v and %d %+v are out of order", i-1, a, i, b)
		}
	}
	// Average precision is the step sum over the precision–recall curve.
	ap := 0.0
	for i := 0; i < len(pr)-1; i++ {
		ap += (pr[i].X - pr[i+1].X) * pr[i].Y
	}
	if want, _ := PRAUC(y, p); math.Abs(ap-want) > 1e-9 {
		t.Fatalf("step sum over PRCurve %v, PRAUC %v", ap, want)
	}
}

func TestCurveInvariants(t *testing.T) {
	for _, grid := range []float64{0, 5, 50} {
		for seed := uint64(1); seed <= 20; seed++ {
			y, p := lcgBinary(seed, 300, grid)
			checkCurveInvariants(t, y, p)
		}
	}
}

// FuzzCurves decodes rows of 9 bytes (a label bit, then a float64 score)
// and checks that the curves never panic and, for valid input, hold the
// invariants of checkCurveInvariants and downsample within bounds.
func FuzzCurves(f *testing.F) {
	row := func(label byte, score float64) []byte {
		b := make([]byte, 9)
		b[0] = label
		binary.LittleEndian.PutUint64(b[1:], math.Float64bits(score))
		return b
	}
	var seed []byte
	for i, s := range []float64{0.1, 0.4, 0.35, 0.8} {
		seed = append(seed, row(byte(i/2), s)...)
	}
	f.Add(seed, 3)
	f.Add(append(row(0, 0.5), row(1, 0.5)...), 2)
	f.Add(append(row(0, -1e300), row(1, 1e300)...), 0)
	f.Add(append(row(0, math.NaN()), row(1, 0.5)...), 5)
	f.Add([]byte{}, 1)
	f.Fuzz(func(t *testing.T, data []byte, limit int) {
		n := len(data) / 9
		y := make([]float64, n)
		p := make([]float64, n)
		for i := range n {
			b := data[9*i:]
			y[i] = float64(b[0] & 1)
			p[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[1:9]))
		}
		roc, err := ROCCurve(y, p)
		if err != nil {
			if _, perr := PRCurve(y, p); perr == nil {
				t.Fatalf("ROCCurve fails (%v) but PRCurve does not", err)
			}
			return
		}
		for _, v := range p {
			// Rates over huge score ranges are fine, but max(p)+1 must
			// stay above max(p) for the threshold order to hold.
			if math.Abs(v) > 1e15 {
				return
			}
		}
		checkCurveInvariants(t, y, p)
		limit = limit % 64
		d := Downsample(roc, limit)
		if len(d) > max(limit, 2) || d[0] != roc[0] || d[len(d)-1] != roc[len(roc)-1] {
			t.Fatalf("Downsample(%d points, %d) = %d points %v", len(roc), limit, len(d), d)
		}
	})
}

// isSubsequence reports whether sub appears in whole in order.
func isSubsequence(sub, whole []CurvePoint) bool {
	i := 0
	for _, w := range whole {
		if i < len(sub) && sub[i] == w {
			i++
		}
	}
	return i == len(sub)
}

func TestDownsample(t *testing.T) {
	// A curve with one sharp corner at (1/16, 9/16) among many collinear
	// points: the corner must survive any limit of 3 or more.
	// Coordinates are multiples of 1/1024, so the legs are exactly straight.
	var corner []CurvePoint
	for i := 0; i <= 64; i++ {
		corner = append(corner, pt(float64(i)/1024, float64(9*i)/1024, float64(-i)))
	}
	for i := 1; i <= 64; i++ {
		corner = append(corner, pt(float64(64+15*i)/1024, float64(576+7*i)/1024, float64(-64-i)))
	}
	line := []CurvePoint{pt(0, 0, 3), pt(0.25, 0.25, 2), pt(0.5, 0.5, 1), pt(1, 1, 0)}
	tests := []struct {
		name  string
		in    []CurvePoint
		limit int
		want  []CurvePoint
	}{
		{name: "short curve whole", in: line, limit: 4, want: line},
		{name: "empty", in: nil, limit: 5, want: []CurvePoint{}},
		{name: "collinear points add nothing", in: line, limit: 3, want: []CurvePoint{line[0], line[3]}},
		{name: "limit below 2 keeps the ends", in: corner, limit: -1, want: []CurvePoint{corner[0], corner[128]}},
		{name: "corner kept", in: corner, limit: 3, want: []CurvePoint{corner[0], corner[64], corner[128]}},
		{name: "corner only, however many allowed", in: corner, limit: 50, want: []CurvePoint{corner[0], corner[64], corner[128]}},
		{
			// Equal distances: the earlier point wins.
			name:  "tie towards earlier point",
			in:    []CurvePoint{pt(0, 0, 4), pt(0.5, 1, 3), pt(1, 0, 2), pt(1.5, 1, 1), pt(2, 0, 0)},
			limit: 3,
			want:  []CurvePoint{pt(0, 0, 4), pt(0.5, 1, 3), pt(2, 0, 0)},
		},
		{
			name:  "NaN point never added",
			in:    []CurvePoint{pt(0, 0, 3), pt(math.NaN(), 0.5, 2), pt(0.2, 0.9, 1), pt(1, 1, 0)},
			limit: 3,
			want:  []CurvePoint{pt(0, 0, 3), pt(0.2, 0.9, 1), pt(1, 1, 0)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Downsample(tt.in, tt.limit)
			if !slices.EqualFunc(got, tt.want, func(a, b CurvePoint) bool {
				return a == b || (math.IsNaN(a.X) && math.IsNaN(b.X) && a.Y == b.Y && a.Threshold == b.Threshold)
			}) {
				t.Errorf("Downsample(%d points, %d) = %v, want %v", len(tt.in), tt.limit, got, tt.want)
			}
			if len(got) > 0 && len(tt.in) > 0 && &got[0] == &tt.in[0] {
				t.Error("Downsample returned its input slice, want a copy")
			}
		})
	}
}

func TestDownsampleROC(t *testing.T) {
	y, p := lcgBinary(2024, 5000, 0)
	roc, err := ROCCurve(y, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(roc) < 400 {
		t.Fatalf("ROC has only %d points; the test needs a long curve", len(roc))
	}
	full := trapezoid(roc)
	for _, limit := range []int{10, 50, 200} {
		d := Downsample(roc, limit)
		if len(d) != limit {
			t.Errorf("Downsample(%d points, %d) kept %d", len(roc), limit, len(d))
		}
		if d[0] != roc[0] || d[len(d)-1] != roc[len(roc)-1] || !isSubsequence(d, roc) {
			t.Errorf("Downsample(%d) is not an in-order subset with both ends", limit)
		}
		// The shape is kept better than by taking evenly spaced points.
		even := make([]CurvePoint, 0, limit)
		for i := range limit {
			even = append(even, roc[i*(len(roc)-1)/(limit-1)])
		}
		dev, evenDev := deviation(roc, d), deviation(roc, even)
		t.Logf("limit %d: deviation %.4g (evenly spaced %.4g), area %.6f (full %.6f)", limit, dev, evenDev, trapezoid(d), full)
		if dev >= evenDev {
			t.Errorf("Downsample(%d): largest deviation %v, evenly spaced points %v", limit, dev, evenDev)
		}
		if e := math.Abs(trapezoid(d) - full); e > 2*dev {
			t.Errorf("Downsample(%d): area %v, full curve %v", limit, trapezoid(d), full)
		}
		if again := Downsample(roc, limit); !slices.Equal(again, d) {
			t.Errorf("Downsample(%d) is not deterministic", limit)
		}
	}
}

// deviation returns the largest distance from a point of curve to the
// polyline through kept.
func deviation(curve, kept []CurvePoint) float64 {
	worst := 0.0
	for _, q := range curve {
		best := math.Inf(1)
		for i := 1; i < len(kept); i++ {
			best = min(best, segmentDistance(q, kept[i-1], kept[i]))
		}
		worst = max(worst, best)
	}
	return worst
}

func BenchmarkCurves(b *testing.B) {
	y, p := lcgBinary(1, 100000, 0)
	for b.Loop() {
		roc, err := ROCCurve(y, p)
		if err != nil {
			b.Fatal(err)
		}
		Downsample(roc, 200)
	}
}
