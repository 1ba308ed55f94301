// Package datacheck checks a dataset's table against what its spec
// declares and expects (columns, types, nulls, ranges, allowed values,
// uniqueness, null fractions, row counts) and profiles every column. The
// Report is data, JSON with stable snake_case fields, that the run report
// shows; Report.Err turns its failures into the error that stops a run.
//
// Values of columns marked pii never appear in a report: their examples
// read "[redacted]" and their profile omits minimum, maximum and mean.
package datacheck

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slipway-ml/slipway/compiler/spec"
	"github.com/slipway-ml/slipway/runners/train/table"
)

// DefaultMaxExamples is how many offending rows a failed check lists by
// default.
const DefaultMaxExamples = 5

// Redacted stands in for a value of a pii column.
const Redacted = "[redacted]"

// maxValueBytes is the longest example value shown; longer ones are cut.
const maxValueBytes = 100

// The checks, in the order a column's results are listed.
const (
	// CheckPresent fails when a column the spec names is not in the data.
	CheckPresent = "present"
	// CheckType compares a column's type with the declared one.
	CheckType = "type"
	// CheckNotNull fails on nulls in a column that is not nullable.
	CheckNotNull = "not_null"
	// CheckUnique fails on a value (or combination) seen in an earlier row.
	CheckUnique = "unique"
	// CheckValues fails on a value outside the column's declared values.
	CheckValues = "values"
	// CheckMin fails on a value below the column's declared min.
	CheckMin = "min"
	// CheckMax fails on a value above the column's declared max.
	CheckMax = "max"
	// CheckRange fails on a value outside expectations.ranges.
	CheckRange = "range"
	// CheckMaxNullFraction fails when the share of nulls is over
	// expectations.maxNullFraction.
	CheckMaxNullFraction = "max_null_fraction"
	// CheckMinRows fails when the table has fewer rows than
	// expectations.minRows.
	CheckMinRows = "min_rows"
	// CheckMaxRows fails when the table has more rows than
	// expectations.maxRows.
	CheckMaxRows = "max_rows"
)

var checkOrder = map[string]int{
	CheckMinRows: 0, CheckMaxRows: 1, CheckPresent: 2, CheckType: 3, CheckNotNull: 4,
	CheckUnique: 5, CheckValues: 6, CheckMin: 7, CheckMax: 8, CheckRange: 9, CheckMaxNullFraction: 10,
}

// Report is the outcome of Check.
type Report struct {
	// Dataset is the dataset's name.
	Dataset string `json:"dataset"`
	// Rows is the number of rows checked.
	Rows int `json:"rows"`
	// Passed is true when every check passed.
	Passed bool `json:"passed"`
	// Summary counts the checks.
	Summary Summary `json:"summary"`
	// Results are the checks: table-wide ones first, then by column name,
	// then in the order of the Check constants.
	Results []Result `json:"results"`
	// Profile describes each column of the data, in the data's order.
	Profile []Profile `json:"profile"`
}

// Summary counts checks.
type Summary struct {
	// Checks is the number of checks run.
	Checks int `json:"checks"`
	// Passed is how many passed.
	Passed int `json:"passed"`
	// Failed is how many failed.
	Failed int `json:"failed"`
}

// Result is the outcome of one check.
type Result struct {
	// Check is the check's name, one of the Check constants.
	Check string `json:"check"`
	// Column is the column checked; columns joined by "," for a unique
	// combination; empty for a table-wide check.
	Column string `json:"column,omitempty"`
	// Rule is the expectation in words, as "min 0" or "not null".
	Rule string `json:"rule"`
	// Passed is true when the data meets the rule.
	Passed bool `json:"passed"`
	// Failing is the number of rows that break the rule (0 for a
	// table-wide check).
	Failing int `json:"failing"`
	// Message says what was found, where a count of rows does not.
	Message string `json:"message,omitempty"`
	// Examples are the first offending rows, by row number.
	Examples []Example `json:"examples,omitempty"`
}

// Example is one offending row.
type Example struct {
	// Row is the row number, 1 for the first data row.
	Row int `json:"row"`
	// Value is the offending value as text (Redacted for a pii column);
	// empty when Null.
	Value string `json:"value"`
	// Null is true when the value is missing.
	Null bool `json:"null,omitempty"`
	// FirstRow is, for a repeated value, the row it first appeared in.
	FirstRow int `json:"first_row,omitempty"`
}

