// Package mlp trains a multi-layer perceptron: hidden layers with ReLU
// (or tanh, sigmoid) activations, Adam on minibatches, L2 weight decay,
// inverted dropout and early stopping, with scikit-learn's MLPClassifier
// defaults. Inputs are standardised inside the model. Training is seeded and
// deterministic: gradients are summed over fixed row chunks in a fixed order
// whatever the number of threads.
package mlp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/slipway-ml/slipway/runners/train/data"
)

// Params configure training; start from DefaultParams.
type Params struct {
	// HiddenUnits is the width of each hidden layer.
	HiddenUnits []int
	// Activation of the hidden layers: "relu", "tanh" or "sigmoid".
	Activation string
	// Dropout is the share of hidden units dropped while training.
	Dropout float64
	// L2 is the weight decay (scikit-learn's alpha).
	L2 float64
	// BatchSize is the minibatch size.
	BatchSize int
	// LearningRate is Adam's step size.
	LearningRate float64
	// Epochs bounds the passes over the training rows.
	Epochs int
	// EarlyStoppingRounds stops after this many epochs without an
	// improvement of at least Tol in the validation loss (or the training
	// loss when there is no validation set).
	EarlyStoppingRounds int
	// Tol is the improvement that counts.
	Tol float64
	// Task is "binary" or "regression".
	Task string
	// Seed makes training reproducible.
	Seed uint64
	// Threads bounds parallelism; 0 means GOMAXPROCS.
	Threads int
}

// DefaultParams are scikit-learn's MLPClassifier defaults: one hidden layer
// of 100 ReLU units, Adam with step 0.001, batch 200, alpha 1e-4, 200
// epochs, 10 epochs without an improvement of 1e-4 to stop.
func DefaultParams() Params {
	return Params{HiddenUnits: []int{100}, Activation: "relu", L2: 1e-4, BatchSize: 200,
		LearningRate: 1e-3, Epochs: 200, EarlyStoppingRounds: 10, Tol: 1e-4, Task: "binary", Seed: 42}
}

// Layer is one dense layer: out = act(in·W + B), W row-major in×out.
type Layer struct {
	// In and Out are the layer's input and output widths.
	In, Out int
	// W holds In×Out weights, row-major.
	W []float64
	// B holds Out biases.
	B []float64
}

// Model is a trained network.
type Model struct {
	// Version of the serialised form.
	Version int `json:"version"`
	// Names of the input features.
	Names []string `json:"names"`
	// Mean and Scale standardise the inputs.
	Mean, Scale []float64
	// Layers, the last one producing one output.
	Layers []Layer `json:"layers"`
	// Activation of the hidden layers.
	Activation string `json:"activation"`
	// Task is "binary" (sigmoid output) or "regression" (identity).
	Task string `json:"task"`
	// Epochs run, and the epoch whose weights were kept.
	Epochs, BestEpoch int
	// InputWeight is the summed magnitude of each feature's first-layer
	// weights (on standardised inputs), the network's feature importance.
	InputWeight map[string]float64 `json:"inputWeight"`
}

// Importance returns each feature's summed first-layer weight magnitude.
func (m *Model) Importance() map[string]float64 { return m.InputWeight }

const formatVersion = 1

// chunkRows is the row chunk whose gradients one worker computes; chunks
// are summed in order.
const chunkRows = 32

// Progress is called after every epoch with the training and validation
// loss (NaN when there is no validation set).
type Progress func(epoch int, trainLoss, validLoss float64)

