package gbdt

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/slipway-ml/slipway/runners/train/data"
)

func matrix(cols [][]float64, cats []int) *data.Matrix {
	m := &data.Matrix{Cols: cols, Categories: cats}
	if m.Categories == nil {
		m.Categories = make([]int, len(cols))
	}
	for j := range cols {
		m.Names = append(m.Names, "f"+string(rune('a'+j)))
	}
	return m
}

// auc is the ROC AUC with ties counted half (Mann–Whitney U).
func auc(score, y []float64) float64 {
	idx := make([]int, len(score))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return score[idx[a]] < score[idx[b]] })
	var pos, neg, rankSum float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && score[idx[j]] == score[idx[i]] {
			j++
		}
		rank := float64(i+j+1) / 2 // mean 1-based rank of the tie run
		for k := i; k < j; k++ {
			if y[idx[k]] == 1 {
				rankSum += rank
				pos++
			} else {
				neg++
			}
		}
		i = j
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

func TestAUCHelper(t *testing.T) {
	if got := auc([]float64{0.1, 0.4, 0.35, 0.8}, []float64{0, 0, 1, 1}); got != 0.75 {
		t.Fatalf("auc = %v, want 0.75", got)
	}
	if got := auc([]float64{0.5, 0.5}, []float64{0, 1}); got != 0.5 {
		t.Fatalf("auc of a tie = %v, want 0.5", got)
	}
}

