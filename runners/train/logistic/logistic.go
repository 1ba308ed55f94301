// Package logistic trains regularised logistic regression as scikit-learn's
// LogisticRegression does: the objective C·Σ loss_i + (1−r)/2·‖w‖² + r·‖w‖₁
// with r the L1 ratio (0 by default: pure L2), intercept unpenalised. L2
// alone is solved with L-BFGS or Newton's method; with an L1 part, with
// OWL-QN (L-BFGS restricted to an orthant). Training is
// deterministic: gradients are summed over fixed row blocks in a fixed
// order, whatever the number of threads.
package logistic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/slipway-ml/slipway/runners/train/data"
)

// Params configure training. The zero value is not valid; start from
// DefaultParams.
type Params struct {
	// C is the inverse regularisation strength (scikit-learn's C).
	C float64
	// L1Ratio mixes in L1: 0 is pure L2, 1 pure L1 (scikit-learn's
	// l1_ratio with penalty "elasticnet"). It needs the lbfgs solver, which
	// then runs OWL-QN.
	L1Ratio float64
	// Solver is "lbfgs" or "newton".
	Solver string
	// MaxIter bounds the solver's iterations.
	MaxIter int
	// Tol stops when the largest gradient component (of the objective
	// divided by the total sample weight) falls below it.
	Tol float64
	// FitIntercept adds an unpenalised bias term.
	FitIntercept bool
	// ClassWeight is "" (none), "balanced", or set by Weights.
	ClassWeight string
	// Weights gives the weight of class 0 and class 1 (used when ClassWeight
	// is "").
	Weights [2]float64
	// Threads bounds parallelism; 0 means GOMAXPROCS.
	Threads int
}

// DefaultParams are scikit-learn's defaults: C=1, lbfgs, 100 iterations,
// tol 1e-4, an intercept, no class weights.
func DefaultParams() Params {
	return Params{C: 1, Solver: "lbfgs", MaxIter: 100, Tol: 1e-4, FitIntercept: true, Weights: [2]float64{1, 1}}
}

// Model is a fitted logistic regression.
type Model struct {
	// Version of the serialised form.
	Version int `json:"version"`
	// Names of the features, in order.
	Names []string `json:"names"`
	// Coef are the coefficients on the original feature scale.
	Coef []float64 `json:"coef"`
	// Intercept is the bias.
	Intercept float64 `json:"intercept"`
	// Iterations the solver ran.
	Iterations int `json:"iterations"`
	// Converged reports whether the tolerance was reached.
	Converged bool `json:"converged"`
}

// formatVersion is the version of the JSON form.
const formatVersion = 1

// blockRows is the row block over which partial gradients are summed.
const blockRows = 4096

// problem is the optimisation problem in standardised coordinates.
type problem struct {
	z       [][]float64 // standardised columns
	y, w    []float64   // labels and sample weights
	l2      []float64   // per-coefficient L2 factor: (1−r)/(C·W·s_j²)
	l1      []float64   // per-coefficient L1 factor: r/(C·W·s_j)
	d       int         // coefficients (without intercept)
	icpt    bool
	threads int
	ext     Objective // when set, computes the data term instead of the rows above
}

// Data is the training problem as the solver sees it: the features
// standardised to mean 0 and unit variance (a constant column is only
// centred), the labels and the weight of each class.
type Data struct {
	// Z are the standardised feature columns.
	Z [][]float64
	// Y are the labels, 0 or 1.
	Y []float64
	// ClassWeights are the weights of class 0 and class 1; row i weighs
	// ClassWeights[Y[i]].
	ClassWeights [2]float64
}

// Objective computes the data term of the objective at theta (standardised
// coefficients, the intercept last): it returns Σ_i w_i·loss_i, the
// weighted log-loss, and writes Σ_i w_i·(p_i − y_i)·z_i into grad[0:d] and
// Σ_i w_i·(p_i − y_i) into grad[d]. The solver divides by the total weight
// and adds the penalty.
type Objective func(theta, grad []float64) float64

// TrainWith is Train with the data term computed by the Objective that
// newObjective returns for the standardised data, e.g. on a GPU. The
// solver, its iterations and the model's form are Train's.
func TrainWith(ctx context.Context, x *data.Matrix, y []float64, p Params, newObjective func(Data) (Objective, error)) (*Model, error) {
	return train(ctx, x, y, p, newObjective)
}

// Train fits the model on x (no missing values, no categorical columns:
// one-hot encode them first) and binary labels y in {0, 1}.
func Train(ctx context.Context, x *data.Matrix, y []float64, p Params) (*Model, error) {
	return train(ctx, x, y, p, nil)
}