// Train fits the network on x (no missing values, no categorical columns)
// and labels y (0/1 for binary, real for regression). valid may be nil.
func Train(ctx context.Context, x *data.Matrix, y []float64, vx *data.Matrix, vy []float64, p Params, progress Progress) (*Model, error) {
	if err := validate(x, y, p); err != nil {
		return nil, fmt.Errorf("mlp: %w", err)
	}
	if vx != nil {
		if err := validate(vx, vy, p); err != nil {
			return nil, fmt.Errorf("mlp: validation set: %w", err)
		}
	}
	threads := p.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	n, d := x.Rows(), len(x.Cols)
	m := &Model{Version: formatVersion, Names: append([]string(nil), x.Names...), Activation: p.Activation, Task: p.Task,
		Mean: make([]float64, d), Scale: make([]float64, d)}
	for j, c := range x.Cols {
		mu, sd := 0.0, 0.0
		for _, v := range c {
			mu += v
		}
		mu /= float64(n)
		for _, v := range c {
			sd += (v - mu) * (v - mu)
		}
		sd = math.Sqrt(sd / float64(n))
		if sd == 0 {
			sd = 1
		}
		m.Mean[j], m.Scale[j] = mu, sd
	}
	rows := m.rowMajor(x)
	var vrows []float64
	if vx != nil {
		vrows = m.rowMajor(vx)
	}
	rng := rand.New(rand.NewPCG(p.Seed, 0x6d6c70))
	widths := append(append([]int{d}, p.HiddenUnits...), 1)
	for l := 0; l+1 < len(widths); l++ {
		in, out := widths[l], widths[l+1]
		factor := 6.0
		if p.Activation == "sigmoid" || l+2 == len(widths) && p.Task == "binary" {
			factor = 2
		}
		bound := math.Sqrt(factor / float64(in+out))
		layer := Layer{In: in, Out: out, W: make([]float64, in*out), B: make([]float64, out)}
		for i := range layer.W {
			layer.W[i] = (rng.Float64()*2 - 1) * bound
		}
		for i := range layer.B {
			layer.B[i] = (rng.Float64()*2 - 1) * bound
		}
		m.Layers = append(m.Layers, layer)
	}
	t := newTrainer(m, p, threads)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	best, bestLoss, stale := cloneLayers(m.Layers), math.Inf(1), 0
	for epoch := 1; epoch <= p.Epochs; epoch++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("mlp: %w", err)
		}
		rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
		trainLoss := 0.0
		for start := 0; start < n; start += p.BatchSize {
			batch := order[start:min(start+p.BatchSize, n)]
			trainLoss += t.step(rows, y, batch, uint64(epoch)<<32|uint64(start))
		}
		trainLoss /= float64(n)
		validLoss := math.NaN()
		watch := trainLoss
		if vx != nil {
			validLoss = m.loss(vrows, vy)
			watch = validLoss
		}
		if progress != nil {
			progress(epoch, trainLoss, validLoss)
		}
		m.Epochs = epoch
		if watch < bestLoss-p.Tol {
			bestLoss, stale, m.BestEpoch = watch, 0, epoch
			best = cloneLayers(m.Layers)
		} else if stale++; p.EarlyStoppingRounds > 0 && stale >= p.EarlyStoppingRounds {
			break
		}
	}
	if vx != nil {
		m.Layers = best
	} else {
		m.BestEpoch = m.Epochs
	}
	m.InputWeight = map[string]float64{}
	first := m.Layers[0]
	for j, name := range m.Names {
		s := 0.0
		for k := range first.Out {
			s += math.Abs(first.W[j*first.Out+k])
		}
		m.InputWeight[name] = s
	}
	return m, nil
}

