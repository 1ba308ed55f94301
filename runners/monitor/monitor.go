// Package monitor compares a current sample of a model's inputs with a
// reference sample (usually the training data), feature by feature, with
// the statistics of package drift, and writes the comparison as drift.json
// and a self-contained drift.html page.
package monitor

import (
	"fmt"
	"slices"
	"strings"

	"github.com/slipway-ml/slipway/compiler/spec"
	"github.com/slipway-ml/slipway/runners/drift"
	"github.com/slipway-ml/slipway/runners/train/table"
)

// Config says which columns to compare and how.
type Config struct {
	// Reference and Current name the two samples in the report (a dataset
	// name, a file, a time window); they do not affect the comparison.
	Reference, Current string
	// Method is the drift method of every feature (see package drift); empty
	// picks drift's default per feature.
	Method string
	// Threshold is the threshold of every feature; zero picks the method's
	// default.
	Threshold float64
	// Features overrides Method and Threshold per feature, keyed by column
	// name.
	Features map[string]FeatureConfig
	// Share is the share of drifted features at which the dataset counts as
	// drifted; a value outside (0, 1] means drift.DefaultShare.
	Share float64
	// Columns are the columns to compare. Empty means every column present
	// in both samples, in the reference's order, except timestamp columns
	// (time always moves on) and Exclude.
	Columns []string
	// Exclude are columns never compared: the label, PII columns.
	Exclude []string
}

// FeatureConfig overrides the method or threshold of one feature; a zero
// field keeps the Config's value.
type FeatureConfig struct {
	// Method is the feature's drift method.
	Method string
	// Threshold is the feature's threshold.
	Threshold float64
}

// Report is the outcome of Compare.
type Report struct {
	// Reference and Current name the two samples (Config.Reference and
	// Config.Current).
	Reference string `json:"reference"`
	Current   string `json:"current"`
	// RowsReference and RowsCurrent are the numbers of rows compared.
	RowsReference int `json:"rowsReference"`
	RowsCurrent   int `json:"rowsCurrent"`
	// Method is the configured method; empty when drift chose one per
	// feature.
	Method string `json:"method"`
	// Share is the share of drifted features at which the dataset counts as
	// drifted, after defaults.
	Share float64 `json:"share"`
	// ShareDrifted is the share of features that drifted.
	ShareDrifted float64 `json:"shareDrifted"`
	// Drifted reports dataset drift: ShareDrifted ≥ Share.
	Drifted bool `json:"drifted"`
	// Features holds one result per compared column, sorted by name.
	Features []drift.Result `json:"features"`
}

// Compare compares every selected column of cur with the same column of
// ref. A selected column (Config.Columns, or a key of Config.Features)
// missing from either table is an error naming it, as is a column whose
// values cannot be compared (no value, a numeric column on one side and
// text on the other, a method that does not fit).
func Compare(ref, cur *table.Table, cfg Config) (*Report, error) {
	if ref == nil || cur == nil {
		return nil, fmt.Errorf("compare drift: expected a reference and a current table, found none")
	}
	names, err := columns(ref, cur, cfg)
	if err != nil {
		return nil, err
	}
	results := make([]drift.Result, 0, len(names))
	for _, name := range names {
		method, threshold := cfg.Method, cfg.Threshold
		if fc, ok := cfg.Features[name]; ok {
			if fc.Method != "" {
				method = fc.Method
			}
			if fc.Threshold != 0 {
				threshold = fc.Threshold
			}
		}
		res, err := drift.Feature(driftColumn(ref.Column(name)), driftColumn(cur.Column(name)), method, threshold)
		if err != nil {
			return nil, fmt.Errorf("compare drift of column %q: %w", name, err)
		}
		results = append(results, res)
	}
	slices.SortFunc(results, func(a, b drift.Result) int { return strings.Compare(a.Feature, b.Feature) })
	share := cfg.Share
	if !(share > 0 && share <= 1) {
		share = drift.DefaultShare
	}
	drifted, shareDrifted := drift.Dataset(results, share)
	return &Report{
		Reference: cfg.Reference, Current: cfg.Current,
		RowsReference: ref.Rows(), RowsCurrent: cur.Rows(),
		Method: cfg.Method, Share: share, ShareDrifted: shareDrifted, Drifted: drifted,
		Features: results,
	}, nil
}

// columns returns the names of the columns to compare.
func columns(ref, cur *table.Table, cfg Config) ([]string, error) {
	excluded := func(name string) bool { return slices.Contains(cfg.Exclude, name) }
	missing := func(name, what string) error {
		switch {
		case ref.Column(name) == nil:
			return fmt.Errorf("compare drift: %s %q is not a column of the reference data (%s)", what, name, listNames(ref.Names()))
		case cur.Column(name) == nil:
			return fmt.Errorf("compare drift: %s %q is not a column of the current data (%s)", what, name, listNames(cur.Names()))
		}
		return nil
	}
	for _, name := range sortedKeys(cfg.Features) {
		if err := missing(name, "feature"); err != nil {
			return nil, err
		}
	}
	if len(cfg.Columns) > 0 {
		var out []string
		for _, name := range cfg.Columns {
			if err := missing(name, "column"); err != nil {
				return nil, err
			}
			if !excluded(name) && !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
		return out, nil
	}
	var out []string
	for _, c := range ref.Columns() {
		if excluded(c.Name) || c.Type == table.Timestamp || cur.Column(c.Name) == nil {
			continue
		}
		out = append(out, c.Name)
	}
	return out, nil
}

// listNames describes a table's columns for an error message.
func listNames(names []string) string {
	if len(names) == 0 {
		return "it has no columns"
	}
	const most = 10
	quoted := make([]string, 0, most)
	for i, n := range names {
		if i == most {
			break
		}
		quoted = append(quoted, fmt.Sprintf("%q", n))
	}
	s := "found " + strings.Join(quoted, ", ")
	if len(names) > most {
		s += fmt.Sprintf(" and %d more", len(names)-most)
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// driftColumn converts a table column: numeric columns (int, float, bool,
// timestamp) to Numbers with NaN for missing values, text columns to
// Categories with "" for missing values.
func driftColumn(c *table.Column) drift.Column {
	n := c.Len()
	out := drift.Column{Name: c.Name}
	if c.Numeric() {
		out.Numbers = make([]float64, n)
		for i := range n {
			out.Numbers[i] = c.Number(i)
		}
		return out
	}
	out.Categories = make([]string, n)
	for i := range n {
		out.Categories[i], _ = c.Text(i)
	}
	return out
}

// ConfigFromSpec maps a spec's drift section to a Config: method,
// threshold, share and per-feature thresholds. The window and the choice of
// reference select the data, which is the caller's part, as are the names
// and Exclude. A nil m, or one without a drift section, gives the zero
// Config (drift's defaults).
func ConfigFromSpec(m *spec.Monitoring) Config {
	if m == nil || m.Drift == nil {
		return Config{}
	}
	d := m.Drift
	cfg := Config{Method: d.Method, Threshold: d.Threshold, Share: d.Share}
	if len(d.Features) > 0 {
		cfg.Features = make(map[string]FeatureConfig, len(d.Features))
		for name, f := range d.Features {
			cfg.Features[name] = FeatureConfig{Threshold: f.Threshold}
		}
	}
	return cfg
}
