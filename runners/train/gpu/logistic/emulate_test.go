package logistic

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/slipway-ml/slipway/runners/train/data"
	"github.com/slipway-ml/slipway/runners/train/features"
	cpu "github.com/slipway-ml/slipway/runners/train/logistic"
	"github.com/slipway-ml/slipway/runners/train/metrics"
	"github.com/slipway-ml/slipway/runners/train/table"
)

// reference is the data term in float64, row by row.
func reference(z [][]float64, y []float64, cw [2]float64, theta, grad []float64) float64 {
	d := len(z)
	clear(grad)
	f := 0.0
	for i, yi := range y {
		eta := theta[d]
		for j := range d {
			eta += theta[j] * z[j][i]
		}
		w := cw[int(yi)]
		f += w * (math.Log1p(math.Exp(-math.Abs(eta))) + math.Max(eta, 0) - yi*eta)
		r := w * (1/(1+math.Exp(-eta)) - yi)
		for j := range d {
			grad[j] += r * z[j][i]
		}
		grad[d] += r
	}
	return f
}

func randomProblem(rng *rand.Rand, n, d int) ([][]float64, []float64, []float64) {
	z := make([][]float64, d)
	for j := range z {
		z[j] = make([]float64, n)
		for i := range z[j] {
			z[j][i] = rng.NormFloat64()
		}
	}
	theta := make([]float64, d+1)
	for j := range theta {
		theta[j] = rng.NormFloat64() / math.Sqrt(float64(d))
	}
	y := make([]float64, n)
	for i := range y {
		eta := theta[d]
		for j := range d {
			eta += theta[j] * z[j][i]
		}
		if rng.Float64() < 1/(1+math.Exp(-eta)) {
			y[i] = 1
		}
	}
	// Evaluate away from the generating point, where the gradient is large.
	for j := range theta {
		theta[j] += 0.3 * rng.NormFloat64()
	}
	return z, y, theta
}

func relErr(a, b []float64) float64 {
	num, den := 0.0, 0.0
	for i := range a {
		num += (a[i] - b[i]) * (a[i] - b[i])
		den += b[i] * b[i]
	}
	return math.Sqrt(num / den)
}

func TestEmulatorMatchesReference(t *testing.T) {
	tests := []struct{ n, d int }{
		{1, 1}, {37, 3}, {5000, 8}, {20000, 64}, {3001, 70}, {999, 255}, {700, 300}, {300, 1024},
	}
	for _, tt := range tests {
		rng := rand.New(rand.NewPCG(uint64(tt.n), uint64(tt.d)))
		z, y, theta := randomProblem(rng, tt.n, tt.d)
		cw := [2]float64{0.7, 1.9}
		e, err := NewEmulator(z, y, cw)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float64, tt.d+1)
		want := make([]float64, tt.d+1)
		fg := e.Eval(theta, got)
		fw := reference(z, y, cw, theta, want)
		if r := math.Abs(fg-fw) / math.Abs(fw); !(r < 1e-5) {
			t.Errorf("n=%d d=%d: loss %v, reference %v (relative error %.2g)", tt.n, tt.d, fg, fw, r)
		}
		if r := relErr(got, want); !(r < 1e-5) {
			t.Errorf("n=%d d=%d: gradient relative error %.2g", tt.n, tt.d, r)
		}
		// Deterministic: the same bits on a second evaluation.
		again := make([]float64, tt.d+1)
		if f2 := e.Eval(theta, again); f2 != fg || relErr(again, got) != 0 {
			t.Errorf("n=%d d=%d: second evaluation differs", tt.n, tt.d)
		}
	}
}

func TestMathFunctions(t *testing.T) {
	for x := -746.0; x <= 0; x += 0.37 {
		if got, want := expneg(x), math.Exp(x); math.Abs(got-want) > 4e-16*want+1e-300 {
			t.Fatalf("expneg(%v) = %v; want %v", x, got, want)
		}
	}
	for _, x := range []float64{0, -1e-300, -1e-10, -0.5, -0.3465, -0.3466, -700, -744.9, -800} {
		if got, want := expneg(x), math.Exp(x); math.Abs(got-want) > 4e-16*want+5e-324 {
			t.Errorf("expneg(%v) = %v; want %v", x, got, want)
		}
	}
	for e := 0.0; e <= 1; e += 1.0 / 1024 {
		if got, want := log1p01(e), math.Log1p(e); math.Abs(got-want) > 4e-16*want {
			t.Fatalf("log1p01(%v) = %v; want %v", e, got, want)
		}
	}
	if got := log1p01(1e-300); got != 1e-300 {
		t.Errorf("log1p01(1e-300) = %v", got)
	}
}

