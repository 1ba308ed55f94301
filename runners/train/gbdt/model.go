package gbdt

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/slipway-ml/slipway/runners/train/data"
)

// Node flags.
const (
	flagDefaultLeft = 1 << 0 // missing values go to the left child
	flagCategorical = 1 << 1 // the split tests a category set
)

// node is one node of a tree. A leaf has feature < 0 and value set; an
// internal node sends a row left when (numeric) its value is below
// threshold or (categorical) its category code is in set, and sends a
// missing value to the side flagDefaultLeft says.
type node struct {
	feature     int32
	left, right int32
	flags       uint8
	threshold   float64
	value       float64
	gain        float64
	set         []uint64
}

func (n *node) goLeft(v float64) bool {
	if v != v {
		return n.flags&flagDefaultLeft != 0
	}
	if n.flags&flagCategorical != 0 {
		if v < 0 {
			return n.flags&flagDefaultLeft != 0
		}
		if v >= float64(len(n.set)*64) {
			return false
		}
		c := uint64(v)
		return n.set[c>>6]>>(c&63)&1 != 0
	}
	return v < n.threshold
}

type tree []node

// evalCols returns the leaf value for row i of column-major data.
func (t tree) evalCols(cols [][]float64, i int) float64 {
	k := int32(0)
	for {
		n := &t[k]
		if n.feature < 0 {
			return n.value
		}
		if n.goLeft(cols[n.feature][i]) {
			k = n.left
		} else {
			k = n.right
		}
	}
}

// evalRow returns the leaf value for one row.
func (t tree) evalRow(x []float64) float64 {
	k := int32(0)
	for {
		n := &t[k]
		if n.feature < 0 {
			return n.value
		}
		if n.goLeft(x[n.feature]) {
			k = n.left
		} else {
			k = n.right
		}
	}
}

// Model is a trained gradient boosted tree ensemble. It is safe for
// concurrent use by several goroutines once trained or loaded.
type Model struct {
	objective  string
	baseScore  float64
	names      []string
	categories []int
	trees      []tree
}

// Objective returns the objective the model was trained for.
func (m *Model) Objective() string { return m.objective }

// NumTrees returns the number of trees kept (the best iteration plus one
// when early stopping was used).
func (m *Model) NumTrees() int { return len(m.trees) }

// BaseScore returns the initial margin (logit of the mean label for
// binary:logistic, the mean label for reg:squarederror).
func (m *Model) BaseScore() float64 { return m.baseScore }

// FeatureNames returns the names of the features the model expects, in
// column order.
func (m *Model) FeatureNames() []string { return append([]string(nil), m.names...) }

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func (m *Model) transform(margin float64) float64 {
	if m.objective == ObjectiveBinary {
		return sigmoid(margin)
	}
	return margin
}

// PredictRow predicts one row given as its feature values in column order
// (NaN for missing): the probability of class 1 for binary:logistic, the
// value for reg:squarederror.
func (m *Model) PredictRow(x []float64) (float64, error) {
	if len(x) != len(m.names) {
		return 0, fmt.Errorf("gbdt: predict row: got %d features, model has %d", len(x), len(m.names))
	}
	s := m.baseScore
	for _, t := range m.trees {
		s += t.evalRow(x)
	}
	return m.transform(s), nil
}

// Predict predicts every row of x: probabilities of class 1 for
// binary:logistic, values for reg:squarederror. Rows are spread over
// runtime.GOMAXPROCS goroutines; the result does not depend on it.
func (m *Model) Predict(x *data.Matrix) ([]float64, error) {
	if x == nil {
		return nil, fmt.Errorf("gbdt: predict: nil matrix")
	}
	if len(x.Cols) != len(m.names) {
		return nil, fmt.Errorf("gbdt: predict: matrix has %d features, model has %d", len(x.Cols), len(m.names))
	}
	n := x.Rows()
	for j, c := range x.Cols {
		if len(c) != n {
			return nil, fmt.Errorf("gbdt: predict: column %d has %d rows, want %d", j, len(c), n)
		}
	}
	out := make([]float64, n)
	parallelBlocks(n, 0, func(lo, hi int) {
		// trees outermost within small row tiles keeps a tree's nodes in
		// cache; every row still adds its trees in order
		const tile = 256
		for a := lo; a < hi; a += tile {
			acc := out[a:min(a+tile, hi)]
			for k := range acc {
				acc[k] = m.baseScore
			}
			for _, t := range m.trees {
				for k := range acc {
					acc[k] += t.evalCols(x.Cols, a+k)
				}
			}
			for k := range acc {
				acc[k] = m.transform(acc[k])
			}
		}
	})
	return out, nil
}

// Importance returns the total gain of the splits on each feature, keyed
// by feature name (0 for a feature never split on). The gain of a split is
// ½[G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ)] before γ is subtracted.
func (m *Model) Importance() map[string]float64 {
	imp := make(map[string]float64, len(m.names))
	tot := make([]float64, len(m.names))
	for _, t := range m.trees {
		for i := range t {
			if f := t[i].feature; f >= 0 {
				tot[f] += t[i].gain
			}
		}
	}
	for j, name := range m.names {
		imp[name] += tot[j]
	}
	return imp
}

// blockRows is the fixed block size of row-parallel loops. Results never
// depend on how blocks are assigned to goroutines.
const blockRows = 8192

// parallelBlocks calls fn on consecutive blocks of [0, n) using up to
// threads goroutines (0: GOMAXPROCS).
func parallelBlocks(n, threads int, fn func(lo, hi int)) {
	nb := (n + blockRows - 1) / blockRows
	parallelFor(nb, threads, func(b int) {
		lo := b * blockRows
		fn(lo, min(lo+blockRows, n))
	})
}

// parallelFor runs fn(0..n-1), spreading the calls over up to threads
// goroutines (0: GOMAXPROCS) that take the next index from a shared
// counter.
func parallelFor(n, threads int, fn func(i int)) {
	if threads <= 0 {
		threads = defaultThreads()
	}
	w := min(threads, n)
	if w <= 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	take := func() int { return int(next.Add(1) - 1) }
	var wg sync.WaitGroup
	wg.Add(w - 1)
	work := func() {
		for i := take(); i < n; i = take() {
			fn(i)
		}
	}
	for k := 0; k < w-1; k++ {
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
}

func defaultThreads() int { return runtime.GOMAXPROCS(0) }
