package gpumlp

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/slipway-ml/slipway/runners/train/data"
	"github.com/slipway-ml/slipway/runners/train/metrics"
	"github.com/slipway-ml/slipway/runners/train/mlp"
)

// trainEmulated is Train with the kernels emulated on the CPU.
func trainEmulated(ctx context.Context, opts Options, x *data.Matrix, y []float64, vx *data.Matrix, vy []float64, p mlp.Params, progress mlp.Progress) (*mlp.Model, error) {
	m, p, rng, err := mlp.Setup(x, y, vx, vy, p)
	if err != nil {
		return nil, err
	}
	return train(ctx, newEmulator(), opts, m, p, rng, x, y, vx, vy, progress)
}

// synthetic makes n rows of d numeric features and two indicator columns,
// with a label that depends on them nonlinearly (binary) or a smooth
// target (regression).
func synthetic(n, d int, seed uint64, task string) (*data.Matrix, []float64) {
	r := rand.New(rand.NewPCG(seed, 7))
	x := &data.Matrix{}
	for j := range d + 2 {
		x.Names = append(x.Names, "f"+strconv.Itoa(j))
		x.Cols = append(x.Cols, make([]float64, n))
		x.Categories = append(x.Categories, 0)
	}
	y := make([]float64, n)
	for i := range n {
		s := 0.0
		for j := range d {
			v := r.NormFloat64()*3 + float64(j)
			x.Cols[j][i] = v
			s += math.Sin(v-float64(j)) * float64(j%3+1)
		}
		if r.IntN(2) == 1 {
			x.Cols[d][i] = 1
			s += 0.5
		}
		if r.IntN(3) == 0 {
			x.Cols[d+1][i] = 1
			s -= 0.7
		}
		if task == "regression" {
			y[i] = s + r.NormFloat64()*0.1
		} else if s+r.NormFloat64()*0.5 > 0 {
			y[i] = 1
		}
	}
	return x, y
}

// emulatedGradient runs the emulated forward and backward passes over the
// rows of x in order as one batch and returns each layer's weight and bias
// gradient sums (in float64, from the split float32 sums) and the loss.
func emulatedGradient(t *testing.T, m *mlp.Model, x *data.Matrix, y []float64, p mlp.Params, key uint64) (gw, gb [][]float64, loss float64) {
	t.Helper()
	be := newEmulator()
	n := x.Rows()
	nt, err := newNet(be, m, p, Options{}, n)
	if err != nil {
		t.Fatal(err)
	}
	xs := m.Standardize(x)
	xb, _ := be.alloc(len(xs))
	yb, _ := be.alloc(n)
	pb, _ := be.alloc(n)
	out, _ := be.alloc(outputBlocks(n))
	xf, yf, perm := make([]float32, len(xs)), make([]float32, n), make([]int32, n)
	for i, v := range xs {
		xf[i] = float32(v)
	}
	for i := range n {
		yf[i], perm[i] = float32(y[i]), int32(i)
	}
	_ = be.write(ref{b: xb}, xf)
	_ = be.write(ref{b: yb}, yf)
	_ = be.writeInts(ref{b: pb}, perm)
	if err := nt.backprop(ref{b: xb}, ref{b: yb}, ref{b: pb}, 0, n, key, ref{b: out}, 0); err != nil {
		t.Fatal(err)
	}
	for l, layer := range m.Layers {
		s, _ := nt.split(l, n)
		size := (layer.In + 1) * layer.Out
		part := make([]float32, s*size)
		_ = be.read(part, nt.part[l])
		g := make([]float64, size)
		for z := range s {
			for i := range size {
				g[i] += float64(part[z*size+i])
			}
		}
		gw, gb = append(gw, g[:layer.In*layer.Out]), append(gb, g[layer.In*layer.Out:])
	}
	l := make([]float32, outputBlocks(n))
	_ = be.read(l, ref{b: out})
	for _, v := range l {
		loss += float64(v)
	}
	return gw, gb, loss
}

func relErr(got, want []float64) float64 {
	num, den := 0.0, 0.0
	for i := range want {
		num += (got[i] - want[i]) * (got[i] - want[i])
		den += want[i] * want[i]
	}
	return math.Sqrt(num / den)
}