func TestLayout(t *testing.T) {
	tests := []struct {
		n, d                        int
		rows, tiles, blocks, groups int
	}{
		{4_000_000, 64, 128, 31250, 1024, 3},
		{1000, 1024, 8, 125, 125, 1},
		{10, 1, 256, 1, 1, 128},
		{100, 255, 32, 4, 4, 1},
	}
	for _, tt := range tests {
		l, err := newLayout(tt.n, tt.d)
		if err != nil {
			t.Fatal(err)
		}
		if l.rows != tt.rows || l.tiles != tt.tiles || l.blocks != tt.blocks || l.groups != tt.groups {
			t.Errorf("newLayout(%d, %d) = %+v", tt.n, tt.d, l)
		}
		if sb := l.sharedBytes(); sb > 48<<10 || (8*l.redLen+8*l.rows)%8 != 0 {
			t.Errorf("n=%d d=%d: %d shared bytes; want at most 48 KiB", tt.n, tt.d, sb)
		}
	}
	for _, bad := range [][2]int{{0, 3}, {10, 0}, {10, 1025}} {
		if _, err := newLayout(bad[0], bad[1]); err == nil {
			t.Errorf("newLayout(%d, %d) accepted", bad[0], bad[1])
		}
	}
	if _, _, _, err := pack([][]float64{{1, 2}}, []float64{0, 2}); err == nil {
		t.Error("pack accepted the label 2")
	}
}

func synthetic(n, d int, seed uint64) (*data.Matrix, []float64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	x := &data.Matrix{Cols: make([][]float64, d), Names: make([]string, d), Categories: make([]int, d)}
	w := make([]float64, d)
	for j := range d {
		x.Names[j] = string(rune('a'+j%26)) + string(rune('a'+j/26))
		x.Cols[j] = make([]float64, n)
		w[j] = rng.NormFloat64()
		for i := range n {
			x.Cols[j][i] = rng.NormFloat64()*float64(j+1) + float64(j)
		}
	}
	y := make([]float64, n)
	for i := range y {
		eta := -0.5
		for j := range d {
			eta += w[j] * (x.Cols[j][i] - float64(j)) / float64(j+1)
		}
		if rng.Float64() < 1/(1+math.Exp(-eta)) {
			y[i] = 1
		}
	}
	return x, y
}

func churn(t *testing.T) (*data.Matrix, []float64) {
	t.Helper()
	f, err := os.Open("../../../../examples/churn/data/churn.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tb, err := table.ReadCSV(f, table.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	spec := features.FeatureSpec{Label: "churn", Categorical: features.Onehot, Transforms: map[string][]features.Transform{}}
	for _, c := range tb.Columns() {
		if c.Name != "churn" && c.Numeric() {
			spec.Transforms[c.Name] = []features.Transform{{Op: "impute", Strategy: "median"}, {Op: "standardize"}}
		}
	}
	fp, err := features.Fit(tb, spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	x, err := fp.Transform(tb)
	if err != nil {
		t.Fatal(err)
	}
	y, _, err := fp.Label(tb)
	if err != nil {
		t.Fatal(err)
	}
	return x, y
}

// TestEmulatedTrainingMatchesCPU trains through the emulated objective and
// through the CPU objective and compares the models' ROC AUC.
func TestEmulatedTrainingMatchesCPU(t *testing.T) {
	sx, sy := synthetic(20000, 12, 3)
	cx, cy := churn(t)
	for name, c := range map[string]struct {
		x *data.Matrix
		y []float64
		p cpu.Params
	}{
		"synthetic":          {sx, sy, cpu.DefaultParams()},
		"synthetic balanced": {sx, sy, func() cpu.Params { p := cpu.DefaultParams(); p.ClassWeight = "balanced"; return p }()},
		"churn":              {cx, cy, cpu.DefaultParams()},
		"churn newton":       {cx, cy, func() cpu.Params { p := cpu.DefaultParams(); p.Solver = "newton"; return p }()},
		"churn l1":           {cx, cy, func() cpu.Params { p := cpu.DefaultParams(); p.L1Ratio = 0.5; p.C = 0.1; return p }()},
	} {
		ref, err := cpu.Train(context.Background(), c.x, c.y, c.p)
		if err != nil {
			t.Fatal(err)
		}
		emu, err := TrainEmulated(context.Background(), c.x, c.y, c.p)
		if err != nil {
			t.Fatal(err)
		}
		pr, _ := ref.Predict(c.x)
		pe, _ := emu.Predict(c.x)
		ar, err := metrics.ROCAUC(c.y, pr)
		if err != nil {
			t.Fatal(err)
		}
		ae, err := metrics.ROCAUC(c.y, pe)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(ar-ae) > 0.002 {
			t.Errorf("%s: ROC AUC %.5f through the emulated GPU objective, %.5f on the CPU", name, ae, ar)
		}
		if math.Abs(ar-ae) == 0 && relErr(emu.Coef, ref.Coef) == 0 {
			t.Errorf("%s: identical coefficients: the emulated objective was not used", name)
		}
		if r := relErr(emu.Coef, ref.Coef); r > 1e-2 {
			t.Errorf("%s: coefficients differ by %.2g relative", name, r)
		}
		t.Logf("%s: AUC cpu %.6f emulated %.6f, coefficients differ by %.2g", name, ar, ae, relErr(emu.Coef, ref.Coef))
	}
}
