// Package table holds a columnar in-memory table of named, typed columns
// with missing values, and reads one from CSV. It is the form data takes
// between a file and the fitted feature transforms (package features), which
// turn it into the float matrix models train on.
//
// Storage is per type and free of per-cell interfaces:
//
//   - float: []float64, NaN is missing;
//   - int: []int64 plus a validity bitmap;
//   - bool: []bool plus a validity bitmap;
//   - timestamp: []int64 Unix nanoseconds (UTC) plus a validity bitmap;
//   - string and category: dictionary-encoded, []int32 codes into a
//     []string dictionary, -1 is missing.
//
// The type names are those of a spec's columns ("int", "float", "bool",
// "string", "category", "timestamp"), so a declared schema converts with
// Type(col.Type).
package table

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Type is the type of a column's values; the names are the spec's.
type Type string

// The column types.
const (
	// Int is a 64-bit integer column.
	Int Type = "int"
	// Float is a float64 column.
	Float Type = "float"
	// Bool is a boolean column.
	Bool Type = "bool"
	// String is free text, dictionary-encoded.
	String Type = "string"
	// Category is a categorical column, dictionary-encoded.
	Category Type = "category"
	// Timestamp is a point in time, held as Unix nanoseconds UTC.
	Timestamp Type = "timestamp"
)

// Valid reports whether t is one of the six column types.
func (t Type) Valid() bool {
	switch t {
	case Int, Float, Bool, String, Category, Timestamp:
		return true
	}
	return false
}

// Text reports whether t is dictionary-encoded (string or category).
func (t Type) Text() bool { return t == String || t == Category }

// Bitmap is a validity bitmap: bit i set means row i holds a value. A nil
// Bitmap on a column means every row holds a value.
type Bitmap []uint64

// NewBitmap returns a bitmap of n bits, all set when set is true.
func NewBitmap(n int, set bool) Bitmap {
	b := make(Bitmap, (n+63)/64)
	if set {
		for i := range b {
			b[i] = ^uint64(0)
		}
	}
	return b
}

// Get reports bit i. A nil bitmap reports true for every bit.
func (b Bitmap) Get(i int) bool {
	if b == nil {
		return true
	}
	return b[i>>6]&(1<<(uint(i)&63)) != 0
}

// Set sets bit i.
func (b Bitmap) Set(i int) { b[i>>6] |= 1 << (uint(i) & 63) }

// Clear clears bit i.
func (b Bitmap) Clear(i int) { b[i>>6] &^= 1 << (uint(i) & 63) }

// Column is one named, typed column. Exactly the storage of its Type is
// set; see the package comment.
type Column struct {
	// Name of the column.
	Name string
	// Type of the values.
	Type Type
	// Floats holds a float column; NaN is missing.
	Floats []float64
	// Ints holds an int column, or a timestamp column as Unix nanoseconds.
	Ints []int64
	// Bools holds a bool column.
	Bools []bool
	// Codes holds a string or category column: indexes into Dict, -1 is
	// missing.
	Codes []int32
	// Dict is the dictionary of a string or category column. Entries are
	// distinct; an entry need not be used by any row.
	Dict []string
	// Valid is the validity bitmap of an int, bool or timestamp column;
	// nil means no value is missing.
	Valid Bitmap
}

// Len returns the number of rows.
func (c *Column) Len() int {
	switch c.Type {
	case Float:
		return len(c.Floats)
	case Int, Timestamp:
		return len(c.Ints)
	case Bool:
		return len(c.Bools)
	default:
		return len(c.Codes)
	}
}

// IsNull reports whether row i is missing.
func (c *Column) IsNull(i int) bool {
	switch c.Type {
	case Float:
		return math.IsNaN(c.Floats[i])
	case String, Category:
		return c.Codes[i] < 0
	default:
		return !c.Valid.Get(i)
	}
}

// NullCount returns the number of missing rows.
func (c *Column) NullCount() int {
	n := 0
	for i := 0; i < c.Len(); i++ {
		if c.IsNull(i) {
			n++
		}
	}
	return n
}

// Numeric reports whether the column's values read as numbers through
// Number: int, float, bool and timestamp columns.
func (c *Column) Numeric() bool {
	switch c.Type {
	case Int, Float, Bool, Timestamp:
		return true
	}
	return false
}