func train(ctx context.Context, x *data.Matrix, y []float64, p Params, newObjective func(Data) (Objective, error)) (*Model, error) {
	if err := validate(x, y, p); err != nil {
		return nil, fmt.Errorf("logistic: %w", err)
	}
	n, d := x.Rows(), len(x.Cols)
	mean := make([]float64, d)
	scale := make([]float64, d)
	z := make([][]float64, d)
	for j, c := range x.Cols {
		m, s := meanStd(c)
		if s == 0 {
			s = 1 // a constant column: its coefficient is driven to 0 by the penalty
		}
		mean[j], scale[j] = m, s
		col := make([]float64, n)
		for i, v := range c {
			col[i] = (v - m) / s
		}
		z[j] = col
	}
	cw := classWeights(y, p)
	w := sampleWeights(y, cw)
	total := 0.0
	for _, v := range w {
		total += v
	}
	pr := &problem{z: z, y: y, w: w, d: d, icpt: p.FitIntercept, threads: p.Threads, l2: make([]float64, d), l1: make([]float64, d)}
	if pr.threads <= 0 {
		pr.threads = runtime.GOMAXPROCS(0)
	}
	for j := range pr.l2 {
		pr.l2[j] = (1 - p.L1Ratio) / (p.C * total * scale[j] * scale[j])
		pr.l1[j] = p.L1Ratio / (p.C * total * scale[j])
	}
	if newObjective != nil {
		obj, err := newObjective(Data{Z: z, Y: y, ClassWeights: cw})
		if err != nil {
			return nil, fmt.Errorf("logistic: %w", err)
		}
		pr.ext = obj
	}
	theta := make([]float64, d+1)
	if p.FitIntercept {
		pos := 0.0
		for i, v := range y {
			pos += v * w[i]
		}
		rate := math.Min(math.Max(pos/total, 1e-12), 1-1e-12)
		theta[d] = math.Log(rate / (1 - rate))
	}
	var iters int
	var converged bool
	var err error
	switch p.Solver {
	case "lbfgs":
		if p.L1Ratio > 0 {
			iters, converged, err = owlqn(ctx, pr, theta, p.MaxIter, p.Tol, total)
		} else {
			iters, converged, err = lbfgs(ctx, pr, theta, p.MaxIter, p.Tol, total)
		}
	case "newton":
		if p.L1Ratio > 0 {
			return nil, errors.New("logistic: an L1 part (l1Ratio > 0) needs the lbfgs solver")
		}
		iters, converged, err = newton(ctx, pr, theta, p.MaxIter, p.Tol, total)
	default:
		return nil, fmt.Errorf("logistic: unknown solver %q (want lbfgs or newton)", p.Solver)
	}
	if err != nil {
		return nil, fmt.Errorf("logistic: %w", err)
	}
	m := &Model{Version: formatVersion, Names: append([]string(nil), x.Names...), Coef: make([]float64, d), Iterations: iters, Converged: converged}
	b := theta[d]
	for j := range d {
		m.Coef[j] = theta[j] / scale[j]
		b -= theta[j] * mean[j] / scale[j]
	}
	if p.FitIntercept {
		m.Intercept = b
	}
	return m, nil
}

func validate(x *data.Matrix, y []float64, p Params) error {
	if x == nil || x.Rows() == 0 {
		return errors.New("no training rows")
	}
	if err := x.Validate(); err != nil {
		return err
	}
	if len(y) != x.Rows() {
		return fmt.Errorf("%d labels for %d rows", len(y), x.Rows())
	}
	if !(p.C > 0) || math.IsInf(p.C, 0) {
		return fmt.Errorf("C must be positive and finite, got %v", p.C)
	}
	if !(p.L1Ratio >= 0 && p.L1Ratio <= 1) {
		return fmt.Errorf("l1Ratio must be between 0 and 1, got %v", p.L1Ratio)
	}
	if p.MaxIter < 1 || !(p.Tol > 0) {
		return fmt.Errorf("maxIter must be ≥ 1 and tol > 0")
	}
	var seen [2]bool
	for i, v := range y {
		if v != 0 && v != 1 {
			return fmt.Errorf("label of row %d is %v; want 0 or 1", i, v)
		}
		seen[int(v)] = true
	}
	if !seen[0] || !seen[1] {
		return errors.New("the labels hold one class only; a classifier needs both")
	}
	for j, c := range x.Cols {
		if x.Categories[j] > 0 {
			return fmt.Errorf("feature %s is categorical: one-hot encode it for logistic regression", x.Names[j])
		}
		for i, v := range c {
			if math.IsNaN(v) {
				return fmt.Errorf("feature %s row %d is missing: impute it for logistic regression", x.Names[j], i)
			}
			if math.IsInf(v, 0) {
				return fmt.Errorf("feature %s row %d is infinite", x.Names[j], i)
			}
		}
	}
	return nil
}

// classWeights returns the weight of class 0 and class 1.
func classWeights(y []float64, p Params) [2]float64 {
	cw := p.Weights
	if p.ClassWeight == "balanced" {
		var cnt [2]float64
		for _, v := range y {
			cnt[int(v)]++
		}
		n := float64(len(y))
		cw = [2]float64{n / (2 * cnt[0]), n / (2 * cnt[1])}
	}
	if cw == [2]float64{} {
		cw = [2]float64{1, 1}
	}
	return cw
}

