// Package drift computes the per-feature drift statistics a monitor uses to
// compare a reference sample (the training data) with a current sample (live
// inputs), with the methods, defaults and drift rules of Evidently's data
// drift preset: population stability index, Kolmogorov–Smirnov, normed
// Wasserstein distance, Jensen–Shannon distance, chi-squared and the
// two-proportion z-test.
package drift

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Method names accepted by Feature.
const (
	// MethodPSI is the population stability index; drift when PSI ≥ threshold.
	MethodPSI = "psi"
	// MethodKS is the two-sample Kolmogorov–Smirnov test (numeric only);
	// drift when the p-value ≤ threshold.
	MethodKS = "ks"
	// MethodWasserstein is the first Wasserstein distance divided by the
	// reference standard deviation (at least 0.001) (numeric only); drift when
	// the distance ≥ threshold.
	MethodWasserstein = "wasserstein"
	// MethodJSD is the Jensen–Shannon distance (natural logarithm); drift when
	// the distance ≥ threshold. "jensenshannon" is accepted as an alias.
	MethodJSD = "jsd"
	// MethodChiSquare is Pearson's chi-squared goodness-of-fit test of the
	// current counts against the reference shares; drift when p < threshold.
	MethodChiSquare = "chisquare"
	// MethodZ is the two-proportion z-test for binary columns; drift when
	// p < threshold.
	MethodZ = "z"
)

// Default thresholds of each method, as Evidently's registry sets them.
const (
	DefaultPSIThreshold         = 0.1
	DefaultKSThreshold          = 0.05
	DefaultWassersteinThreshold = 0.1
	DefaultJSDThreshold         = 0.1
	DefaultChiSquareThreshold   = 0.05
	DefaultZThreshold           = 0.05
	// DefaultShare is the share of drifted features at which a dataset counts
	// as drifted.
	DefaultShare = 0.5
)

// smallReference is the largest reference size for which the default method
// is a statistical test (ks, chisquare, z) rather than a distance.
const smallReference = 1000

// ErrNoData is returned (wrapped) when a column has no usable value.
var ErrNoData = errors.New("no non-missing values")

// Column is one feature's sample: either Numbers (NaN and ±Inf are missing
// and ignored) or Categories (the empty string is missing and ignored).
// Exactly one of the two may be set.
type Column struct {
	// Name of the feature; Feature takes the result's name from the
	// reference column.
	Name string
	// Numbers are the values of a numeric feature.
	Numbers []float64
	// Categories are the values of a categorical feature.
	Categories []string
}

// Result is the drift verdict for one feature, with the two distributions
// for a report.
type Result struct {
	// Feature is the feature's name.
	Feature string `json:"feature"`
	// Method is the statistic used (one of the Method constants).
	Method string `json:"method"`
	// Statistic is the p-value for ks, chisquare and z, otherwise the
	// distance or index.
	Statistic float64 `json:"statistic"`
	// Threshold is the threshold the statistic was compared with.
	Threshold float64 `json:"threshold"`
	// Drifted reports drift by the method's rule.
	Drifted bool `json:"drifted"`
	// Edges are the bin edges of a numeric histogram (len(Reference)+1
	// values); empty when the histogram is over Categories.
	Edges []float64 `json:"edges,omitempty"`
	// Categories are the histogram's categories (distinct values, sorted);
	// empty when the histogram is over Edges.
	Categories []string `json:"categories,omitempty"`
	// Reference is the share of reference values in each bin or category.
	Reference []float64 `json:"reference"`
	// Current is the share of current values in each bin or category.
	Current []float64 `json:"current"`
}

// DefaultThreshold returns the default threshold of method, or an error for
// an unknown method.
func DefaultThreshold(method string) (float64, error) {
	switch canonical(method) {
	case MethodPSI:
		return DefaultPSIThreshold, nil
	case MethodKS:
		return DefaultKSThreshold, nil
	case MethodWasserstein:
		return DefaultWassersteinThreshold, nil
	case MethodJSD:
		return DefaultJSDThreshold, nil
	case MethodChiSquare:
		return DefaultChiSquareThreshold, nil
	case MethodZ:
		return DefaultZThreshold, nil
	}
	return 0, fmt.Errorf("unknown drift method %q: expected one of psi, ks, wasserstein, jsd, chisquare, z", method)
}

func canonical(method string) string {
	if method == "jensenshannon" {
		return MethodJSD
	}
	return method
}

// isPValue reports whether method's statistic is a p-value.
func isPValue(method string) bool {
	return method == MethodKS || method == MethodChiSquare || method == MethodZ
}

// sample is a cleaned column: sorted numbers or category strings.
type sample struct {
	numeric bool
	nums    []float64 // sorted ascending
	cats    []string
}

func clean(c Column, role string) (sample, error) {
	if c.Numbers != nil && c.Categories != nil {
		return sample{}, fmt.Errorf("%s column %q has both numbers and categories: expected one kind", role, c.Name)
	}
	if c.Categories != nil {
		var out []string
		for _, s := range c.Categories {
			if s != "" {
				out = append(out, s)
			}
		}
		if len(out) == 0 {
			return sample{}, fmt.Errorf("%s column %q: %w (%s)", role, c.Name, ErrNoData, found(len(c.Categories), "empty"))
		}
		return sample{cats: out}, nil
	}
	var out []float64
	for _, v := range c.Numbers {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return sample{}, fmt.Errorf("%s column %q: %w (%s)", role, c.Name, ErrNoData, found(len(c.Numbers), "NaN or infinite"))
	}
	slices.Sort(out)
	return sample{numeric: true, nums: out}, nil
}

