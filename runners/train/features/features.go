// Package features fits the feature transforms a spec declares on the
// training rows of a table and applies them to any table with the same
// columns, producing the data.Matrix models train on. A fitted Pipeline
// serialises to versioned JSON so that serving applies exactly the
// transform training did.
//
// Each feature column runs its transforms in order. The ops:
//
//   - impute: fills missing values with the training rows' median, mean or
//     most frequent value (ties: the smallest), or a constant. On a
//     string or category column only mode and constant apply.
//   - standardize: (x-mean)/std with the population std of the training
//     rows; a constant column (std 0) divides by 1, so it becomes 0.
//   - minmax: (x-min)/(max-min) with the training rows' min and max; a
//     constant column divides by 1. Values outside the range are not
//     clipped.
//   - log1p: log(1+x). A training value at or below -1 is an error; at
//     transform time such a value becomes missing (NaN).
//   - clip: bounds values to [min, max] (either may be absent).
//   - bucketize: the bucket index of a value, 0 below boundaries[0], i for
//     boundaries[i-1] <= x < boundaries[i], len(boundaries) above; the
//     result is categorical with len(boundaries)+1 categories.
//   - hash: FNV-1a (32 bit) of the value's text modulo buckets; the result
//     is categorical with that many categories. Numbers hash as
//     table.FormatNumber writes them.
//   - onehot: one 0/1 column per category kept: the training rows'
//     categories ordered by frequency (descending) then name, at most
//     maxCategories columns, the rarer categories sharing a last "other"
//     column (named "COLUMN=<other>"). A category unseen in training goes
//     to "other" when there is one, else sets no column (unknown
//     "ignore"), or is an error (unknown "error"). A missing value sets no
//     column. Columns are named "COLUMN=VALUE".
//   - dateparts: year, month (1-12), day (1-31), weekday (0 is Sunday) and
//     hour of a timestamp in UTC, one column each named "COLUMN.PART";
//     missing is NaN. It must be the first op of a timestamp column.
//
// onehot and dateparts must be last in a list; after bucketize or hash
// only onehot may follow. A column's chain that ends categorical (a
// string or category column, or after bucketize or hash) is encoded by
// FeatureSpec.Categorical: "native" makes one feature of integer codes with
// data.Matrix.Categories set (codes in the order onehot uses, at most
// NativeMaxCategories with an "other" code last; an unseen category takes
// the "other" code when there is one, else is missing), "onehot" expands it
// as the onehot op would with OnehotMaxCategories and unknown "ignore".
// Columns with no transforms: int and float pass through (missing stays
// NaN), bool becomes 0/1, timestamp Unix seconds, string and category are
// categorical as above.
package features

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/slipway-ml/slipway/compiler/spec"
	"github.com/slipway-ml/slipway/runners/train/data"
	"github.com/slipway-ml/slipway/runners/train/table"
)

// Ways to encode a categorical column (FeatureSpec.Categorical).
const (
	// Native makes one integer-coded categorical feature.
	Native = "native"
	// Onehot expands a categorical column into 0/1 columns.
	Onehot = "onehot"
)

// Tasks (FeatureSpec.Task).
const (
	// Binary is binary classification: labels 0 and 1.
	Binary = "binary"
	// Regression is a numeric label.
	Regression = "regression"
)

// Defaults of FeatureSpec and Transform.
const (
	// DefaultOnehotMaxCategories is onehot's maxCategories when unset.
	DefaultOnehotMaxCategories = 32
	// DefaultNativeMaxCategories caps a native categorical feature.
	DefaultNativeMaxCategories = 256
	// DefaultHashBuckets is hash's buckets when unset.
	DefaultHashBuckets = 1024
)

// Transform is one feature transform, as the spec writes it (op plus the
// op's parameters; see the package comment for what each op does and its
// defaults).
type Transform = spec.Transform

// FeatureSpec says how to turn a table into features and a label.
type FeatureSpec struct {
	// Label is the label column.
	Label string
	// Positive is the positive class of a binary label; see Fit.
	Positive string
	// Task is Binary, Regression or empty to decide from the label: a
	// string, category or bool label, a label with Positive set, or a
	// numeric label whose values are 0 and 1 is binary; any other numeric
	// label is regression.
	Task string
	// Drop lists columns that are not features (PII columns dropped by the
	// spec's pii action belong here).
	Drop []string
	// Transforms are the ops per column, applied in order.
	Transforms map[string][]Transform
	// Categorical is Native (default) or Onehot.
	Categorical string
	// OnehotMaxCategories caps the columns of a categorical column
	// expanded because Categorical is Onehot. Default
	// DefaultOnehotMaxCategories.
	OnehotMaxCategories int
	// NativeMaxCategories caps the categories of a native categorical
	// feature. Default DefaultNativeMaxCategories.
	NativeMaxCategories int
}

// Pipeline is a fitted feature pipeline. It is safe for concurrent use.
type Pipeline struct {
	label       labelInfo
	categorical string
	cols        []*columnPipe
	names       []string
	categories  []int
}

// Names returns the feature names, one per matrix column.
func (p *Pipeline) Names() []string { return slices.Clone(p.names) }

// Categories returns, per feature, its category count (0 for numeric), as
// data.Matrix.Categories.
func (p *Pipeline) Categories() []int { return slices.Clone(p.categories) }

// LabelColumn returns the label column's name.
func (p *Pipeline) LabelColumn() string { return p.label.Column }

// Task returns Binary or Regression.
func (p *Pipeline) Task() string { return p.label.Task }