func validate(x *data.Matrix, y []float64, p Params) error {
	if x == nil || x.Rows() == 0 {
		return errors.New("no rows")
	}
	if err := x.Validate(); err != nil {
		return err
	}
	if len(y) != x.Rows() {
		return fmt.Errorf("%d labels for %d rows", len(y), x.Rows())
	}
	if len(p.HiddenUnits) == 0 || p.BatchSize < 1 || p.Epochs < 1 || !(p.LearningRate > 0) || p.Dropout < 0 || p.Dropout >= 1 || p.L2 < 0 {
		return errors.New("invalid parameters: need hidden layers, batchSize ≥ 1, epochs ≥ 1, learningRate > 0, 0 ≤ dropout < 1, l2 ≥ 0")
	}
	for _, u := range p.HiddenUnits {
		if u < 1 {
			return fmt.Errorf("hidden layer width %d must be at least 1", u)
		}
	}
	switch p.Activation {
	case "relu", "tanh", "sigmoid":
	default:
		return fmt.Errorf("unknown activation %q", p.Activation)
	}
	var seen [2]bool
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("label of row %d is %v", i, v)
		}
		if p.Task == "binary" {
			if v != 0 && v != 1 {
				return fmt.Errorf("label of row %d is %v; want 0 or 1", i, v)
			}
			seen[int(v)] = true
		}
	}
	switch p.Task {
	case "binary":
		if !seen[0] || !seen[1] {
			return errors.New("the labels hold one class only; a classifier needs both")
		}
	case "regression":
	default:
		return fmt.Errorf("unknown task %q", p.Task)
	}
	for j, c := range x.Cols {
		if x.Categories[j] > 0 {
			return fmt.Errorf("feature %s is categorical: one-hot encode it for an mlp", x.Names[j])
		}
		for i, v := range c {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("feature %s row %d is missing or infinite: impute it for an mlp", x.Names[j], i)
			}
		}
	}
	return nil
}

// rowMajor standardises x into a row-major array.
func (m *Model) rowMajor(x *data.Matrix) []float64 {
	n, d := x.Rows(), len(x.Cols)
	out := make([]float64, n*d)
	for j, c := range x.Cols {
		mu, sd := m.Mean[j], m.Scale[j]
		for i, v := range c {
			out[i*d+j] = (v - mu) / sd
		}
	}
	return out
}

func cloneLayers(ls []Layer) []Layer {
	out := make([]Layer, len(ls))
	for i, l := range ls {
		out[i] = Layer{In: l.In, Out: l.Out, W: append([]float64(nil), l.W...), B: append([]float64(nil), l.B...)}
	}
	return out
}

func (m *Model) activate(v float64) float64 {
	switch m.Activation {
	case "tanh":
		return math.Tanh(v)
	case "sigmoid":
		return sigmoid(v)
	}
	return math.Max(v, 0)
}

