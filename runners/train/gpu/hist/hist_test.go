package hist

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/slipway-ml/slipway/runners/train/data"
	"github.com/slipway-ml/slipway/runners/train/gbdt"
	"github.com/slipway-ml/slipway/runners/train/metrics"
)

// TestEmulatorMatchesFloat64 checks the fixed-point sums against float64
// sums in row order, as the CPU gbdt builds them.
func TestEmulatorMatchesFloat64(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		scale float64 // gradient magnitude
	}{
		{"logistic-like", 10000, 1},
		{"regression", 5000, 1e4},
		{"tiny", 3, 1e-6},
	}
	for _, tt := range tests {
		rng := rand.New(rand.NewPCG(uint64(tt.n), 11))
		cols := [][]uint8{make([]uint8, tt.n), nil, make([]uint8, tt.n)}
		g, h := make([]float64, tt.n), make([]float64, tt.n)
		for i := range g {
			cols[0][i] = uint8(rng.IntN(256))
			cols[2][i] = uint8(rng.IntN(7))
			g[i] = rng.NormFloat64() * tt.scale
			h[i] = rng.Float64() * tt.scale
		}
		var rows []int32
		for i := range tt.n {
			if i%3 != 1 {
				rows = append(rows, int32(i))
			}
		}
		e := &Emulator{}
		if err := e.Start(cols); err != nil {
			t.Fatal(err)
		}
		if err := e.Gradients(g, h); err != nil {
			t.Fatal(err)
		}
		out := [][]float64{make([]float64, 512), make([]float64, 512)}
		if err := e.Build(rows, []int{0, 2}, out); err != nil {
			t.Fatal(err)
		}
		for k, f := range []int{0, 2} {
			var want [512]float64
			for _, r := range rows {
				b := cols[f][r]
				want[2*int(b)] += g[r]
				want[2*int(b)+1] += h[r]
			}
			tol := float64(len(rows)) / e.scale
			for i := range want {
				if d := math.Abs(out[k][i] - want[i]); d > tol+1e-12*math.Abs(want[i]) {
					t.Fatalf("%s: feature %d entry %d = %v; float64 sum %v (difference %.3g, bound %.3g)", tt.name, f, i, out[k][i], want[i], d, tol)
				}
			}
		}
		// The sums do not depend on the order of the rows.
		rev := make([]int32, len(rows))
		for i, r := range rows {
			rev[len(rows)-1-i] = r
		}
		again := [][]float64{make([]float64, 512), make([]float64, 512)}
		if err := e.Build(rev, []int{0, 2}, again); err != nil {
			t.Fatal(err)
		}
		for k := range out {
			for i := range out[k] {
				if out[k][i] != again[k][i] {
					t.Fatalf("%s: reversed rows change entry %d of feature %d", tt.name, i, k)
				}
			}
		}
		if err := e.Build(rows, []int{1}, out); err == nil {
			t.Errorf("%s: a feature without uint8 bins was accepted", tt.name)
		}
	}
}

func TestQuantize(t *testing.T) {
	if _, _, _, err := quantize([]float64{1, math.NaN()}, []float64{1, 1}); err == nil {
		t.Error("NaN gradient accepted")
	}
	if _, _, _, err := quantize([]float64{1}, []float64{1, 2}); err == nil {
		t.Error("length mismatch accepted")
	}
	g := []float64{1e6, -1e6, 3}
	gq, _, s, err := quantize(g, []float64{1, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, v := range gq {
		sum += math.Abs(float64(v))
	}
	if sum >= math.Ldexp(1, 62) || s < 1 {
		t.Errorf("scale %v lets Σ|q| reach %v", s, sum)
	}
	if e := &(Emulator{}); e.Build(nil, nil, nil) == nil {
		t.Error("Build before Gradients accepted")
	}
}

// TestGBDTWithEmulatedHistograms trains gbdt with the emulated device
// histograms and compares it with the CPU's.
func TestGBDTWithEmulatedHistograms(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	n, d := 8000, 6
	x := &data.Matrix{Cols: make([][]float64, d), Names: make([]string, d), Categories: make([]int, d)}
	for j := range d {
		x.Names[j] = string(rune('a' + j))
		x.Cols[j] = make([]float64, n)
		for i := range n {
			x.Cols[j][i] = rng.NormFloat64()
			if j == 5 {
				x.Cols[j][i] = float64(rng.IntN(4))
			}
		}
	}
	x.Categories[5] = 4
	y := make([]float64, n)
	for i := range y {
		if x.Cols[0][i]*x.Cols[1][i]+x.Cols[2][i]+0.5*x.Cols[5][i]+rng.NormFloat64()*0.5 > 0.7 {
			y[i] = 1
		}
	}
	p := gbdt.DefaultParams()
	p.Trees = 40
	p.Subsample = 0.8
	ref, err := gbdt.Train(context.Background(), x, y, nil, nil, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	emu, err := gbdt.TrainWith(context.Background(), x, y, nil, nil, p, nil, &Emulator{})
	if err != nil {
		t.Fatal(err)
	}
	pr, _ := ref.Predict(x)
	pe, _ := emu.Predict(x)
	ar, _ := metrics.ROCAUC(y, pr)
	ae, _ := metrics.ROCAUC(y, pe)
	if math.Abs(ar-ae) > 0.002 {
		t.Errorf("ROC AUC %.5f with emulated device histograms, %.5f on the CPU", ae, ar)
	}
	maxDiff := 0.0
	for i := range pr {
		maxDiff = math.Max(maxDiff, math.Abs(pr[i]-pe[i]))
	}
	if maxDiff > 1e-3 {
		t.Errorf("predictions differ by up to %.3g", maxDiff)
	}
	t.Logf("AUC cpu %.6f emulated %.6f, max prediction difference %.3g", ar, ae, maxDiff)
	if _, err := gbdt.TrainWith(context.Background(), x, y, nil, nil, p, nil, &failing{}); err == nil {
		t.Error("a failing builder did not fail training")
	}
}

type failing struct{ Emulator }

func (*failing) Build([]int32, []int, [][]float64) error { return errFail }

var errFail = &failErr{}

type failErr struct{}

func (*failErr) Error() string { return "device lost" }