// Number returns row i as a float64: the value of an int or float column,
// 0 or 1 for a bool, Unix seconds (with a fraction) for a timestamp, and NaN
// when missing or for a string or category column.
func (c *Column) Number(i int) float64 {
	switch c.Type {
	case Float:
		return c.Floats[i]
	case Int:
		if !c.Valid.Get(i) {
			return math.NaN()
		}
		return float64(c.Ints[i])
	case Bool:
		if !c.Valid.Get(i) {
			return math.NaN()
		}
		if c.Bools[i] {
			return 1
		}
		return 0
	case Timestamp:
		if !c.Valid.Get(i) {
			return math.NaN()
		}
		return float64(c.Ints[i]) / 1e9
	}
	return math.NaN()
}

// Text returns row i as text and whether it holds a value: the dictionary
// entry of a string or category, "true"/"false", the decimal form of a
// number (see FormatNumber), or RFC 3339 with nanoseconds in UTC for a
// timestamp.
func (c *Column) Text(i int) (string, bool) {
	if c.IsNull(i) {
		return "", false
	}
	switch c.Type {
	case String, Category:
		return c.Dict[c.Codes[i]], true
	case Float:
		return FormatNumber(c.Floats[i]), true
	case Int:
		return strconv.FormatInt(c.Ints[i], 10), true
	case Bool:
		return strconv.FormatBool(c.Bools[i]), true
	case Timestamp:
		return time.Unix(0, c.Ints[i]).UTC().Format(time.RFC3339Nano), true
	}
	return "", false
}

