package split

import (
	"fmt"
	"math"
	"slices"
)

// Summary is the spread of one metric over cross-validation folds.
type Summary struct {
	// N is the number of folds.
	N int `json:"n"`
	// Mean is the arithmetic mean.
	Mean float64 `json:"mean"`
	// Std is the population standard deviation (divisor N, NumPy's default
	// ddof=0, as scikit-learn's cv_results_ std_test_score).
	Std float64 `json:"std"`
	// Min is the smallest value.
	Min float64 `json:"min"`
	// Max is the largest value.
	Max float64 `json:"max"`
}

// Summarize returns the mean, population standard deviation, minimum and
// maximum of values. Empty input and NaN values are errors.
func Summarize(values []float64) (Summary, error) {
	if len(values) == 0 {
		return Summary{}, fmt.Errorf("summarize: no values")
	}
	s := Summary{N: len(values), Min: values[0], Max: values[0]}
	for i, v := range values {
		if math.IsNaN(v) {
			return Summary{}, fmt.Errorf("summarize: value %d is NaN", i)
		}
		s.Mean += v
		s.Min = min(s.Min, v)
		s.Max = max(s.Max, v)
	}
	s.Mean /= float64(len(values))
	ss := 0.0
	for _, v := range values {
		d := v - s.Mean
		ss += d * d
	}
	s.Std = math.Sqrt(ss / float64(len(values)))
	return s, nil
}

// SummarizeFolds summarises metrics by name over folds, each fold a map
// from metric name to value (for example metrics.BinaryReport.Map()). Every
// fold must hold the same metric names.
func SummarizeFolds(folds []map[string]float64) (map[string]Summary, error) {
	if len(folds) == 0 {
		return nil, fmt.Errorf("summarize folds: no folds")
	}
	names := make([]string, 0, len(folds[0]))
	for name := range folds[0] {
		names = append(names, name)
	}
	slices.Sort(names)
	for f, m := range folds {
		if len(m) != len(names) {
			return nil, fmt.Errorf("summarize folds: fold %d has %d metrics, fold 0 has %d", f, len(m), len(names))
		}
	}
	out := make(map[string]Summary, len(names))
	vals := make([]float64, len(folds))
	for _, name := range names {
		for f, m := range folds {
			v, ok := m[name]
			if !ok {
				return nil, fmt.Errorf("summarize folds: fold %d lacks metric %q", f, name)
			}
			vals[f] = v
		}
		s, err := Summarize(vals)
		if err != nil {
			return nil, fmt.Errorf("summarize folds: metric %q: %w", name, err)
		}
		out[name] = s
	}
	return out, nil
}