func found(n int, missing string) string {
	if n == 0 {
		return "the column is empty"
	}
	return fmt.Sprintf("all %d values are %s", n, missing)
}

func (s sample) len() int {
	if s.numeric {
		return len(s.nums)
	}
	return len(s.cats)
}

// DefaultMethod returns the method Evidently picks for the two columns: for
// a reference of at most 1000 values, ks for numbers with more than 5
// distinct values (over both samples), else chisquare with more than 2
// distinct values, else z; for a larger reference, wasserstein for numbers
// with more than 5 distinct values, else jsd. Missing values are dropped
// first.
func DefaultMethod(ref, cur Column) (string, error) {
	r, c, err := cleanPair(ref, cur)
	if err != nil {
		return "", err
	}
	return defaultMethod(r, c), nil
}

func defaultMethod(r, c sample) string {
	n := distinct(r, c)
	if r.len() <= smallReference {
		switch {
		case r.numeric && n > 5:
			return MethodKS
		case n > 2:
			return MethodChiSquare
		default:
			return MethodZ
		}
	}
	if r.numeric && n > 5 {
		return MethodWasserstein
	}
	return MethodJSD
}

func cleanPair(ref, cur Column) (sample, sample, error) {
	r, err := clean(ref, "reference")
	if err != nil {
		return sample{}, sample{}, err
	}
	c, err := clean(cur, "current")
	if err != nil {
		return sample{}, sample{}, err
	}
	if r.numeric != c.numeric {
		return sample{}, sample{}, fmt.Errorf("feature %q: reference is %s but current is %s: expected the same kind", ref.Name, kind(r), kind(c))
	}
	return r, c, nil
}

func kind(s sample) string {
	if s.numeric {
		return "numeric"
	}
	return "categorical"
}

// Feature compares the current sample of one feature with its reference
// sample. An empty method picks Evidently's default (see DefaultMethod); a
// zero threshold picks the method's default threshold. Thresholds of p-value
// methods (ks, chisquare, z) must lie in (0, 1); those of distances must be
// finite and non-negative. ks and wasserstein need numeric columns.
func Feature(ref, cur Column, method string, threshold float64) (Result, error) {
	r, c, err := cleanPair(ref, cur)
	if err != nil {
		return Result{}, err
	}
	if method == "" {
		method = defaultMethod(r, c)
	}
	method = canonical(method)
	def, err := DefaultThreshold(method)
	if err != nil {
		return Result{}, fmt.Errorf("feature %q: %w", ref.Name, err)
	}
	if threshold == 0 {
		threshold = def
	}
	if math.IsNaN(threshold) || math.IsInf(threshold, 0) || threshold < 0 {
		return Result{}, fmt.Errorf("feature %q: threshold %v for %s: expected a finite number ≥ 0", ref.Name, threshold, method)
	}
	if isPValue(method) && threshold >= 1 {
		return Result{}, fmt.Errorf("feature %q: threshold %v for %s: expected a p-value level in (0, 1)", ref.Name, threshold, method)
	}
	if !r.numeric && (method == MethodKS || method == MethodWasserstein) {
		return Result{}, fmt.Errorf("feature %q: method %s needs numeric values, found categories", ref.Name, method)
	}

	res := Result{Feature: ref.Name, Method: method, Threshold: threshold}
	var h histogram
	if method == MethodChiSquare || method == MethodZ {
		h = discrete(r, c)
	} else if h, err = binned(r, c); err != nil {
		return Result{}, fmt.Errorf("feature %q: %w", ref.Name, err)
	}
	switch method {
	case MethodKS:
		res.Statistic = ksTest(r.nums, c.nums)
	case MethodWasserstein:
		res.Statistic = wassersteinNorm(r.nums, c.nums)
	case MethodPSI:
		res.Statistic = psi(fillZeros(h.ref), fillZeros(h.cur))
	case MethodJSD:
		res.Statistic = jensenShannon(h.ref, h.cur)
	case MethodChiSquare:
		res.Statistic = chiSquareP(h.refCount, h.curCount)
	case MethodZ:
		res.Statistic = zTestP(h.refCount, h.curCount)
	}
	if math.IsNaN(res.Statistic) || math.IsInf(res.Statistic, 0) {
		return Result{}, fmt.Errorf("feature %q: %s statistic is %v: the samples cannot be compared by this method", ref.Name, method, res.Statistic)
	}
	if method == MethodKS {
		res.Drifted = res.Statistic <= threshold
	} else if isPValue(method) {
		res.Drifted = res.Statistic < threshold
	} else {
		res.Drifted = res.Statistic >= threshold
	}
	res.Edges, res.Categories, res.Reference, res.Current = h.edges, h.keys, h.ref, h.cur
	return res, nil
}

// Dataset reports dataset drift: the share of drifted results, and whether
// it is at least share. A share that is not in (0, 1] means DefaultShare.
// No results means no drift.
func Dataset(results []Result, share float64) (drifted bool, shareDrifted float64) {
	if !(share > 0 && share <= 1) {
		share = DefaultShare
	}
	if len(results) == 0 {
		return false, 0
	}
	n := 0
	for _, r := range results {
		if r.Drifted {
			n++
		}
	}
	shareDrifted = float64(n) / float64(len(results))
	return shareDrifted >= share, shareDrifted
}
