// Package mlp trains a multi-layer perceptron: hidden layers with ReLU
// (or tanh, sigmoid) activations, Adam on minibatches, L2 weight decay,
// inverted dropout and early stopping, with scikit-learn's MLPClassifier
// defaults for the parameters and PyTorch's nn.Linear initialisation.
// Inputs are standardised inside the model, except 0/1 indicator columns
// (as one-hot encoding makes), which are kept as they are. Training is
// seeded and deterministic: every gradient is summed over the batch's rows
// in row order, whatever the number of threads.
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
	// Mean and Scale standardise the inputs: (x-Mean)/Scale; 0 and 1 for
	// indicator columns.
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

// evalRows is the block of rows the validation loss is computed on.
const evalRows = 512

// Progress is called after every epoch with the training and validation
// loss (NaN when there is no validation set).
type Progress func(epoch int, trainLoss, validLoss float64)

// Train fits the network on x (no missing values, no categorical columns)
// and labels y (0/1 for binary, real for regression). valid may be nil.
func Train(ctx context.Context, x *data.Matrix, y []float64, vx *data.Matrix, vy []float64, p Params, progress Progress) (*Model, error) {
	m, indicators, p, rng, err := setup(x, y, vx, vy, p)
	if err != nil {
		return nil, err
	}
	threads := p.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	n := x.Rows()
	rows := m.rowMajor(x, threads)
	var vrows []float64
	if vx != nil {
		vrows = m.rowMajor(vx, threads)
	}
	t := newTrainer(m, p, threads, evalRows, indicators)
	defer t.close()
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
			validLoss = t.meanLoss(vrows, vy)
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
	m.SetImportance()
	return m, nil
}

// setup validates the inputs and parameters, caps the batch size at the
// number of rows, and returns the initial model, its indicator columns and
// the random stream that goes on to shuffle the rows.
func setup(x *data.Matrix, y []float64, vx *data.Matrix, vy []float64, p Params) (*Model, []bool, Params, *rand.Rand, error) {
	if err := validate(x, y, p); err != nil {
		return nil, nil, p, nil, fmt.Errorf("mlp: %w", err)
	}
	if vx != nil {
		if err := validate(vx, vy, p); err != nil {
			return nil, nil, p, nil, fmt.Errorf("mlp: validation set: %w", err)
		}
	}
	p.BatchSize = min(p.BatchSize, x.Rows())
	rng := rand.New(rand.NewPCG(p.Seed, 0x6d6c70))
	m, indicators := newModel(x, p, rng)
	return m, indicators, p, rng, nil
}

// Setup starts training as Train does, for trainers of the same network on
// other hardware: it validates the inputs and parameters (with Train's
// errors), caps the batch size at the number of rows, and returns the
// initial model (input statistics and weights), the parameters and the
// random stream Train shuffles the rows with, once per epoch with
// rng.Shuffle over the previous epoch's order.
func Setup(x *data.Matrix, y []float64, vx *data.Matrix, vy []float64, p Params) (*Model, Params, *rand.Rand, error) {
	m, _, p, rng, err := setup(x, y, vx, vy, p)
	return m, p, rng, err
}

// Standardize returns the rows of x standardised as training and
// prediction see them, row-major.
func (m *Model) Standardize(x *data.Matrix) []float64 { return m.rowMajor(x, runtime.GOMAXPROCS(0)) }

// SetImportance sets InputWeight from the first layer's weights.
func (m *Model) SetImportance() {
	m.InputWeight = map[string]float64{}
	first := m.Layers[0]
	for j, name := range m.Names {
		s := 0.0
		for k := range first.Out {
			s += math.Abs(first.W[j*first.Out+k])
		}
		m.InputWeight[name] = s
	}
}

// newModel sets the input statistics from x (mean and population standard
// deviation; 0 and 1 for indicator columns, which it reports) and draws the
// initial weights from rng.
func newModel(x *data.Matrix, p Params, rng *rand.Rand) (*Model, []bool) {
	n, d := x.Rows(), len(x.Cols)
	m := &Model{Version: formatVersion, Names: append([]string(nil), x.Names...), Activation: p.Activation, Task: p.Task,
		Mean: make([]float64, d), Scale: make([]float64, d)}
	indicators := make([]bool, d)
	for j, c := range x.Cols {
		if indicator(c) {
			m.Mean[j], m.Scale[j], indicators[j] = 0, 1, true
			continue
		}
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
	widths := append(append([]int{d}, p.HiddenUnits...), 1)
	for l := 0; l+1 < len(widths); l++ {
		// PyTorch's nn.Linear: weights and biases uniform in ±1/√in.
		in, out := widths[l], widths[l+1]
		bound := 1 / math.Sqrt(float64(in))
		layer := Layer{In: in, Out: out, W: make([]float64, in*out), B: make([]float64, out)}
		for i := range layer.W {
			layer.W[i] = (rng.Float64()*2 - 1) * bound
		}
		for i := range layer.B {
			layer.B[i] = (rng.Float64()*2 - 1) * bound
		}
		m.Layers = append(m.Layers, layer)
	}
	return m, indicators
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

// indicator reports whether a column holds only the values 0 and 1.
func indicator(c []float64) bool {
	for _, v := range c {
		if v != 0 && v != 1 {
			return false
		}
	}
	return true
}

// rowMajor standardises x into a row-major array, a block of rows at a time
// so that the block being written stays in cache, the blocks split between
// threads.
func (m *Model) rowMajor(x *data.Matrix, threads int) []float64 {
	n, d := x.Rows(), len(x.Cols)
	out := make([]float64, n*d)
	const block = 256
	blocks := (n + block - 1) / block
	threads = max(1, min(threads, blocks))
	var wg sync.WaitGroup
	for w := range threads {
		wg.Go(func() {
			for b := w * blocks / threads; b < (w+1)*blocks/threads; b++ {
				start, end := b*block, min((b+1)*block, n)
				for j, c := range x.Cols {
					mu, sd := m.Mean[j], m.Scale[j]
					if mu == 0 && sd == 1 {
						// (v-0)/1 is v, bit for bit.
						for i, v := range c[start:end] {
							out[(start+i)*d+j] = v
						}
						continue
					}
					for i, v := range c[start:end] {
						out[(start+i)*d+j] = (v - mu) / sd
					}
				}
			}
		})
	}
	wg.Wait()
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

// Predict returns probabilities (binary) or values (regression).
func (m *Model) Predict(x *data.Matrix) ([]float64, error) {
	if len(x.Cols) != len(m.Names) {
		return nil, fmt.Errorf("mlp: model has %d features, input has %d", len(m.Names), len(x.Cols))
	}
	rows := m.rowMajor(x, 1)
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