// Positive returns the positive class of a binary label ("" for
// regression).
func (p *Pipeline) Positive() string { return p.label.Positive }

// PositiveReason says why Positive is the positive class, for example
// `"yes" (named "yes")` or `"churned" (the minority class in the training
// rows)`; "" for regression.
func (p *Pipeline) PositiveReason() string {
	l := p.label
	switch l.Rule {
	case "":
		return ""
	case ruleSpec:
		return fmt.Sprintf("%q (set by the spec)", l.Positive)
	case ruleMinority:
		return fmt.Sprintf("%q (the minority class in the training rows)", l.Positive)
	default:
		return fmt.Sprintf("%q (a class named %q is positive unless told otherwise)", l.Positive, l.Rule)
	}
}

// Fit fits the pipeline on rows trainIdx of t (nil means every row): every
// statistic, vocabulary and the label's classes come from those rows
// only. Every column but the label and those dropped becomes a feature, in
// table order.
//
// A binary label's positive class is spec.Positive when set (it must be
// one of the two classes); else the class named "yes", then "true", then
// "1" (case-insensitive); else the minority class in the training rows
// (on a tie, the class that sorts last). Pipeline.PositiveReason says
// which.
func Fit(t *table.Table, spec FeatureSpec, trainIdx []int) (*Pipeline, error) {
	if t == nil {
		return nil, errors.New("fit features: nil table")
	}
	if trainIdx == nil {
		trainIdx = make([]int, t.Rows())
		for i := range trainIdx {
			trainIdx[i] = i
		}
	}
	if len(trainIdx) == 0 {
		return nil, errors.New("fit features: no training rows")
	}
	for _, i := range trainIdx {
		if i < 0 || i >= t.Rows() {
			return nil, fmt.Errorf("fit features: training row index %d outside the table's %d rows", i, t.Rows())
		}
	}
	switch spec.Categorical {
	case "":
		spec.Categorical = Native
	case Native, Onehot:
	default:
		return nil, fmt.Errorf("fit features: categorical handling %q is neither %q nor %q", spec.Categorical, Native, Onehot)
	}
	if spec.OnehotMaxCategories == 0 {
		spec.OnehotMaxCategories = DefaultOnehotMaxCategories
	}
	if spec.NativeMaxCategories == 0 {
		spec.NativeMaxCategories = DefaultNativeMaxCategories
	}
	if spec.OnehotMaxCategories < 2 || spec.NativeMaxCategories < 2 {
		return nil, errors.New("fit features: category limits must be at least 2")
	}

	if spec.Label == "" {
		return nil, errors.New("fit features: no label column")
	}
	skip := map[string]bool{spec.Label: true}
	for _, d := range spec.Drop {
		if t.Column(d) == nil {
			return nil, fmt.Errorf("fit features: drop: no column %q", d)
		}
		if d == spec.Label {
			return nil, fmt.Errorf("fit features: label %q is also dropped", d)
		}
		skip[d] = true
	}
	for name := range spec.Transforms {
		if t.Column(name) == nil {
			return nil, fmt.Errorf("fit features: transforms: no column %q", name)
		}
		if skip[name] {
			return nil, fmt.Errorf("fit features: transforms: column %q is the label or dropped", name)
		}
	}

	train := t.Subset(trainIdx)
	p := &Pipeline{categorical: spec.Categorical}
	lab, err := fitLabel(train, spec)
	if err != nil {
		return nil, fmt.Errorf("fit features: %w", err)
	}
	p.label = lab
	seen := map[string]string{}
	for _, c := range train.Columns() {
		if skip[c.Name] {
			continue
		}
		cp, err := fitColumn(c, spec.Transforms[c.Name], spec)
		if err != nil {
			return nil, fmt.Errorf("fit features: column %q: %w", c.Name, err)
		}
		for _, n := range cp.Names {
			if other, dup := seen[n]; dup {
				return nil, fmt.Errorf("fit features: feature name %q of column %q is also made by column %q", n, c.Name, other)
			}
			seen[n] = c.Name
		}
		p.cols = append(p.cols, cp)
		p.names = append(p.names, cp.Names...)
		p.categories = append(p.categories, cp.Categories...)
	}
	return p, nil
}

// Transform applies the fitted pipeline to t, which must have every
// feature column (the label need not be there; other columns are
// ignored). A feature column must be numeric (int, float, bool or
// timestamp) where it was numeric when fitted; any type serves where
// text was. Rows in errors count from 1.
func (p *Pipeline) Transform(t *table.Table) (*data.Matrix, error) {
	if t == nil {
		return nil, errors.New("transform features: nil table")
	}
	m := &data.Matrix{Names: slices.Clone(p.names), Categories: slices.Clone(p.categories), Cols: make([][]float64, 0, len(p.names))}
	for _, cp := range p.cols {
		outs, err := cp.apply(t)
		if err != nil {
			return nil, fmt.Errorf("transform features: column %q: %w", cp.Column, err)
		}
		m.Cols = append(m.Cols, outs...)
	}
	return m, nil
}

// Label returns the label of every row of t: 0 or 1 for a binary label,
// with the positive class; the value for regression, with "". A missing
// label, or a class not seen in training, is an error naming the row.
func (p *Pipeline) Label(t *table.Table) ([]float64, string, error) {
	if t == nil {
		return nil, "", errors.New("label: nil table")
	}
	y, err := p.label.apply(t)
	if err != nil {
		return nil, "", fmt.Errorf("label %q: %w", p.label.Column, err)
	}
	return y, p.label.Positive, nil
}

// quoteList formats names for an error message.
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
