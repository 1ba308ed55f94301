package mlp

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/slipway-ml/slipway/runners/train/data"
)

// xor makes the classic problem no linear model solves: the label is 1
// when exactly one of two features is positive.
func xor(n int, seed uint64) (*data.Matrix, []float64) {
	r := rand.New(rand.NewPCG(seed, 1))
	x := &data.Matrix{Names: []string{"a", "b"}, Cols: [][]float64{make([]float64, n), make([]float64, n)}, Categories: []int{0, 0}}
	y := make([]float64, n)
	for i := range n {
		a, b := r.Float64()*2-1, r.Float64()*2-1
		x.Cols[0][i], x.Cols[1][i] = a, b
		if (a > 0) != (b > 0) {
			y[i] = 1
		}
	}
	return x, y
}

func accuracy(p, y []float64) float64 {
	ok := 0
	for i := range p {
		if (p[i] > 0.5) == (y[i] == 1) {
			ok++
		}
	}
	return float64(ok) / float64(len(p))
}

func TestXOR(t *testing.T) {
	x, y := xor(2000, 1)
	p := DefaultParams()
	p.HiddenUnits = []int{16, 16}
	p.LearningRate = 0.01
	p.Epochs = 100
	m, err := Train(context.Background(), x, y, nil, nil, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	tx, ty := xor(1000, 2)
	pred, err := m.Predict(tx)
	if err != nil {
		t.Fatal(err)
	}
	if acc := accuracy(pred, ty); acc < 0.95 {
		t.Fatalf("XOR accuracy %.3f, want ≥ 0.95", acc)
	}
}

func TestRegression(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	n := 2000
	x := &data.Matrix{Names: []string{"a"}, Cols: [][]float64{make([]float64, n)}, Categories: []int{0}}
	y := make([]float64, n)
	for i := range n {
		a := r.Float64()*4 - 2
		x.Cols[0][i], y[i] = a, a*a
	}
	p := DefaultParams()
	p.Task, p.HiddenUnits, p.LearningRate, p.Epochs = "regression", []int{32}, 0.01, 150
	m, err := Train(context.Background(), x, y, nil, nil, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	pred, _ := m.Predict(x)
	mse := 0.0
	for i := range pred {
		mse += (pred[i] - y[i]) * (pred[i] - y[i])
	}
	if mse /= float64(n); mse > 0.02 {
		t.Fatalf("x² fit: mse %.4f, want ≤ 0.02", mse)
	}
}

// TestDeterministic checks the same seed gives identical bytes whatever the
// thread count, dropout included.
func TestDeterministic(t *testing.T) {
	x, y := xor(1000, 4)
	var out [][]byte
	for _, threads := range []int{1, 2, 5} {
		p := DefaultParams()
		p.Epochs, p.Dropout, p.Threads, p.HiddenUnits = 5, 0.2, threads, []int{8, 8}
		m, err := Train(context.Background(), x, y, nil, nil, p, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := m.MarshalBinary()
		out = append(out, b)
	}
	for i := 1; i < len(out); i++ {
		if !bytes.Equal(out[0], out[i]) {
			t.Fatal("models differ between thread counts")
		}
	}
}

func TestEarlyStopping(t *testing.T) {
	x, y := xor(500, 5)
	vx, vy := xor(300, 6)
	p := DefaultParams()
	p.Epochs, p.EarlyStoppingRounds, p.LearningRate = 500, 5, 0.05
	var epochs int
	m, err := Train(context.Background(), x, y, vx, vy, p, func(e int, _, _ float64) { epochs = e })
	if err != nil {
		t.Fatal(err)
	}
	if m.Epochs >= 500 || epochs != m.Epochs || m.BestEpoch > m.Epochs || m.BestEpoch < 1 {
		t.Fatalf("epochs %d (progress saw %d), best %d", m.Epochs, epochs, m.BestEpoch)
	}
}

func TestRoundTripAndBadInput(t *testing.T) {
	x, y := xor(300, 7)
	p := DefaultParams()
	p.Epochs = 3
	m, err := Train(context.Background(), x, y, nil, nil, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := m.MarshalBinary()
	m2, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	p1, _ := m.Predict(x)
	p2, _ := m2.Predict(x)
	for i := range p1 {
		if p1[i] != p2[i] {
			t.Fatal("round trip changed a prediction")
		}
	}
	nan := &data.Matrix{Names: []string{"a"}, Cols: [][]float64{{1, math.NaN()}}, Categories: []int{0}}
	for name, tc := range map[string]struct {
		x    *data.Matrix
		y    []float64
		edit func(*Params)
		want string
	}{
		"empty":      {&data.Matrix{}, nil, nil, "no rows"},
		"one class":  {x, make([]float64, 300), nil, "one class"},
		"missing":    {nan, []float64{0, 1}, nil, "impute it"},
		"activation": {x, y, func(p *Params) { p.Activation = "gelu" }, "unknown activation"},
		"dropout":    {x, y, func(p *Params) { p.Dropout = 1 }, "invalid parameters"},
		"inf label":  {x, append([]float64{math.Inf(1)}, y[1:]...), nil, "label of row 0"},
	} {
		p := DefaultParams()
		if tc.edit != nil {
			tc.edit(&p)
		}
		if _, err := Train(context.Background(), tc.x, tc.y, nil, nil, p, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
}

// wide makes n rows shaped like the benchmark's one-hot encoded churn data:
// num standard normal columns and one-hot columns for categoricals of the
// given sizes, with a logistic label.
func wide(n, num int, levels []int, seed uint64) (*data.Matrix, []float64) {
	r := rand.New(rand.NewPCG(seed, 2))
	x := &data.Matrix{}
	for j := range num {
		x.Names = append(x.Names, fmt.Sprintf("x%d", j))
		x.Cols = append(x.Cols, make([]float64, n))
	}
	for c, k := range levels {
		for j := range k {
			x.Names = append(x.Names, fmt.Sprintf("c%d_%d", c, j))
			x.Cols = append(x.Cols, make([]float64, n))
		}
	}
	x.Categories = make([]int, len(x.Cols))
	y := make([]float64, n)
	for i := range n {
		z := -1.5
		for j := range num {
			v := r.NormFloat64()
			x.Cols[j][i] = v
			z += v * float64(j%3-1) * 0.5
		}
		col := num
		for _, k := range levels {
			l := r.IntN(k)
			x.Cols[col+l][i] = 1
			z += float64(l%3-1) * 0.3
			col += k
		}
		if r.Float64() < sigmoid(z) {
			y[i] = 1
		}
	}
	return x, y
}

// BenchmarkEpoch times one epoch: the benchmark's shape (900,000 rows,
// 12 numeric columns and 30 one-hot ones, one hidden layer of 100, batch
// 200, with a validation loss on 100,000 rows as `slipway train` computes),
// two hidden layers of 64 on 20 numeric columns, a wide net on XOR, and
// examples/churn's shape (3,600 rows, 73 columns).
func BenchmarkEpoch(b *testing.B) {
	for _, tc := range []struct {
		name        string
		rows, num   int
		levels      []int
		hidden      []int
		batch, vrow int
	}{
		{"bench-100", 900_000, 12, []int{4, 20, 6}, []int{100}, 200, 100_000},
		{"1M-64-64", 1_000_000, 20, nil, []int{64, 64}, 200, 0},
		{"xor-256-128", 100_000, 0, nil, []int{256, 128}, 256, 0},
		{"churn-shape", 3_600, 19, []int{51, 3}, []int{100}, 200, 400},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var x, vx *data.Matrix
			var y, vy []float64
			if tc.num == 0 {
				x, y = xor(tc.rows, 8)
			} else {
				x, y = wide(tc.rows, tc.num, tc.levels, 8)
			}
			if tc.vrow > 0 {
				vx, vy = wide(tc.vrow, tc.num, tc.levels, 9)
			}
			p := DefaultParams()
			p.Epochs, p.HiddenUnits, p.BatchSize, p.L2 = 1, tc.hidden, tc.batch, 0
			for b.Loop() {
				if _, err := Train(context.Background(), x, y, vx, vy, p, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func FuzzUnmarshal(f *testing.F) {
	x, y := xor(50, 9)
	p := DefaultParams()
	p.Epochs, p.HiddenUnits = 1, []int{3}
	m, _ := Train(context.Background(), x, y, nil, nil, p, nil)
	b, _ := m.MarshalBinary()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Unmarshal(b)
		if err != nil {
			return
		}
		in := &data.Matrix{Names: m.Names, Cols: make([][]float64, len(m.Names)), Categories: make([]int, len(m.Names))}
		for j := range in.Cols {
			in.Cols[j] = []float64{0.5}
		}
		_, _ = m.Predict(in) // must not panic
	})
}