// sampleWeights returns each row's weight, its class's.
func sampleWeights(y []float64, cw [2]float64) []float64 {
	w := make([]float64, len(y))
	for i, v := range y {
		w[i] = cw[int(v)]
	}
	return w
}

func meanStd(c []float64) (float64, float64) {
	m := 0.0
	for _, v := range c {
		m += v
	}
	m /= float64(len(c))
	s := 0.0
	for _, v := range c {
		s += (v - m) * (v - m)
	}
	return m, math.Sqrt(s / float64(len(c)))
}

// eval returns the objective (divided by the total weight) and its
// gradient at theta. Partial sums over row blocks are combined in block
// order, so the result does not depend on the number of threads.
func (pr *problem) eval(theta, grad []float64, total float64) float64 {
	var f float64
	if pr.ext != nil {
		f = pr.ext(theta, grad)
		if !pr.icpt {
			grad[pr.d] = 0
		}
	} else {
		f = pr.sums(theta, grad)
	}
	f /= total
	for k := range grad {
		grad[k] /= total
	}
	for j := range pr.d {
		f += 0.5 * pr.l2[j] * theta[j] * theta[j]
		grad[j] += pr.l2[j] * theta[j]
	}
	return f
}

// sums returns the weighted log-loss summed over the rows and writes the
// summed gradient into grad: the data term, by row blocks on the CPU.
func (pr *problem) sums(theta, grad []float64) float64 {
	n := len(pr.y)
	blocks := (n + blockRows - 1) / blockRows
	losses := make([]float64, blocks)
	grads := make([][]float64, blocks)
	var wg sync.WaitGroup
	next := make(chan int, blocks)
	for b := range blocks {
		next <- b
	}
	close(next)
	for range min(pr.threads, blocks) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			eta := make([]float64, blockRows)
			for b := range next {
				lo, hi := b*blockRows, min((b+1)*blockRows, n)
				g := make([]float64, pr.d+1)
				e := eta[:hi-lo]
				for i := range e {
					e[i] = theta[pr.d]
				}
				for j := range pr.d {
					col, t := pr.z[j][lo:hi], theta[j]
					for i, v := range col {
						e[i] += t * v
					}
				}
				loss := 0.0
				for i, eta := range e {
					yi, wi := pr.y[lo+i], pr.w[lo+i]
					// log(1+exp(eta)) - y·eta, computed stably.
					if eta > 0 {
						loss += wi * (eta + math.Log1p(math.Exp(-eta)) - yi*eta)
					} else {
						loss += wi * (math.Log1p(math.Exp(eta)) - yi*eta)
					}
					e[i] = wi * (sigmoid(eta) - yi)
				}
				for j := range pr.d {
					col, s := pr.z[j][lo:hi], 0.0
					for i, v := range col {
						s += e[i] * v
					}
					g[j] = s
				}
				if pr.icpt {
					s := 0.0
					for _, r := range e {
						s += r
					}
					g[pr.d] = s
				}
				losses[b], grads[b] = loss, g
			}
		}()
	}
	wg.Wait()
	f := 0.0
	for k := range grad {
		grad[k] = 0
	}
	for b := range blocks {
		f += losses[b]
		for k, v := range grads[b] {
			grad[k] += v
		}
	}
	return f
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// Predict returns the probability of class 1 for every row of x.
func (m *Model) Predict(x *data.Matrix) ([]float64, error) {
	if len(x.Cols) != len(m.Coef) {
		return nil, fmt.Errorf("logistic: model has %d features, input has %d", len(m.Coef), len(x.Cols))
	}
	out := make([]float64, x.Rows())
	for i := range out {
		out[i] = m.Intercept
	}
	for j, c := range x.Cols {
		w := m.Coef[j]
		for i, v := range c {
			out[i] += w * v
		}
	}
	for i, e := range out {
		if math.IsNaN(e) {
			return nil, fmt.Errorf("logistic: row %d has a missing or invalid feature", i)
		}
		out[i] = sigmoid(e)
	}
	return out, nil
}

// Importance returns each feature's absolute coefficient: the importance
// of a linear model, comparable across features when the feature pipeline
// standardised them.
func (m *Model) Importance() map[string]float64 {
	out := make(map[string]float64, len(m.Names))
	for j, n := range m.Names {
		out[n] = math.Abs(m.Coef[j])
	}
	return out
}

// MarshalBinary encodes the model as versioned JSON.
func (m *Model) MarshalBinary() ([]byte, error) { return json.Marshal(m) }

// Unmarshal decodes a model written by MarshalBinary.
func Unmarshal(b []byte) (*Model, error) {
	var m Model
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("logistic: decode model: %w", err)
	}
	if m.Version != formatVersion {
		return nil, fmt.Errorf("logistic: model format version %d is not supported (want %d)", m.Version, formatVersion)
	}
	if len(m.Names) != len(m.Coef) {
		return nil, fmt.Errorf("logistic: model has %d names and %d coefficients", len(m.Names), len(m.Coef))
	}
	for _, v := range append([]float64{m.Intercept}, m.Coef...) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, errors.New("logistic: model holds a non-finite coefficient")
		}
	}
	return &m, nil
}
