package logistic

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/slipway-ml/slipway/runners/train/data"
)

// lcg is the generator testdata/sklearn_ref.py uses, so both sides see the
// same data without a data file.
type lcg struct{ state uint64 }

func (r *lcg) next() float64 {
	r.state = r.state*6364136223846793005 + 1442695040888963407
	return float64(r.state>>11) / float64(uint64(1)<<53)
}

func dataset(n, d int, seed uint64) (*data.Matrix, []float64) {
	r := &lcg{state: seed}
	x := &data.Matrix{Cols: make([][]float64, d), Categories: make([]int, d)}
	for j := range d {
		x.Cols[j] = make([]float64, n)
		x.Names = append(x.Names, "x"+string(rune('a'+j)))
	}
	w := make([]float64, d)
	for j := range d {
		w[j] = 0.7 * float64(j+1) * math.Pow(-1, float64(j))
	}
	y := make([]float64, n)
	for i := range n {
		eta := 0.3
		for j := range d {
			v := (r.next()-0.5)*float64(j+1)*3 + float64(j)
			x.Cols[j][i] = v
			eta += w[j] * (v - float64(j)) / float64(j+1)
		}
		if r.next() < 1/(1+math.Exp(-eta)) {
			y[i] = 1
		}
	}
	return x, y
}

type ref struct {
	Name        string    `json:"name"`
	N           int       `json:"n"`
	D           int       `json:"d"`
	Seed        uint64    `json:"seed"`
	C           float64   `json:"C"`
	L1Ratio     float64   `json:"l1_ratio"`
	ClassWeight string    `json:"class_weight"`
	Coef        []float64 `json:"coef"`
	Intercept   float64   `json:"intercept"`
}