func train(t testing.TB, x *data.Matrix, y []float64, p Params) *Model {
	t.Helper()
	m, err := Train(context.Background(), x, y, nil, nil, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func predict(t testing.TB, m *Model, x *data.Matrix) []float64 {
	t.Helper()
	p, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func uniform(r *rand.Rand, n int, lo, hi float64) []float64 {
	c := make([]float64, n)
	for i := range c {
		c[i] = lo + (hi-lo)*r.Float64()
	}
	return c
}

func TestXORRegression(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 2000
	a, b := uniform(r, n, -1, 1), uniform(r, n, -1, 1)
	y := make([]float64, n)
	for i := range y {
		if (a[i] > 0) != (b[i] > 0) {
			y[i] = 1
		} else {
			y[i] = -1
		}
	}
	p := DefaultParams()
	p.Objective = ObjectiveRegression
	p.Trees = 50
	x := matrix([][]float64{a, b}, nil)
	m := train(t, x, y, p)
	pred := predict(t, m, x)
	var mse float64
	for i := range y {
		mse += (pred[i] - y[i]) * (pred[i] - y[i])
	}
	if mse /= float64(n); mse > 1e-3 {
		t.Fatalf("XOR regression MSE %v", mse)
	}
}

func TestXORClassification(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n := 4000
	a, b, noise := uniform(r, n, -1, 1), uniform(r, n, -1, 1), uniform(r, n, -1, 1)
	y := make([]float64, n)
	for i := range y {
		if (a[i] > 0) != (b[i] > 0) {
			y[i] = 1
		}
	}
	x := matrix([][]float64{noise, a, b}, nil)
	m := train(t, x, y, DefaultParams())
	pred := predict(t, m, x)
	wrong := 0
	for i := range y {
		if (pred[i] > 0.5) != (y[i] == 1) {
			wrong++
		}
	}
	if wrong > n/200 {
		t.Fatalf("XOR classification: %d of %d wrong", wrong, n)
	}
}

func TestStepFunction(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	n := 3000
	a := uniform(r, n, 0, 10)
	y := make([]float64, n)
	for i, v := range a {
		// 200 distinct values, fewer than the bins: every step edge is a cut
		v = math.Round(v*20) / 20
		a[i] = v
		y[i] = math.Floor(v) * 3
	}
	p := DefaultParams()
	p.Objective = ObjectiveRegression
	p.LearningRate = 0.5
	x := matrix([][]float64{a}, nil)
	m := train(t, x, y, p)
	pred := predict(t, m, x)
	for i := range y {
		if math.Abs(pred[i]-y[i]) > 0.01 {
			t.Fatalf("row %d: x=%v predicted %v, want %v", i, a[i], pred[i], y[i])
		}
	}
	// held-out points in the middle of each step
	for k := 0; k < 10; k++ {
		v, _ := m.PredictRow([]float64{float64(k) + 0.5})
		if math.Abs(v-float64(3*k)) > 0.01 {
			t.Fatalf("x=%v predicted %v, want %v", float64(k)+0.5, v, 3*k)
		}
	}
}

// synthetic makes a binary problem with numeric, missing and categorical
// columns and interactions.
func synthetic(n int, seed uint64) (*data.Matrix, []float64) {
	r := rand.New(rand.NewPCG(seed, 99))
	const nf = 20
	cols := make([][]float64, nf)
	cats := make([]int, nf)
	for j := range cols {
		cols[j] = make([]float64, n)
	}
	cats[3], cats[7] = 12, 3
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		for j := range cols {
			switch {
			case cats[j] > 0:
				cols[j][i] = float64(r.IntN(cats[j]))
			default:
				cols[j][i] = r.NormFloat64()
			}
		}
		z := 0.8*cols[0][i] - 0.6*cols[1][i] + 0.9*cols[2][i]*cols[4][i]
		if c := int(cols[3][i]); c%3 == 0 {
			z += 1.0
		} else if c == 5 {
			z -= 1.2
		}
		if cols[7][i] == 2 {
			z += 0.5
		}
		if cols[5][i] > 0.5 {
			z += 0.7
		}
		if r.Float64() < 0.15 { // informative missingness
			cols[6][i] = math.NaN()
			z += 0.8
		}
		if r.Float64() < 0.1 {
			cols[8][i] = math.NaN()
		}
		if r.Float64() < 0.05 {
			cols[3][i] = math.NaN()
		}
		if r.Float64() < 1/(1+math.Exp(-2.5*z)) {
			y[i] = 1
		}
	}
	return matrix(cols, cats), y
}

func TestBinaryAUC(t *testing.T) {
	x, y := synthetic(20000, 1)
	vx, vy := synthetic(10000, 2)
	p := DefaultParams()
	p.LearningRate = 0.1
	p.MaxDepth = 4
	p.Subsample = 0.8
	p.ColsampleByTree = 0.8
	m := train(t, x, y, p)
	pred := predict(t, m, vx)
	got := auc(pred, vy)
	if got < 0.9 {
		t.Fatalf("test AUC %v", got)
	}
	for _, v := range pred {
		if !(v > 0 && v < 1) {
			t.Fatalf("prediction %v is not a probability", v)
		}
	}
	imp := m.Importance()
	if len(imp) != 20 || imp["fa"] <= imp["fj"] {
		t.Fatalf("importance %v", imp)
	}
}

func TestMissingnessOnly(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	n := 3000
	a, noise := uniform(r, n, 0, 1), uniform(r, n, 0, 1)
	y := make([]float64, n)
	for i := range y {
		if r.Float64() < 0.3 {
			a[i] = math.NaN()
			y[i] = 1
		}
	}
	x := matrix([][]float64{noise, a}, nil)
	p := DefaultParams()
	p.MaxDepth = 1
	p.Trees = 20
	m := train(t, x, y, p)
	if root := m.trees[0][0]; root.feature != 1 || root.flags&flagDefaultLeft == 0 || !math.IsInf(root.threshold, -1) {
		t.Fatalf("root split %+v, want feature 1 with only missing values left", root)
	}
	hi, _ := m.PredictRow([]float64{0.5, math.NaN()})
	lo, _ := m.PredictRow([]float64{0.5, 0.5})
	if hi < 0.95 || lo > 0.05 {
		t.Fatalf("P(missing)=%v, P(present)=%v", hi, lo)
	}
	// a missing value in a feature without missing values in training goes
	// to the child with the larger hessian sum
	if v, _ := m.PredictRow([]float64{math.NaN(), 0.5}); math.Abs(v-lo) > 1e-12 {
		t.Fatalf("unseen missing noise: %v, want %v", v, lo)
	}
}

func TestMissingDirectionLearned(t *testing.T) {
	// missing values behave like large values: they must join the right side
	r := rand.New(rand.NewPCG(11, 12))
	n := 4000
	a := uniform(r, n, 0, 1)
	y := make([]float64, n)
	for i := range y {
		if a[i] > 0.6 {
			y[i] = 1
		}
		if r.Float64() < 0.2 {
			a[i] = math.NaN()
			y[i] = 1
		}
	}
	x := matrix([][]float64{a}, nil)
	p := DefaultParams()
	p.MaxDepth = 1
	m := train(t, x, y, p)
	root := m.trees[0][0]
	if root.flags&flagDefaultLeft != 0 || math.Abs(root.threshold-0.6) > 0.01 {
		t.Fatalf("root %+v: want threshold 0.6 with missing values right", root)
	}
}

func TestCategoricalNative(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	n := 5000
	const k = 10
	c, noise := make([]float64, n), uniform(r, n, 0, 1)
	y := make([]float64, n)
	in := map[int]bool{1: true, 4: true, 7: true, 8: true}
	for i := range c {
		v := r.IntN(k)
		c[i] = float64(v)
		if in[v] {
			y[i] = 1
		}
	}
	x := matrix([][]float64{noise, c}, []int{0, k})
	p := DefaultParams()
	p.MaxDepth = 1
	p.Trees = 10
	m := train(t, x, y, p)
	root := m.trees[0][0]
	if root.feature != 1 || root.flags&flagCategorical == 0 {
		t.Fatalf("root %+v is not a categorical split on feature 1", root)
	}
	var left []int
	for v := 0; v < k; v++ {
		if root.set[0]>>v&1 == 1 {
			left = append(left, v)
		}
	}
	if !slices.Equal(left, []int{1, 4, 7, 8}) && !slices.Equal(left, []int{0, 2, 3, 5, 6, 9}) {
		t.Fatalf("left categories %v", left)
	}
	pred := predict(t, m, x)
	for i := range y {
		if (pred[i] > 0.5) != (y[i] == 1) {
			t.Fatalf("row %d: category %v predicted %v", i, c[i], pred[i])
		}
	}
	// one-hot handling needs several splits: one tree of depth 1 cannot
	p.Categorical = CategoricalOnehot
	p.Trees = 1
	m = train(t, x, y, p)
	if root := m.trees[0][0]; bitsSet(root.set) != 1 {
		t.Fatalf("one-hot root %+v", root)
	}
}

func bitsSet(s []uint64) int {
	k := 0
	for _, w := range s {
		for ; w != 0; w &= w - 1 {
			k++
		}
	}
	return k
}

func TestLossguide(t *testing.T) {
	x, y := synthetic(5000, 3)
	p := DefaultParams()
	p.GrowPolicy = GrowLossguide
	p.MaxLeaves = 7
	p.MaxDepth = 0
	p.Trees = 20
	m := train(t, x, y, p)
	for i, tr := range m.trees {
		leaves := 0
		for _, n := range tr {
			if n.feature < 0 {
				leaves++
			}
		}
		if leaves > 7 {
			t.Fatalf("tree %d has %d leaves", i, leaves)
		}
	}
	vx, vy := synthetic(5000, 4)
	if a := auc(predict(t, m, vx), vy); a < 0.88 {
		t.Fatalf("lossguide AUC %v", a)
	}
}

func marshal(t testing.TB, m *Model) []byte {
	t.Helper()
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDeterminism(t *testing.T) {
	x, y := synthetic(20000, 5)
	p := DefaultParams()
	p.Trees = 15
	p.Subsample = 0.7
	p.ColsampleByTree = 0.6
	p.Seed = 42
	var ref []byte
	for _, threads := range []int{1, 2, 2, 3} {
		p.Threads = threads
		b := marshal(t, train(t, x, y, p))
		if ref == nil {
			ref = b
		} else if !bytes.Equal(ref, b) {
			t.Fatalf("threads=%d: model bytes differ", threads)
		}
	}
	p.Seed = 43
	if bytes.Equal(ref, marshal(t, train(t, x, y, p))) {
		t.Fatal("another seed gave the same model")
	}
}

func TestRoundTrip(t *testing.T) {
	x, y := synthetic(5000, 6)
	for _, obj := range []string{ObjectiveBinary, ObjectiveRegression} {
		p := DefaultParams()
		p.Objective = obj
		p.Trees = 20
		m := train(t, x, y, p)
		b := marshal(t, m)
		var m2 Model
		if err := m2.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		p1, p2 := predict(t, m, x), predict(t, &m2, x)
		if !slices.Equal(p1, p2) {
			t.Fatalf("%s: predictions differ after a round trip", obj)
		}
		if !bytes.Equal(b, marshal(t, &m2)) {
			t.Fatalf("%s: re-encoding differs", obj)
		}
		if m2.Objective() != obj || m2.NumTrees() != 20 || !slices.Equal(m2.FeatureNames(), x.Names) {
			t.Fatalf("%s: decoded %v %d %v", obj, m2.Objective(), m2.NumTrees(), m2.FeatureNames())
		}
		// corruption is detected
		b[len(b)/2] ^= 1
		if err := m2.UnmarshalBinary(b); err == nil {
			t.Fatal("corrupt model loaded")
		}
	}
}

func TestEarlyStopping(t *testing.T) {
	x, y := synthetic(3000, 7)
	vx, vy := synthetic(3000, 8)
	p := DefaultParams()
	p.Trees = 300
	p.MaxDepth = 8
	p.LearningRate = 0.5
	p.EarlyStoppingRounds = 5
	var losses []float64
	m, err := Train(context.Background(), x, y, vx, vy, p, func(tree int, tl, vl float64) {
		if tree != len(losses) || math.IsNaN(tl) {
			t.Errorf("progress(%d, %v, %v) after %d calls", tree, tl, vl, len(losses))
		}
		losses = append(losses, vl)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(losses) >= p.Trees {
		t.Fatalf("did not stop: %d rounds", len(losses))
	}
	best := 0
	for i, v := range losses {
		if v < losses[best] {
			best = i
		}
	}
	if m.NumTrees() != best+1 || len(losses) != best+1+p.EarlyStoppingRounds {
		t.Fatalf("kept %d trees after %d rounds; best iteration %d", m.NumTrees(), len(losses), best)
	}
	pred := predict(t, m, vx)
	var ll float64
	for i, v := range pred {
		if vy[i] == 1 {
			ll -= math.Log(v)
		} else {
			ll -= math.Log(1 - v)
		}
	}
	if ll /= float64(len(pred)); math.Abs(ll-losses[best]) > 1e-9 {
		t.Fatalf("validation loss of the kept model %v, best %v", ll, losses[best])
	}
}

func TestCancel(t *testing.T) {
	x, y := synthetic(1000, 9)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Train(ctx, x, y, nil, nil, DefaultParams(), nil); err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Fatalf("err = %v", err)
	}
}

func TestBadInput(t *testing.T) {
	x, y := synthetic(100, 10)
	one := make([]float64, 100)
	nan := slices.Clone(y)
	nan[3] = math.NaN()
	inf := slices.Clone(y)
	inf[4] = math.Inf(1)
	two := slices.Clone(y)
	two[5] = 2
	mod := func(f func(*Params)) Params {
		p := DefaultParams()
		f(&p)
		return p
	}
	cases := []struct {
		name string
		x    *data.Matrix
		y    []float64
		p    Params
		want string
	}{
		{"empty", matrix(nil, nil), nil, DefaultParams(), "empty"},
		{"no rows", matrix([][]float64{{}}, nil), nil, DefaultParams(), "empty"},
		{"nil", nil, nil, DefaultParams(), "nil"},
		{"length", x, y[:50], DefaultParams(), "50 labels for 100 rows"},
		{"nan label", x, nan, DefaultParams(), "NaN"},
		{"inf label", x, inf, DefaultParams(), "+Inf"},
		{"not 0/1", x, two, DefaultParams(), "needs 0 or 1"},
		{"one class", x, one, DefaultParams(), "one class"},
		{"max bin 1", x, y, mod(func(p *Params) { p.MaxBin = 1 }), "max bin"},
		{"max bin big", x, y, mod(func(p *Params) { p.MaxBin = 1 << 20 }), "max bin"},
		{"trees", x, y, mod(func(p *Params) { p.Trees = 0 }), "trees"},
		{"subsample", x, y, mod(func(p *Params) { p.Subsample = 0 }), "subsample"},
		{"objective", x, y, mod(func(p *Params) { p.Objective = "multi" }), "objective"},
		{"policy", x, y, mod(func(p *Params) { p.GrowPolicy = "x" }), "grow policy"},
		{"unbounded", x, y, mod(func(p *Params) { p.MaxDepth = 0 }), "max depth"},
		{"early stopping", x, y, mod(func(p *Params) { p.EarlyStoppingRounds = 3 }), "validation set"},
		{"bad code", matrix([][]float64{{0, 5}}, []int{3}), []float64{0, 1}, DefaultParams(), "out of range"},
	}
	for _, c := range cases {
		_, err := Train(context.Background(), c.x, c.y, nil, nil, c.p, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
	// constant and all-missing columns and constant regression labels train
	allNaN := make([]float64, 100)
	for i := range allNaN {
		allNaN[i] = math.NaN()
	}
	p := DefaultParams()
	p.Objective = ObjectiveRegression
	m := train(t, matrix([][]float64{make([]float64, 100), allNaN}, nil), one, p)
	if v, _ := m.PredictRow([]float64{1, 1}); v != 0 {
		t.Fatalf("constant label: %v", v)
	}
	if _, err := m.Predict(x); err == nil {
		t.Fatal("predict with the wrong number of features")
	}
	if _, err := m.PredictRow([]float64{1}); err == nil {
		t.Fatal("predict row with the wrong number of features")
	}
}