// TestGradientMatchesCPU checks one emulated forward and backward pass
// against the CPU trainer's float64 gradients of the same weights, rows
// and dropout masks.
func TestGradientMatchesCPU(t *testing.T) {
	for _, tc := range []struct {
		name       string
		hidden     []int
		activation string
		task       string
		dropout    float64
		rows       int
	}{
		{"relu", []int{70, 33}, "relu", "binary", 0, 150},
		{"relu-dropout", []int{64, 65}, "relu", "binary", 0.3, 200},
		{"tanh-dropout", []int{40}, "tanh", "binary", 0.2, 97},
		{"sigmoid", []int{17, 5, 9}, "sigmoid", "binary", 0, 130},
		{"regression", []int{30, 20}, "relu", "regression", 0.1, 300},
		{"wide-batch", []int{256, 256}, "relu", "binary", 0, 1100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, y := synthetic(tc.rows, 9, 11, tc.task)
			p := mlp.DefaultParams()
			p.HiddenUnits, p.Activation, p.Task, p.Dropout, p.Seed = tc.hidden, tc.activation, tc.task, tc.dropout, 5
			m, p, _, err := mlp.Setup(x, y, nil, nil, p)
			if err != nil {
				t.Fatal(err)
			}
			key := uint64(3)<<32 | 200
			wantW, wantB, wantLoss := mlp.Gradient(m, x, y, p, key)
			gotW, gotB, gotLoss := emulatedGradient(t, m, x, y, p, key)
			for l := range wantW {
				t.Logf("layer %d: relative error %.2g (weights), %.2g (biases)", l, relErr(gotW[l], wantW[l]), relErr(gotB[l], wantB[l]))
				if e := relErr(gotW[l], wantW[l]); !(e < 1e-4) {
					t.Errorf("layer %d weights: relative error %.3g, want < 1e-4", l, e)
				}
				if e := relErr(gotB[l], wantB[l]); !(e < 1e-4) {
					t.Errorf("layer %d biases: relative error %.3g, want < 1e-4", l, e)
				}
			}
			if e := math.Abs(gotLoss-wantLoss) / wantLoss; !(e < 1e-5) {
				t.Errorf("loss %v, want %v (relative error %.3g)", gotLoss, wantLoss, e)
			}
		})
	}
}

// split divides rows into a training and a held-out part, every fifth row
// held out.
func split(x *data.Matrix, y []float64) (tx *data.Matrix, ty []float64, hx *data.Matrix, hy []float64) {
	var tr, ho []int
	for i := range y {
		if i%5 == 4 {
			ho = append(ho, i)
		} else {
			tr = append(tr, i)
		}
	}
	pick := func(idx []int) []float64 {
		out := make([]float64, len(idx))
		for i, r := range idx {
			out[i] = y[r]
		}
		return out
	}
	return x.Subset(tr), pick(tr), x.Subset(ho), pick(ho)
}

