package mlp

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/slipway-ml/slipway/runners/train/data"
)

// TestGradient checks the back-propagated gradients against central
// differences of the summed loss, for every activation and task, on
// numeric and indicator inputs.
func TestGradient(t *testing.T) {
	for _, tc := range []struct {
		act, task string
		hidden    []int
		dropout   float64
	}{
		{"relu", "binary", []int{5, 4}, 0}, {"relu", "regression", []int{5, 4}, 0},
		{"tanh", "binary", []int{5, 4}, 0}, {"tanh", "regression", []int{1, 3}, 0},
		{"sigmoid", "binary", []int{1, 3}, 0}, {"sigmoid", "regression", []int{5, 4}, 0},
		{"relu", "binary", []int{6, 5}, 0.3}, {"tanh", "regression", []int{6, 5}, 0.3},
		{"sigmoid", "binary", []int{6, 1}, 0.2},
	} {
		act, task := tc.act, tc.task
		t.Run(fmt.Sprintf("%s/%s/%v/dropout=%v", act, task, tc.hidden, tc.dropout), func(t *testing.T) {
			x, y := wide(37, 2, []int{3, 2}, 10)
			if task == "regression" {
				for i := range y {
					y[i] = x.Cols[0][i]*x.Cols[1][i] + x.Cols[2][i]
				}
			}
			p := DefaultParams()
			p.HiddenUnits, p.Activation, p.Task, p.BatchSize, p.Dropout = tc.hidden, act, task, 37, tc.dropout
			m, ind := newModel(x, p, rand.New(rand.NewPCG(1, 2)))
			tr := newTrainer(m, p, 2, evalRows, ind)
			defer tr.close()
			d := len(x.Cols)
			rows := m.rowMajor(x, 2)
			batch := make([]int, len(y))
			for i := range batch {
				batch[i] = len(y) - 1 - i
			}
			tr.backprop(rows, y, batch, 0)
			for w, part := range tr.parts {
				if tr.first[w][0] < tr.first[w][1] {
					tr.indicatorGradient(tr.first[w][0], tr.first[w][1])
				}
				for _, u := range part {
					tr.gradient(u)
				}
			}
			// The loss with the dropout masks the step drew.
			total := func() float64 {
				s := 0.0
				for r, i := range batch {
					in := rows[i*d : (i+1)*d]
					for l, layer := range m.Layers {
						out := make([]float64, layer.Out)
						for k := range out {
							z := layer.B[k]
							for j, v := range in {
								z += v * layer.W[j*layer.Out+k]
							}
							if l+1 < len(m.Layers) {
								z = m.activate(z)
								if keep := tr.ls[l].keep; keep != nil {
									z *= keep[r][k]
								}
							}
							out[k] = z
						}
						in = out
					}
					s += m.pointLoss(in[0], y[i])
				}
				return s
			}
			numeric := func(v *float64) float64 {
				const h = 1e-6
				old := *v
				*v = old + h
				up := total()
				*v = old - h
				down := total()
				*v = old
				return (up - down) / (2 * h)
			}
			check := func(what string, got, want float64) {
				if math.Abs(got-want) > 1e-5*math.Max(1, math.Abs(want)) {
					t.Errorf("%s: gradient %v, central difference %v", what, got, want)
				}
			}
			for l := range m.Layers {
				layer, s := &m.Layers[l], &tr.ls[l]
				for k := range layer.Out {
					for j := range s.wt[k] {
						i := s.col(j)
						check(fmt.Sprintf("layer %d weight %d,%d", l, i, k), s.gw[k][j], numeric(&layer.W[i*layer.Out+k]))
					}
					check(fmt.Sprintf("layer %d bias %d", l, k), s.gb[k], numeric(&layer.B[k]))
				}
			}
			if len(tr.ind) != 5 || len(tr.dense) != 2 {
				t.Fatalf("%d indicator and %d dense inputs, want 5 and 2", len(tr.ind), len(tr.dense))
			}
			for j, i := range tr.ind {
				for k := range m.Layers[0].Out {
					check(fmt.Sprintf("indicator %d weight %d", i, k), tr.gInd[j][k], numeric(&m.Layers[0].W[i*m.Layers[0].Out+k]))
				}
			}
		})
	}
}