// derivative of the activation, from its output a.
func (m *Model) derivative(a float64) float64 {
	switch m.Activation {
	case "tanh":
		return 1 - a*a
	case "sigmoid":
		return a * (1 - a)
	}
	if a > 0 {
		return 1
	}
	return 0
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// affine writes in·W + B into out.
func (l *Layer) affine(in, out []float64) {
	copy(out, l.B)
	for i, v := range in {
		if v == 0 {
			continue
		}
		w := l.W[i*l.Out : (i+1)*l.Out]
		for k, wk := range w {
			out[k] += v * wk
		}
	}
}

// forward computes the output for one standardised row, using buf for the
// activations.
func (m *Model) forward(row []float64, acts [][]float64) float64 {
	copy(acts[0], row)
	for l, layer := range m.Layers {
		out := acts[l+1]
		layer.affine(acts[l], out)
		if l+1 < len(m.Layers) {
			for k, v := range out {
				out[k] = m.activate(v)
			}
		}
	}
	return acts[len(m.Layers)][0]
}

func (m *Model) newActs() [][]float64 {
	acts := [][]float64{make([]float64, m.Layers[0].In)}
	for _, l := range m.Layers {
		acts = append(acts, make([]float64, l.Out))
	}
	return acts
}

// pointLoss is the loss of one output z against label y.
func (m *Model) pointLoss(z, y float64) float64 {
	if m.Task == "regression" {
		return 0.5 * (z - y) * (z - y)
	}
	// log loss on the logit z, computed stably.
	if z > 0 {
		return z + math.Log1p(math.Exp(-z)) - y*z
	}
	return math.Log1p(math.Exp(z)) - y*z
}

// loss is the mean loss over standardised rows.
func (m *Model) loss(rows []float64, y []float64) float64 {
	d := m.Layers[0].In
	acts := m.newActs()
	s := 0.0
	for i := range y {
		s += m.pointLoss(m.forward(rows[i*d:(i+1)*d], acts), y[i])
	}
	return s / float64(len(y))
}

// Predict returns probabilities (binary) or values (regression).
func (m *Model) Predict(x *data.Matrix) ([]float64, error) {
	if len(x.Cols) != len(m.Names) {
		return nil, fmt.Errorf("mlp: model has %d features, input has %d", len(m.Names), len(x.Cols))
	}
	rows := m.rowMajor(x)
	d := len(m.Names)
	acts := m.newActs()
	out := make([]float64, x.Rows())
	for i := range out {
		z := m.forward(rows[i*d:(i+1)*d], acts)
		if math.IsNaN(z) {
			return nil, fmt.Errorf("mlp: row %d has a missing or invalid feature", i)
		}
		if m.Task == "binary" {
			z = sigmoid(z)
		}
		out[i] = z
	}
	return out, nil
}

// MarshalBinary encodes the model as versioned JSON.
func (m *Model) MarshalBinary() ([]byte, error) { return json.Marshal(m) }

// Unmarshal decodes a model written by MarshalBinary, checking its shape.
func Unmarshal(b []byte) (*Model, error) {
	var m Model
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("mlp: decode model: %w", err)
	}
	if m.Version != formatVersion {
		return nil, fmt.Errorf("mlp: model format version %d is not supported (want %d)", m.Version, formatVersion)
	}
	d := len(m.Names)
	if len(m.Mean) != d || len(m.Scale) != d || len(m.Layers) == 0 {
		return nil, errors.New("mlp: model shape is inconsistent")
	}
	in := d
	for i, l := range m.Layers {
		if l.In != in || l.Out < 1 || len(l.W) != l.In*l.Out || len(l.B) != l.Out {
			return nil, fmt.Errorf("mlp: layer %d shape is inconsistent", i)
		}
		in = l.Out
	}
	if in != 1 {
		return nil, errors.New("mlp: the last layer must have one output")
	}
	switch m.Activation {
	case "relu", "tanh", "sigmoid":
	default:
		return nil, fmt.Errorf("mlp: unknown activation %q", m.Activation)
	}
	if m.Task != "binary" && m.Task != "regression" {
		return nil, fmt.Errorf("mlp: unknown task %q", m.Task)
	}
	return &m, nil
}

// trainer holds Adam's state and per-chunk gradient buffers.
type trainer struct {
	m       *Model
	p       Params
	threads int
	mw, vw  [][]float64 // Adam moments of weights, per layer
	mb, vb  [][]float64 // and of biases
	steps   int
}

func newTrainer(m *Model, p Params, threads int) *trainer {
	t := &trainer{m: m, p: p, threads: threads}
	for _, l := range m.Layers {
		t.mw = append(t.mw, make([]float64, len(l.W)))
		t.vw = append(t.vw, make([]float64, len(l.W)))
		t.mb = append(t.mb, make([]float64, len(l.B)))
		t.vb = append(t.vb, make([]float64, len(l.B)))
	}
	return t
}

// grads is one chunk's gradient.
type grads struct {
	w, b [][]float64
	loss float64
}

func (t *trainer) newGrads() *grads {
	g := &grads{}
	for _, l := range t.m.Layers {
		g.w = append(g.w, make([]float64, len(l.W)))
		g.b = append(g.b, make([]float64, len(l.B)))
	}
	return g
}