func auc(t *testing.T, m *mlp.Model, x *data.Matrix, y []float64) float64 {
	t.Helper()
	pred, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	a, err := metrics.ROCAUC(y, pred)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// churn reads the example churn data: numeric columns as they are, yes/no
// columns as indicators and the area code one-hot.
func churn(t *testing.T) (*data.Matrix, []float64) {
	t.Helper()
	f, err := os.Open("../../../../examples/churn/data/churn.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head, rows := recs[0], recs[1:]
	x := &data.Matrix{}
	add := func(name string, col []float64) {
		x.Names, x.Cols, x.Categories = append(x.Names, name), append(x.Cols, col), append(x.Categories, 0)
	}
	var y []float64
	for j, name := range head {
		switch name {
		case "state":
			continue
		case "area_code":
			for _, code := range []string{"area_code_408", "area_code_415", "area_code_510"} {
				col := make([]float64, len(rows))
				for i, r := range rows {
					if r[j] == code {
						col[i] = 1
					}
				}
				add(code, col)
			}
			continue
		}
		col := make([]float64, len(rows))
		for i, r := range rows {
			switch r[j] {
			case "yes":
				col[i] = 1
			case "no":
			default:
				if col[i], err = strconv.ParseFloat(r[j], 64); err != nil {
					t.Fatalf("row %d column %s: %v", i, name, err)
				}
			}
		}
		if name == "churn" {
			y = col
			continue
		}
		add(name, col)
	}
	return x, y
}

// TestMatchesCPUTrainer trains the CPU network and the emulated device one
// with the same parameters and seed and compares their held-out ROC AUC.
func TestMatchesCPUTrainer(t *testing.T) {
	sx, sy := synthetic(3000, 6, 21, "binary")
	cx, cy := churn(t)
	for _, tc := range []struct {
		name string
		x    *data.Matrix
		y    []float64
		set  func(p *mlp.Params)
		min  float64
	}{
		{"synthetic", sx, sy, func(p *mlp.Params) { p.HiddenUnits, p.Epochs, p.BatchSize = []int{32, 16}, 25, 128 }, 0.65},
		{"churn", cx, cy, func(p *mlp.Params) { p.HiddenUnits, p.Epochs = []int{32}, 30 }, 0.82},
		{"churn-dropout", cx, cy, func(p *mlp.Params) { p.HiddenUnits, p.Epochs, p.Dropout = []int{48, 24}, 20, 0.2 }, 0.82},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tx, ty, hx, hy := split(tc.x, tc.y)
			vx, vy, hx, hy := split(hx, hy)
			p := mlp.DefaultParams()
			p.Seed = 1
			tc.set(&p)
			cpu, err := mlp.Train(context.Background(), tx, ty, vx, vy, p, nil)
			if err != nil {
				t.Fatal(err)
			}
			emu, err := trainEmulated(context.Background(), Options{}, tx, ty, vx, vy, p, nil)
			if err != nil {
				t.Fatal(err)
			}
			a, b := auc(t, cpu, hx, hy), auc(t, emu, hx, hy)
			t.Logf("held-out ROC AUC: CPU %.4f, emulated device %.4f (epochs %d/%d, best %d/%d)", a, b, cpu.Epochs, emu.Epochs, cpu.BestEpoch, emu.BestEpoch)
			if math.Abs(a-b) > 0.002 {
				t.Errorf("ROC AUC %.4f on the emulated device, %.4f on the CPU: differ by more than 0.002", b, a)
			}
			if b < tc.min {
				t.Errorf("ROC AUC %.4f, want ≥ %.2f", b, tc.min)
			}
		})
	}
}