// TestScikitLearn compares both solvers with scikit-learn's coefficients,
// recorded by testdata/sklearn_ref.py.
func TestScikitLearn(t *testing.T) {
	raw, err := os.ReadFile("testdata/sklearn_ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var refs []ref
	if err := json.Unmarshal(raw, &refs); err != nil {
		t.Fatal(err)
	}
	for _, rf := range refs {
		for _, solver := range []string{"lbfgs", "newton"} {
			if rf.L1Ratio > 0 && solver == "newton" {
				continue // an L1 part needs lbfgs (OWL-QN)
			}
			t.Run(rf.Name+"/"+solver, func(t *testing.T) {
				x, y := dataset(rf.N, rf.D, rf.Seed)
				p := DefaultParams()
				p.C, p.Solver, p.Tol, p.MaxIter, p.ClassWeight, p.L1Ratio = rf.C, solver, 1e-8, 1000, rf.ClassWeight, rf.L1Ratio
				m, err := Train(context.Background(), x, y, p)
				if err != nil {
					t.Fatal(err)
				}
				if !m.Converged {
					t.Errorf("did not converge in %d iterations", m.Iterations)
				}
				for j, want := range rf.Coef {
					if want == 0 && m.Coef[j] != 0 {
						t.Errorf("coef[%d] = %v; the L1 part should make it exactly 0, as scikit-learn's is", j, m.Coef[j])
					}
					if math.Abs(m.Coef[j]-want) > 1e-5*math.Max(1, math.Abs(want)) {
						t.Errorf("coef[%d] = %.9f, scikit-learn %.9f", j, m.Coef[j], want)
					}
				}
				if math.Abs(m.Intercept-rf.Intercept) > 1e-5*math.Max(1, math.Abs(rf.Intercept)) {
					t.Errorf("intercept = %.9f, scikit-learn %.9f", m.Intercept, rf.Intercept)
				}
			})
		}
	}
}

// TestDeterministic checks that the thread count does not change the model.
func TestDeterministic(t *testing.T) {
	x, y := dataset(20000, 6, 9)
	var out [][]byte
	for _, threads := range []int{1, 2, 7} {
		p := DefaultParams()
		p.Threads = threads
		m, err := Train(context.Background(), x, y, p)
		if err != nil {
			t.Fatal(err)
		}
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	for i := 1; i < len(out); i++ {
		if !bytes.Equal(out[0], out[i]) {
			t.Fatalf("model with threads #%d differs", i)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	x, y := dataset(300, 3, 4)
	m, err := Train(context.Background(), x, y, DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	p1, _ := m.Predict(x)
	p2, _ := m2.Predict(x)
	for i := range p1 {
		if p1[i] != p2[i] {
			t.Fatalf("row %d: %v then %v", i, p1[i], p2[i])
		}
	}
	for _, bad := range []string{`{"version":2}`, `{"version":1,"names":["a"],"coef":[]}`, `not json`} {
		if _, err := Unmarshal([]byte(bad)); err == nil {
			t.Errorf("Unmarshal(%s) accepted", bad)
		}
	}
}

func TestBadInput(t *testing.T) {
	x, y := dataset(50, 2, 5)
	nan := &data.Matrix{Names: []string{"a"}, Cols: [][]float64{{1, math.NaN(), 3}}, Categories: []int{0}}
	cat := &data.Matrix{Names: []string{"a"}, Cols: [][]float64{{0, 1, 0}}, Categories: []int{2}}
	tests := []struct {
		name string
		x    *data.Matrix
		y    []float64
		p    func(*Params)
		want string
	}{
		{"empty", &data.Matrix{}, nil, nil, "no training rows"},
		{"length", x, y[:10], nil, "10 labels for 50 rows"},
		{"one class", x, make([]float64, 50), nil, "one class"},
		{"label", x, append([]float64{2}, y[1:]...), nil, "want 0 or 1"},
		{"missing", nan, []float64{0, 1, 0}, nil, "impute it"},
		{"categorical", cat, []float64{0, 1, 0}, nil, "one-hot encode"},
		{"C", x, y, func(p *Params) { p.C = 0 }, "C must be positive"},
		{"solver", x, y, func(p *Params) { p.Solver = "sag" }, "unknown solver"},
		{"l1 ratio", x, y, func(p *Params) { p.L1Ratio = 1.5 }, "l1Ratio must be between 0 and 1"},
		{"l1 newton", x, y, func(p *Params) { p.L1Ratio, p.Solver = 0.5, "newton" }, "needs the lbfgs solver"},
	}
	for _, tt := range tests {
		p := DefaultParams()
		if tt.p != nil {
			tt.p(&p)
		}
		_, err := Train(context.Background(), tt.x, tt.y, p)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

// TestConstantColumn checks that a constant feature gets coefficient 0
// rather than NaN.
func TestConstantColumn(t *testing.T) {
	x, y := dataset(300, 2, 6)
	x.Names = append(x.Names, "const")
	x.Categories = append(x.Categories, 0)
	c := make([]float64, 300)
	for i := range c {
		c[i] = 5
	}
	x.Cols = append(x.Cols, c)
	m, err := Train(context.Background(), x, y, DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	if m.Coef[2] != 0 || math.IsNaN(m.Intercept) {
		t.Fatalf("constant column: coef %v intercept %v", m.Coef[2], m.Intercept)
	}
}

func BenchmarkTrain(b *testing.B) {
	x, y := dataset(200000, 20, 7)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Train(context.Background(), x, y, DefaultParams()); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzUnmarshal(f *testing.F) {
	f.Add([]byte(`{"version":1,"names":["a"],"coef":[1],"intercept":0.5}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Unmarshal(b)
		if err != nil {
			return
		}
		x := &data.Matrix{Names: m.Names, Cols: make([][]float64, len(m.Names)), Categories: make([]int, len(m.Names))}
		for j := range x.Cols {
			x.Cols[j] = []float64{1}
		}
		if _, err := m.Predict(x); err != nil && len(m.Names) > 0 {
			t.Fatalf("a decoded model cannot predict: %v", err)
		}
	})
}