// step runs one Adam update on the rows of batch and returns their summed
// loss.
func (t *trainer) step(rows, y []float64, batch []int, key uint64) float64 {
	m := t.m
	d := m.Layers[0].In
	chunks := (len(batch) + chunkRows - 1) / chunkRows
	gs := make([]*grads, chunks)
	var wg sync.WaitGroup
	next := make(chan int, chunks)
	for c := range chunks {
		next <- c
	}
	close(next)
	for range min(t.threads, chunks) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acts := m.newActs()
			deltas := m.newActs()[1:]
			var masks [][]float64
			for _, l := range m.Layers[:len(m.Layers)-1] {
				masks = append(masks, make([]float64, l.Out))
			}
			for c := range next {
				g := t.newGrads()
				rng := rand.New(rand.NewPCG(t.p.Seed^key, uint64(c)))
				for _, i := range batch[c*chunkRows : min((c+1)*chunkRows, len(batch))] {
					row := rows[i*d : (i+1)*d]
					// Forward with dropout on hidden layers.
					copy(acts[0], row)
					for l, layer := range m.Layers {
						out := acts[l+1]
						layer.affine(acts[l], out)
						if l+1 < len(m.Layers) {
							keep := 1 - t.p.Dropout
							for k, v := range out {
								out[k] = m.activate(v)
								masks[l][k] = 1
								if t.p.Dropout > 0 {
									if rng.Float64() < t.p.Dropout {
										masks[l][k] = 0
									} else {
										masks[l][k] = 1 / keep
									}
									out[k] *= masks[l][k]
								}
							}
						}
					}
					z := acts[len(m.Layers)][0]
					g.loss += m.pointLoss(z, y[i])
					// Backward.
					top := len(m.Layers) - 1
					if m.Task == "binary" {
						deltas[top][0] = sigmoid(z) - y[i]
					} else {
						deltas[top][0] = z - y[i]
					}
					for l := top; l >= 0; l-- {
						layer, in, delta := m.Layers[l], acts[l], deltas[l]
						gw, gb := g.w[l], g.b[l]
						for k, dk := range delta {
							gb[k] += dk
						}
						for a, v := range in {
							if v == 0 {
								continue
							}
							row := gw[a*layer.Out : (a+1)*layer.Out]
							for k, dk := range delta {
								row[k] += v * dk
							}
						}
						if l == 0 {
							break
						}
						prev := deltas[l-1]
						for a := range prev {
							s := 0.0
							w := layer.W[a*layer.Out : (a+1)*layer.Out]
							for k, dk := range delta {
								s += w[k] * dk
							}
							act := in[a]
							if masks[l-1][a] == 0 {
								prev[a] = 0
								continue
							}
							prev[a] = s * masks[l-1][a] * m.derivative(act/masks[l-1][a])
						}
					}
				}
				gs[c] = g
			}
		}()
	}
	wg.Wait()
	total := gs[0]
	for _, g := range gs[1:] {
		total.loss += g.loss
		for l := range total.w {
			for k, v := range g.w[l] {
				total.w[l][k] += v
			}
			for k, v := range g.b[l] {
				total.b[l][k] += v
			}
		}
	}
	// Adam, with scikit-learn's L2 term alpha·W / batch size.
	bs := float64(len(batch))
	t.steps++
	const b1, b2, eps = 0.9, 0.999, 1e-8
	lr := t.p.LearningRate * math.Sqrt(1-math.Pow(b2, float64(t.steps))) / (1 - math.Pow(b1, float64(t.steps)))
	for l := range m.Layers {
		layer := &m.Layers[l]
		for k := range layer.W {
			gk := total.w[l][k]/bs + t.p.L2*layer.W[k]/bs
			t.mw[l][k] = b1*t.mw[l][k] + (1-b1)*gk
			t.vw[l][k] = b2*t.vw[l][k] + (1-b2)*gk*gk
			layer.W[k] -= lr * t.mw[l][k] / (math.Sqrt(t.vw[l][k]) + eps)
		}
		for k := range layer.B {
			gk := total.b[l][k] / bs
			t.mb[l][k] = b1*t.mb[l][k] + (1-b1)*gk
			t.vb[l][k] = b2*t.vb[l][k] + (1-b2)*gk*gk
			layer.B[k] -= lr * t.mb[l][k] / (math.Sqrt(t.vb[l][k]) + eps)
		}
	}
	return total.loss
}