// Profile describes one column.
type Profile struct {
	// Column is the column's name.
	Column string `json:"column"`
	// Type is the column's type.
	Type string `json:"type"`
	// Declared is true when the spec declares the column.
	Declared bool `json:"declared"`
	// PII is true when the spec marks the column as personal data.
	PII bool `json:"pii,omitempty"`
	// Count is the number of values present.
	Count int `json:"count"`
	// Nulls is the number of missing values.
	Nulls int `json:"nulls"`
	// NullFraction is Nulls over the number of rows (0 with no rows).
	NullFraction float64 `json:"null_fraction"`
	// Distinct is the number of distinct values of a string, category or
	// bool column.
	Distinct *int `json:"distinct,omitempty"`
	// Min is the least finite value of an int or float column.
	Min *float64 `json:"min,omitempty"`
	// Max is the greatest finite value of an int or float column.
	Max *float64 `json:"max,omitempty"`
	// Mean is the mean of the finite values of an int or float column, or
	// the share of true values of a bool column.
	Mean *float64 `json:"mean,omitempty"`
	// Infinite is the number of infinite values of a float column, which
	// Min, Max and Mean leave out.
	Infinite int `json:"infinite,omitempty"`
	// Earliest is the earliest value of a timestamp column, RFC 3339 UTC.
	Earliest string `json:"earliest,omitempty"`
	// Latest is the latest value of a timestamp column, RFC 3339 UTC.
	Latest string `json:"latest,omitempty"`
}

// Option configures Check.
type Option func(*config)

type config struct {
	maxExamples int
}

// MaxExamples sets how many offending rows a failed check lists; 0 lists
// none. Default DefaultMaxExamples.
func MaxExamples(n int) Option {
	return func(c *config) { c.maxExamples = max(n, 0) }
}

// Check checks t against the columns and expectations of ds and profiles
// its columns. Every declared column must be in t with its declared type;
// a column that is not nullable holds no nulls; values lie within the
// column's min and max and expectations.ranges; a category's values are
// among its declared values; a unique column (or combination listed in
// expectations.unique) repeats no value, nulls aside; each column's share
// of nulls is within expectations.maxNullFraction; the number of rows is
// within expectations.minRows and maxRows. A nil ds checks nothing and
// only profiles.
func Check(t *table.Table, ds *spec.Dataset, opts ...Option) *Report {
	cfg := config{maxExamples: DefaultMaxExamples}
	for _, o := range opts {
		o(&cfg)
	}
	if ds == nil {
		ds = &spec.Dataset{}
	}
	ck := &checker{t: t, ds: ds, cfg: cfg, present: map[string]bool{}}
	ck.run()
	r := &Report{Dataset: ds.Name, Rows: t.Rows(), Results: ck.results, Profile: profile(t, ds)}
	slices.SortStableFunc(r.Results, func(a, b Result) int {
		return cmp.Or(
			cmp.Compare(a.Column, b.Column),
			cmp.Compare(checkOrder[a.Check], checkOrder[b.Check]),
			cmp.Compare(a.Rule, b.Rule),
		)
	})
	for _, res := range r.Results {
		r.Summary.Checks++
		if res.Passed {
			r.Summary.Passed++
		} else {
			r.Summary.Failed++
		}
	}
	r.Passed = r.Summary.Failed == 0
	return r
}

// checker is the state of one Check.
type checker struct {
	t       *table.Table
	ds      *spec.Dataset
	cfg     config
	results []Result
	// present records the columns whose presence was checked.
	present map[string]bool
}

func (ck *checker) add(r Result) { ck.results = append(ck.results, r) }

// addRows adds a check that passes when no row breaks it.
func (ck *checker) addRows(r Result, ex examples) {
	r.Failing, r.Examples, r.Passed = ex.n, ex.list, ex.n == 0
	ck.add(r)
}