// FormatNumber formats v as text the same way for int and float columns:
// an integral value below 1e15 in magnitude as an integer ("3", not "3.0"),
// anything else in the shortest form that reads back exactly.
func FormatNumber(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// Subset returns rows idx of the column, copied, in that order. It panics if
// an index is out of range, as slice indexing does.
func (c *Column) Subset(idx []int) *Column {
	out := &Column{Name: c.Name, Type: c.Type}
	switch c.Type {
	case Float:
		out.Floats = make([]float64, len(idx))
		for k, i := range idx {
			out.Floats[k] = c.Floats[i]
		}
		return out
	case String, Category:
		out.Dict = c.Dict
		out.Codes = make([]int32, len(idx))
		for k, i := range idx {
			out.Codes[k] = c.Codes[i]
		}
		return out
	case Bool:
		out.Bools = make([]bool, len(idx))
		for k, i := range idx {
			out.Bools[k] = c.Bools[i]
		}
	default:
		out.Ints = make([]int64, len(idx))
		for k, i := range idx {
			out.Ints[k] = c.Ints[i]
		}
	}
	if c.Valid != nil {
		out.Valid = NewBitmap(len(idx), false)
		for k, i := range idx {
			if c.Valid.Get(i) {
				out.Valid.Set(k)
			}
		}
	}
	return out
}

// check reports a column whose storage does not match its type.
func (c *Column) check() error {
	if !c.Type.Valid() {
		return fmt.Errorf("column %q: unknown type %q", c.Name, c.Type)
	}
	n := c.Len()
	if c.Valid != nil && len(c.Valid) != (n+63)/64 {
		return fmt.Errorf("column %q: validity bitmap has %d words for %d rows", c.Name, len(c.Valid), n)
	}
	if c.Type.Text() {
		for i, code := range c.Codes {
			if code < -1 || int(code) >= len(c.Dict) {
				return fmt.Errorf("column %q: row %d: code %d outside the dictionary of %d", c.Name, i+1, code, len(c.Dict))
			}
		}
	}
	return nil
}

// NewFloat returns a float column; NaN marks a missing value.
func NewFloat(name string, values []float64) *Column {
	return &Column{Name: name, Type: Float, Floats: values}
}

// NewInt returns an int column; valid may be nil when no value is missing.
func NewInt(name string, values []int64, valid Bitmap) *Column {
	return &Column{Name: name, Type: Int, Ints: values, Valid: valid}
}

// NewBool returns a bool column; valid may be nil when no value is missing.
func NewBool(name string, values []bool, valid Bitmap) *Column {
	return &Column{Name: name, Type: Bool, Bools: values, Valid: valid}
}

// NewTimestamp returns a timestamp column of Unix nanoseconds; valid may be
// nil when no value is missing.
func NewTimestamp(name string, nanos []int64, valid Bitmap) *Column {
	return &Column{Name: name, Type: Timestamp, Ints: nanos, Valid: valid}
}

// NewText returns a string or category column (typ String or Category)
// dictionary-encoding values; valid may be nil when no value is missing.
// The dictionary holds the distinct values in order of first appearance.
func NewText(name string, typ Type, values []string, valid Bitmap) *Column {
	c := &Column{Name: name, Type: typ, Codes: make([]int32, len(values))}
	idx := map[string]int32{}
	for i, v := range values {
		if !valid.Get(i) {
			c.Codes[i] = -1
			continue
		}
		code, ok := idx[v]
		if !ok {
			code = int32(len(c.Dict))
			idx[v] = code
			c.Dict = append(c.Dict, v)
		}
		c.Codes[i] = code
	}
	return c
}

// Table is an ordered set of named columns of equal length.
type Table struct {
	cols  []*Column
	index map[string]int
	rows  int
}

// New returns a table of the columns, which must have distinct, non-empty
// names, equal lengths and storage that matches their types.
func New(cols ...*Column) (*Table, error) {
	t := &Table{cols: cols, index: make(map[string]int, len(cols))}
	for i, c := range cols {
		if c == nil {
			return nil, fmt.Errorf("column %d is nil", i+1)
		}
		if c.Name == "" {
			return nil, fmt.Errorf("column %d has an empty name", i+1)
		}
		if _, dup := t.index[c.Name]; dup {
			return nil, fmt.Errorf("column %q appears twice", c.Name)
		}
		if err := c.check(); err != nil {
			return nil, err
		}
		if i == 0 {
			t.rows = c.Len()
		} else if c.Len() != t.rows {
			return nil, fmt.Errorf("column %q has %d rows, column %q has %d", c.Name, c.Len(), cols[0].Name, t.rows)
		}
		t.index[c.Name] = i
	}
	return t, nil
}

// Rows returns the number of rows.
func (t *Table) Rows() int { return t.rows }

// Columns returns the columns in order. The slice is the table's own; do
// not modify it.
func (t *Table) Columns() []*Column { return t.cols }

// Names returns the column names in order.
func (t *Table) Names() []string {
	out := make([]string, len(t.cols))
	for i, c := range t.cols {
		out[i] = c.Name
	}
	return out
}

// Column returns the named column, or nil when there is none.
func (t *Table) Column(name string) *Column {
	i, ok := t.index[name]
	if !ok {
		return nil
	}
	return t.cols[i]
}

// Select returns a table of the named columns, in the order given. The
// columns are shared, not copied.
func (t *Table) Select(names ...string) (*Table, error) {
	cols := make([]*Column, 0, len(names))
	for _, n := range names {
		c := t.Column(n)
		if c == nil {
			return nil, fmt.Errorf("select: no column %q", n)
		}
		cols = append(cols, c)
	}
	out, err := New(cols...)
	if err != nil {
		return nil, fmt.Errorf("select: %w", err)
	}
	out.rows = t.rows
	return out, nil
}

// Drop returns a table without the named columns, keeping the order of the
// rest. Naming a column the table lacks is an error. The columns are
// shared, not copied.
func (t *Table) Drop(names ...string) (*Table, error) {
	drop := make(map[string]bool, len(names))
	for _, n := range names {
		if t.Column(n) == nil {
			return nil, fmt.Errorf("drop: no column %q", n)
		}
		drop[n] = true
	}
	cols := make([]*Column, 0, len(t.cols))
	for _, c := range t.cols {
		if !drop[c.Name] {
			cols = append(cols, c)
		}
	}
	out := &Table{cols: cols, index: make(map[string]int, len(cols)), rows: t.rows}
	for i, c := range cols {
		out.index[c.Name] = i
	}
	return out, nil
}

// Subset returns rows idx of the table, copied, in that order (an index may
// repeat). It panics if an index is out of range, as slice indexing does.
// Dictionaries are shared.
func (t *Table) Subset(idx []int) *Table {
	out := &Table{cols: make([]*Column, len(t.cols)), index: t.index, rows: len(idx)}
	for j, c := range t.cols {
		out.cols[j] = c.Subset(idx)
	}
	return out
}