// TestTF32Emulated trains on churn with the tensor-core variant's
// arithmetic emulated: tf32 operands cost a little precision, not the
// model's quality.
func TestTF32Emulated(t *testing.T) {
	cx, cy := churn(t)
	tx, ty, hx, hy := split(cx, cy)
	vx, vy, hx, hy := split(hx, hy)
	p := mlp.DefaultParams()
	p.Seed, p.HiddenUnits, p.Epochs = 1, []int{32}, 30
	cpu, err := mlp.Train(context.Background(), tx, ty, vx, vy, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	emu, err := trainEmulated(context.Background(), Options{TF32: true}, tx, ty, vx, vy, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := auc(t, cpu, hx, hy), auc(t, emu, hx, hy)
	t.Logf("held-out ROC AUC: CPU %.4f, emulated tf32 %.4f", a, b)
	if math.Abs(a-b) > 0.01 {
		t.Errorf("ROC AUC %.4f with tf32, %.4f on the CPU: differ by more than 0.01", b, a)
	}
	f32, err := trainEmulated(context.Background(), Options{}, tx, ty, vx, vy, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if w0, w1 := f32.Layers[0].W, emu.Layers[0].W; slices.Equal(w0, w1) {
		t.Error("tf32 and float32 training gave the same weights: the operands were not rounded")
	}
}

func TestRegressionLearns(t *testing.T) {
	x, y := synthetic(2000, 4, 8, "regression")
	p := mlp.DefaultParams()
	p.Task, p.HiddenUnits, p.Epochs, p.LearningRate = "regression", []int{32}, 40, 0.01
	var first, last float64
	m, err := trainEmulated(context.Background(), Options{}, x, y, nil, nil, p, func(epoch int, train, valid float64) {
		if epoch == 1 {
			first = train
		}
		last = train
		if !math.IsNaN(valid) {
			t.Errorf("epoch %d: validation loss %v without a validation set", epoch, valid)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if !(last < first/2) {
		t.Errorf("training loss went from %v to %v, want half or less", first, last)
	}
	if m.BestEpoch != m.Epochs || m.Task != "regression" {
		t.Errorf("best epoch %d of %d, task %q", m.BestEpoch, m.Epochs, m.Task)
	}
}

func TestDeterministic(t *testing.T) {
	x, y := synthetic(600, 5, 3, "binary")
	vx, vy := synthetic(200, 5, 4, "binary")
	p := mlp.DefaultParams()
	p.HiddenUnits, p.Epochs, p.Dropout, p.BatchSize = []int{20, 10}, 6, 0.25, 64
	var out [][]byte
	for range 2 {
		m, err := trainEmulated(context.Background(), Options{}, x, y, vx, vy, p, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	if !bytes.Equal(out[0], out[1]) {
		t.Error("two runs with one seed gave different models")
	}
	p.Seed++
	m, err := trainEmulated(context.Background(), Options{}, x, y, vx, vy, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := m.MarshalBinary(); bytes.Equal(b, out[0]) {
		t.Error("another seed gave the same model")
	}
}

// TestRefusesLikeCPU checks that bad inputs and parameters are refused
// with the CPU trainer's errors, before any device is needed.
func TestRefusesLikeCPU(t *testing.T) {
	x, y := synthetic(50, 2, 1, "binary")
	ones := make([]float64, len(y))
	for i := range ones {
		ones[i] = 1
	}
	for _, tc := range []struct {
		name string
		y    []float64
		set  func(p *mlp.Params)
		want string
	}{
		{"no hidden layers", y, func(p *mlp.Params) { p.HiddenUnits = nil }, "invalid parameters"},
		{"zero width", y, func(p *mlp.Params) { p.HiddenUnits = []int{4, 0} }, "width 0"},
		{"batch", y, func(p *mlp.Params) { p.BatchSize = 0 }, "invalid parameters"},
		{"dropout", y, func(p *mlp.Params) { p.Dropout = 1 }, "invalid parameters"},
		{"learning rate", y, func(p *mlp.Params) { p.LearningRate = math.NaN() }, "invalid parameters"},
		{"activation", y, func(p *mlp.Params) { p.Activation = "gelu" }, `unknown activation "gelu"`},
		{"task", y, func(p *mlp.Params) { p.Task = "multiclass" }, `unknown task "multiclass"`},
		{"one class", ones, func(p *mlp.Params) {}, "one class"},
		{"labels", y[:10], func(p *mlp.Params) {}, "10 labels for 50 rows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := mlp.DefaultParams()
			tc.set(&p)
			_, cpuErr := mlp.Train(context.Background(), x, tc.y, nil, nil, p, nil)
			_, gpuErr := Train(context.Background(), nil, x, tc.y, nil, nil, p, nil)
			if cpuErr == nil || gpuErr == nil || gpuErr.Error() != cpuErr.Error() || !strings.Contains(gpuErr.Error(), tc.want) {
				t.Errorf("got %v, want the CPU trainer's %v (containing %q)", gpuErr, cpuErr, tc.want)
			}
		})
	}
	p := mlp.DefaultParams()
	if _, err := Train(context.Background(), nil, x, y, nil, nil, p, nil); err == nil || !strings.Contains(err.Error(), "no CUDA context") {
		t.Errorf("without a context: got %v", err)
	}
}

func TestCancel(t *testing.T) {
	x, y := synthetic(400, 3, 2, "binary")
	ctx, cancel := context.WithCancel(context.Background())
	p := mlp.DefaultParams()
	p.Epochs = 50
	_, err := trainEmulated(ctx, Options{}, x, y, nil, nil, p, func(epoch int, _, _ float64) {
		if epoch == 2 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want the cancellation", err)
	}
}