// column returns the named column, adding a failed presence check the
// first time a named column is missing.
func (ck *checker) column(name string) *table.Column {
	c := ck.t.Column(name)
	if c == nil && !ck.present[name] {
		ck.present[name] = true
		ck.add(Result{Check: CheckPresent, Column: name, Rule: "column in the data",
			Message: "the spec names the column but the data has no such column"})
	}
	return c
}

func (ck *checker) pii(name string) bool {
	c := ck.ds.Columns[name]
	return c != nil && c.PII
}

func (ck *checker) run() {
	exp := ck.ds.Expectations
	if exp == nil {
		exp = &spec.Expectations{}
	}
	rows := ck.t.Rows()
	if exp.MinRows != nil {
		r := Result{Check: CheckMinRows, Rule: "min_rows " + strconv.FormatInt(*exp.MinRows, 10), Passed: int64(rows) >= *exp.MinRows}
		if !r.Passed {
			r.Message = fmt.Sprintf("%d rows, fewer than %d", rows, *exp.MinRows)
		}
		ck.add(r)
	}
	if exp.MaxRows != nil {
		r := Result{Check: CheckMaxRows, Rule: "max_rows " + strconv.FormatInt(*exp.MaxRows, 10), Passed: int64(rows) <= *exp.MaxRows}
		if !r.Passed {
			r.Message = fmt.Sprintf("%d rows, more than %d", rows, *exp.MaxRows)
		}
		ck.add(r)
	}

	uniqueDone := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(ck.ds.Columns)) {
		decl := ck.ds.Columns[name]
		c := ck.column(name)
		if c == nil {
			continue
		}
		ck.checkType(c, decl)
		if !decl.Nullable {
			ck.checkNotNull(c)
		}
		if decl.Unique || slices.Contains(exp.Unique, name) {
			ck.checkUnique([]*table.Column{c})
			uniqueDone[name] = true
		}
		if len(decl.Values) > 0 {
			ck.checkValues(c, decl.Values)
		}
		if decl.Min != nil {
			ck.checkBounds(CheckMin, c, decl.Min, nil)
		}
		if decl.Max != nil {
			ck.checkBounds(CheckMax, c, nil, decl.Max)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(exp.Ranges)) {
		rg := exp.Ranges[name]
		if rg.Min == nil && rg.Max == nil {
			continue
		}
		if c := ck.column(name); c != nil {
			ck.checkBounds(CheckRange, c, rg.Min, rg.Max)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(exp.MaxNullFraction)) {
		if c := ck.column(name); c != nil {
			ck.checkNullFraction(c, exp.MaxNullFraction[name])
		}
	}
	for _, key := range exp.Unique {
		names := splitNames(key)
		joined := strings.Join(names, ",")
		if len(names) == 0 || uniqueDone[joined] {
			continue
		}
		uniqueDone[joined] = true
		cols := make([]*table.Column, 0, len(names))
		for _, n := range names {
			if c := ck.column(n); c != nil {
				cols = append(cols, c)
			}
		}
		if len(cols) == len(names) {
			ck.checkUnique(cols)
		}
	}
}

// splitNames splits a unique key ("a, b") into column names.
func splitNames(key string) []string {
	var out []string
	for _, n := range strings.Split(key, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// examples collects up to max offending rows.
type examples struct {
	max  int
	list []Example
	n    int
}

func (e *examples) add(x Example) {
	e.n++
	if len(e.list) < e.max {
		e.list = append(e.list, x)
	}
}

// example is row i of c as an example.
func (ck *checker) example(c *table.Column, i int) Example {
	s, ok := c.Text(i)
	if !ok {
		return Example{Row: i + 1, Null: true}
	}
	if ck.pii(c.Name) {
		return Example{Row: i + 1, Value: Redacted}
	}
	return Example{Row: i + 1, Value: cut(s)}
}

// cut shortens s to maxValueBytes, at a rune boundary.
func cut(s string) string {
	if len(s) <= maxValueBytes {
		return s
	}
	n := maxValueBytes
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

func (ck *checker) checkType(c *table.Column, decl *spec.Column) {
	nulls := c.NullCount()
	found := fmt.Sprintf("%s, %d of %d rows null", c.Type, nulls, c.Len())
	r := Result{Check: CheckType, Column: c.Name, Rule: "type " + decl.Type}
	if string(c.Type) == decl.Type {
		r.Passed = true
		r.Message = found
	} else {
		r.Message = fmt.Sprintf("declared %s, the data holds %s", decl.Type, found)
	}
	ck.add(r)
}

func (ck *checker) checkNotNull(c *table.Column) {
	ex := examples{max: ck.cfg.maxExamples}
	for i := range c.Len() {
		if c.IsNull(i) {
			ex.add(Example{Row: i + 1, Null: true})
		}
	}
	ck.addRows(Result{Check: CheckNotNull, Column: c.Name, Rule: "not null"}, ex)
}

func (ck *checker) checkNullFraction(c *table.Column, limit float64) {
	nulls := c.NullCount()
	frac := 0.0
	if c.Len() > 0 {
		frac = float64(nulls) / float64(c.Len())
	}
	r := Result{Check: CheckMaxNullFraction, Column: c.Name, Rule: "max_null_fraction " + table.FormatNumber(limit)}
	if frac <= limit {
		r.Passed = true
		ck.add(r)
		return
	}
	ex := examples{max: ck.cfg.maxExamples}
	for i := range c.Len() {
		if c.IsNull(i) {
			ex.add(Example{Row: i + 1, Null: true})
		}
	}
	r.Failing, r.Examples = ex.n, ex.list
	r.Message = fmt.Sprintf("null fraction %s (%d of %d rows)", strconv.FormatFloat(frac, 'g', 4, 64), nulls, c.Len())
	ck.add(r)
}

// checkBounds checks that the values of c are at least lo and at most hi
// (either may be nil).
func (ck *checker) checkBounds(check string, c *table.Column, lo, hi *float64) {
	var rule []string
	if lo != nil {
		rule = append(rule, "min "+table.FormatNumber(*lo))
	}
	if hi != nil {
		rule = append(rule, "max "+table.FormatNumber(*hi))
	}
	r := Result{Check: check, Column: c.Name, Rule: strings.Join(rule, ", ")}
	if c.Type != table.Int && c.Type != table.Float {
		r.Message = fmt.Sprintf("min and max apply to int and float columns; the column is %s", c.Type)
		ck.add(r)
		return
	}
	ex := examples{max: ck.cfg.maxExamples}
	for i := range c.Len() {
		v := c.Number(i)
		if math.IsNaN(v) {
			continue
		}
		if lo != nil && v < *lo || hi != nil && v > *hi {
			ex.add(ck.example(c, i))
		}
	}
	ck.addRows(r, ex)
}

func (ck *checker) checkValues(c *table.Column, values []string) {
	allowed := make(map[string]bool, len(values))
	for _, v := range values {
		allowed[v] = true
	}
	r := Result{Check: CheckValues, Column: c.Name, Rule: "one of " + listValues(values)}
	ex := examples{max: ck.cfg.maxExamples}
	if c.Type.Text() {
		bad := make([]bool, len(c.Dict))
		for k, s := range c.Dict {
			bad[k] = !allowed[s]
		}
		for i, code := range c.Codes {
			if code >= 0 && bad[code] {
				ex.add(ck.example(c, i))
			}
		}
	} else {
		for i := range c.Len() {
			if s, ok := c.Text(i); ok && !allowed[s] {
				ex.add(ck.example(c, i))
			}
		}
	}
	ck.addRows(r, ex)
}

// listValues writes allowed values for a rule, the first ten quoted.
func listValues(values []string) string {
	const show = 10
	var b strings.Builder
	b.WriteByte('[')
	for i, v := range values {
		if i == show {
			fmt.Fprintf(&b, ", … (%d values)", len(values))
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(cut(v)))
	}
	b.WriteByte(']')
	return b.String()
}

// checkUnique checks that no two rows hold the same value of one column,
// or the same combination of several; a row with a null among them is
// left out.
func (ck *checker) checkUnique(cols []*table.Column) {
	names := make([]string, len(cols))
	for j, c := range cols {
		names[j] = c.Name
	}
	r := Result{Check: CheckUnique, Column: strings.Join(names, ","), Rule: "unique"}
	ex := examples{max: ck.cfg.maxExamples}
	first := map[string]int{}
	var key []byte
	n := ck.t.Rows()
rows:
	for i := range n {
		key = key[:0]
		for _, c := range cols {
			if c.IsNull(i) {
				continue rows
			}
			key = appendKey(key, c, i)
		}
		if f, seen := first[string(key)]; seen {
			x := Example{Row: i + 1, FirstRow: f + 1}
			x.Value = ck.combination(cols, i)
			ex.add(x)
			continue
		}
		first[string(key)] = i
	}
	ck.addRows(r, ex)
}

// combination shows row i of cols: the value of one column, or
// name=value pairs for several.
func (ck *checker) combination(cols []*table.Column, i int) string {
	if len(cols) == 1 {
		return ck.example(cols[0], i).Value
	}
	parts := make([]string, len(cols))
	for j, c := range cols {
		parts[j] = c.Name + "=" + ck.example(c, i).Value
	}
	return strings.Join(parts, ", ")
}

// appendKey appends an encoding of row i of c that is equal for equal
// values and differs for different ones.
func appendKey(b []byte, c *table.Column, i int) []byte {
	switch c.Type {
	case table.Int, table.Timestamp:
		return strconv.AppendInt(append(b, 'i'), c.Ints[i], 10)
	case table.Float:
		v := c.Floats[i]
		if v == 0 {
			v = 0 // -0 equals 0
		}
		return strconv.AppendUint(append(b, 'f'), math.Float64bits(v), 16)
	case table.Bool:
		return strconv.AppendBool(append(b, 'b'), c.Bools[i])
	}
	s := c.Dict[c.Codes[i]]
	b = strconv.AppendInt(append(b, 's'), int64(len(s)), 10)
	return append(append(b, ':'), s...)
}

// profile describes each column of t.
func profile(t *table.Table, ds *spec.Dataset) []Profile {
	out := make([]Profile, 0, len(t.Columns()))
	for _, c := range t.Columns() {
		decl := ds.Columns[c.Name]
		p := Profile{Column: c.Name, Type: string(c.Type), Declared: decl != nil, PII: decl != nil && decl.PII}
		p.Nulls = c.NullCount()
		p.Count = c.Len() - p.Nulls
		if c.Len() > 0 {
			p.NullFraction = float64(p.Nulls) / float64(c.Len())
		}
		switch c.Type {
		case table.String, table.Category:
			used := make([]bool, len(c.Dict))
			d := 0
			for _, code := range c.Codes {
				if code >= 0 && !used[code] {
					used[code] = true
					d++
				}
			}
			p.Distinct = &d
		case table.Bool:
			d, trues, seen := 0, 0, [2]bool{}
			for i, v := range c.Bools {
				if !c.Valid.Get(i) {
					continue
				}
				k := 0
				if v {
					k, trues = 1, trues+1
				}
				if !seen[k] {
					seen[k] = true
					d++
				}
			}
			p.Distinct = &d
			if p.Count > 0 {
				m := float64(trues) / float64(p.Count)
				p.Mean = &m
			}
		case table.Int, table.Float:
			if !p.PII {
				numeric(c, &p)
			}
		case table.Timestamp:
			if !p.PII {
				lo, hi, any := int64(math.MaxInt64), int64(math.MinInt64), false
				for i, v := range c.Ints {
					if c.Valid.Get(i) {
						lo, hi, any = min(lo, v), max(hi, v), true
					}
				}
				if any {
					p.Earliest = time.Unix(0, lo).UTC().Format(time.RFC3339Nano)
					p.Latest = time.Unix(0, hi).UTC().Format(time.RFC3339Nano)
				}
			}
		}
		out = append(out, p)
	}
	return out
}

// numeric sets the minimum, maximum and mean of the finite values of an
// int or float column.
func numeric(c *table.Column, p *Profile) {
	lo, hi, mean, n := math.Inf(1), math.Inf(-1), 0.0, 0
	for i := range c.Len() {
		v := c.Number(i)
		if math.IsNaN(v) {
			continue
		}
		if math.IsInf(v, 0) {
			p.Infinite++
			continue
		}
		n++
		lo, hi = min(lo, v), max(hi, v)
		mean += (v - mean) / float64(n) // a running mean does not overflow
	}
	if n > 0 {
		p.Min, p.Max, p.Mean = &lo, &hi, &mean
	}
}