// TestStepAllocatesNothing checks a minibatch step reuses its buffers.
func TestStepAllocatesNothing(t *testing.T) {
	x, y := wide(500, 4, []int{3}, 3)
	p := DefaultParams()
	p.HiddenUnits, p.BatchSize, p.Dropout = []int{6, 5}, 64, 0.1
	m, ind := newModel(x, p, rand.New(rand.NewPCG(1, 2)))
	tr := newTrainer(m, p, 2, evalRows, ind)
	defer tr.close()
	rows := m.rowMajor(x, 2)
	batch := make([]int, 64)
	for i := range batch {
		batch[i] = (i * 7) % len(y)
	}
	if n := testing.AllocsPerRun(20, func() { tr.step(rows, y, batch, 1) }); n != 0 {
		t.Fatalf("a step allocates %v times, want 0", n)
	}
}

// TestThreadsShapes checks byte-identical models for 1, 2, 3 and 7 threads
// over activations, tasks, dropout, batch sizes that no thread count
// divides and a validation set.
func TestThreadsShapes(t *testing.T) {
	for _, tc := range []struct {
		act, task string
		hidden    []int
		batch     int
		dropout   float64
		num       int
		levels    []int
	}{
		{"relu", "binary", []int{7}, 29, 0, 3, []int{4}},
		{"tanh", "regression", []int{4, 9}, 50, 0.3, 3, []int{4}},
		{"sigmoid", "binary", []int{1, 3}, 13, 0.1, 3, []int{4}},
		{"relu", "binary", []int{10, 10, 2}, 200, 0.2, 3, []int{4}},
		{"relu", "binary", []int{8, 1}, 31, 0, 5, nil},
		{"tanh", "regression", []int{6}, 40, 0.1, 0, []int{3, 5}},
	} {
		t.Run(fmt.Sprintf("%s/%s/%v/%d/%d+%v", tc.act, tc.task, tc.hidden, tc.batch, tc.num, tc.levels), func(t *testing.T) {
			x, y := wide(400, tc.num, tc.levels, 11)
			vx, vy := wide(90, tc.num, tc.levels, 12)
			if tc.task == "regression" {
				for i := range y {
					y[i] = x.Cols[0][i] - x.Cols[1][i]
				}
				for i := range vy {
					vy[i] = vx.Cols[0][i] - vx.Cols[1][i]
				}
			}
			var first []byte
			var losses []float64
			for _, threads := range []int{1, 2, 3, 7} {
				p := DefaultParams()
				p.Activation, p.Task, p.HiddenUnits, p.BatchSize, p.Dropout = tc.act, tc.task, tc.hidden, tc.batch, tc.dropout
				p.Epochs, p.Threads, p.LearningRate = 4, threads, 0.01
				var last float64
				m, err := Train(context.Background(), x, y, vx, vy, p, func(_ int, _, v float64) { last = v })
				if err != nil {
					t.Fatal(err)
				}
				b, _ := m.MarshalBinary()
				losses = append(losses, last)
				if first == nil {
					first = b
				} else if !bytes.Equal(first, b) {
					t.Fatalf("%d threads: model differs from 1 thread's", threads)
				}
			}
			for _, l := range losses[1:] {
				if l != losses[0] || math.IsNaN(l) {
					t.Fatalf("validation losses %v differ between thread counts", losses)
				}
			}
		})
	}
}

// TestInputs checks indicator columns are kept as they are and the others
// standardised, and that the initial weights follow PyTorch's bound.
func TestInputs(t *testing.T) {
	x := &data.Matrix{Names: []string{"num", "flag", "zero"}, Cols: [][]float64{{1, 2, 3, 6}, {0, 1, 1, 0}, {0, 0, 0, 0}}, Categories: []int{0, 0, 0}}
	p := DefaultParams()
	p.HiddenUnits = []int{400}
	m, ind := newModel(x, p, rand.New(rand.NewPCG(3, 4)))
	wantMean, wantScale := []float64{3, 0, 0}, []float64{math.Sqrt(3.5), 1, 1}
	if !reflect.DeepEqual(ind, []bool{false, true, true}) {
		t.Errorf("indicators %v, want [false true true]", ind)
	}
	for j := range wantMean {
		if math.Abs(m.Mean[j]-wantMean[j]) > 1e-12 || math.Abs(m.Scale[j]-wantScale[j]) > 1e-12 {
			t.Errorf("column %s: mean %v scale %v, want %v and %v", x.Names[j], m.Mean[j], m.Scale[j], wantMean[j], wantScale[j])
		}
	}
	for l, layer := range m.Layers {
		bound, top := 1/math.Sqrt(float64(layer.In)), 0.0
		for _, w := range append(append([]float64(nil), layer.W...), layer.B...) {
			if math.Abs(w) > bound {
				t.Fatalf("layer %d: initial weight %v outside ±%v", l, w, bound)
			}
			top = math.Max(top, math.Abs(w))
		}
		if top < 0.9*bound {
			t.Errorf("layer %d: largest initial weight %v, want near the bound %v", l, top, bound)
		}
	}
}
