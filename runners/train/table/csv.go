package table

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Defaults of ReadOptions.
const (
	// DefaultInferRows is how many rows type inference looks at.
	DefaultInferRows = 10000
	// DefaultMaxRows is the default limit on data rows.
	DefaultMaxRows = 100_000_000
	// DefaultMaxFieldBytes is the default limit on one field's size.
	DefaultMaxFieldBytes = 1 << 20
	// DefaultMaxInferredCategories is the most distinct values an inferred
	// text column may have and still be a category rather than a string.
	DefaultMaxInferredCategories = 1000
)

// ReadOptions configures ReadCSV. The zero value reads comma-separated
// values, infers every column's type from the first DefaultInferRows rows
// and applies the default limits.
type ReadOptions struct {
	// Types declares column types by name (a spec's columns:
	// Type(col.Type)). A declared column must be in the header; values
	// that do not parse as the declared type are errors. Columns not
	// declared are inferred.
	Types map[string]Type
	// Layouts gives the Go time layout of declared or inferred timestamp
	// columns by name (a spec column's layout). Default: time.RFC3339.
	Layouts map[string]string
	// InferRows is how many leading data rows decide an undeclared
	// column's type: int if every value parses as an int, else float if
	// every value parses as a number, else bool if every value is
	// true/false (also TRUE/FALSE, True/False), else timestamp if every
	// value is RFC 3339, else category (or string when it has more than
	// MaxInferredCategories distinct values). Those rows are held as text
	// while inference runs. After them an int column still widens to
	// float when a decimal appears, but any other value that does not parse
	// is an error naming the row; declare the type or raise InferRows. A
	// column with no value in these rows takes its type from its first
	// value; a column with no value at all is a float column of NaN.
	// Default DefaultInferRows; negative means every row.
	InferRows int
	// MaxRows limits the number of data rows. Default DefaultMaxRows;
	// negative means no limit.
	MaxRows int
	// MaxFieldBytes limits the size of one field in bytes. It is checked
	// after a record is read, so it bounds what is kept, not what one
	// line may make the reader buffer; MaxBytes bounds that. Default
	// DefaultMaxFieldBytes; negative means no limit.
	MaxFieldBytes int
	// MaxBytes limits the size of the whole input. Default (0): no limit.
	MaxBytes int64
	// MaxInferredCategories is the most distinct values an inferred text
	// column may have and be a category; more makes it a string column.
	// Default DefaultMaxInferredCategories.
	MaxInferredCategories int
	// Comma is the field delimiter. Default ','.
	Comma rune
	// NullValues are field values read as missing besides the empty
	// field, for example "NA". Default none.
	NullValues []string
}

// ReadCSV reads a table from CSV: a header row naming the columns, then one
// record per row, quoted as RFC 4180 says. An empty field is a missing
// value; a blank line is skipped (as encoding/csv does), so in a
// one-column file a missing value is written "". Errors name the data row (1 is the first row after the header),
// the line in the input and the column:
//
//	row 17 (line 18), column "tenure": "abc" is not an int
func ReadCSV(r io.Reader, opts ReadOptions) (*Table, error) {
	if opts.InferRows == 0 {
		opts.InferRows = DefaultInferRows
	}
	if opts.MaxRows == 0 {
		opts.MaxRows = DefaultMaxRows
	}
	if opts.MaxFieldBytes == 0 {
		opts.MaxFieldBytes = DefaultMaxFieldBytes
	}
	if opts.MaxInferredCategories <= 0 {
		opts.MaxInferredCategories = DefaultMaxInferredCategories
	}
	if opts.MaxBytes > 0 {
		r = &limitReader{r: r, left: opts.MaxBytes, limit: opts.MaxBytes}
	}
	cr := csv.NewReader(r)
	if opts.Comma != 0 {
		cr.Comma = opts.Comma
	}
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true

	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("read csv: empty input: no header row")
	}
	if err != nil {
		return nil, fmt.Errorf("read csv: header: %w", err)
	}
	header = append([]string(nil), header...)
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	seen := make(map[string]bool, len(header))
	for j, name := range header {
		if name == "" {
			return nil, fmt.Errorf("read csv: header: column %d has an empty name", j+1)
		}
		if seen[name] {
			return nil, fmt.Errorf("read csv: header: column %q appears twice", name)
		}
		seen[name] = true
	}
	for name, typ := range opts.Types {
		if !seen[name] {
			return nil, fmt.Errorf("read csv: declared column %q is not in the header", name)
		}
		if !typ.Valid() {
			return nil, fmt.Errorf("read csv: column %q: unknown declared type %q", name, typ)
		}
	}

	rd := &reader{opts: opts, nulls: opts.NullValues}
	rd.cols = make([]*builder, len(header))
	undeclared := false
	for j, name := range header {
		b := &builder{Builder: Builder{Name: name}, layout: time.RFC3339, rd: rd}
		if l, ok := opts.Layouts[name]; ok && l != "" {
			b.layout = l
		}
		if typ, ok := opts.Types[name]; ok {
			b.SetType(typ)
			b.declared = true
		} else {
			undeclared = true
		}
		rd.cols[j] = b
	}

	var pending [][]string
	var flat []string // a chunk of the held rows' fields, end to end
	var pendingLines []int
	inferring := undeclared
	row := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read csv: %w", err)
		}
		row++
		line, _ := cr.FieldPos(0)
		if opts.MaxRows > 0 && row > opts.MaxRows {
			return nil, fmt.Errorf("read csv: more than %d rows (MaxRows)", opts.MaxRows)
		}
		if len(rec) != len(header) {
			return nil, fmt.Errorf("read csv: row %d (line %d): %d fields, the header has %d", row, line, len(rec), len(header))
		}
		if opts.MaxFieldBytes > 0 {
			for j, f := range rec {
				if len(f) > opts.MaxFieldBytes {
					return nil, fmt.Errorf("read csv: row %d (line %d), column %q: field of %d bytes is over the limit of %d (MaxFieldBytes)", row, line, header[j], len(f), opts.MaxFieldBytes)
				}
			}
		}
		if inferring {
			if cap(flat)-len(flat) < len(rec) {
				flat = make([]string, 0, max(1<<14, len(rec)))
			}
			start := len(flat)
			flat = append(flat, rec...)
			pending = append(pending, flat[start:len(flat):len(flat)])
			pendingLines = append(pendingLines, line)
			if opts.InferRows > 0 && len(pending) >= opts.InferRows {
				if err := rd.flush(pending, pendingLines, row-len(pending)); err != nil {
					return nil, err
				}
				pending, pendingLines, flat, inferring = nil, nil, nil, false
			}
			continue
		}
		if err := rd.add(rec, row, line); err != nil {
			return nil, err
		}
	}
	if inferring {
		if err := rd.flush(pending, pendingLines, row-len(pending)); err != nil {
			return nil, err
		}
	}
	cols := make([]*Column, len(rd.cols))
	for j, b := range rd.cols {
		cols[j] = b.finish()
	}
	t, err := New(cols...)
	if err != nil {
		return nil, fmt.Errorf("read csv: %w", err)
	}
	t.rows = row
	return t, nil
}

// reader is the state of one ReadCSV call.
type reader struct {
	opts  ReadOptions
	nulls []string
	cols  []*builder
}

func (rd *reader) isNull(s string) bool {
	if s == "" {
		return true
	}
	for _, n := range rd.nulls {
		if s == n {
			return true
		}
	}
	return false
}

// flush infers the undeclared columns' types from the held rows, then adds
// them; the first held row is data row first+1.
func (rd *reader) flush(rows [][]string, lines []int, first int) error {
	for j, b := range rd.cols {
		if b.typ == "" {
			b.infer(rows, j)
		}
	}
	for _, b := range rd.cols {
		b.Reserve(len(rows))
	}
	for k, rec := range rows {
		if err := rd.add(rec, first+k+1, lines[k]); err != nil {
			return err
		}
	}
	return nil
}

func (rd *reader) add(rec []string, row, line int) error {
	for j, s := range rec {
		if err := rd.cols[j].add(s, row, line); err != nil {
			return fmt.Errorf("read csv: %w", err)
		}
	}
	return nil
}

// builder accumulates one column.
type builder struct {
	Builder
	rd       *reader
	declared bool
	inferred bool // type decided from the held rows
	layout   string
	lead     int // missing values seen while undecided
}

// infer decides the type from column j of the held rows.
func (b *builder) infer(rows [][]string, j int) {
	canInt, canFloat, canBool, canTime, any := true, true, true, true, false
	for _, rec := range rows {
		s := rec[j]
		if b.rd.isNull(s) {
			continue
		}
		any = true
		if canInt {
			if _, ok := parseInt(s); !ok {
				canInt = false
			}
		}
		if canFloat && !canInt && !plainDecimal(s) {
			if _, ok := parseFloat(s); !ok {
				canFloat = false
			}
		}
		if canBool {
			if _, ok := parseBool(s); !ok {
				canBool = false
			}
		}
		if canTime {
			if _, err := time.Parse(b.layout, s); err != nil {
				canTime = false
			}
		}
		if !canInt && !canFloat && !canBool && !canTime {
			break
		}
	}
	if !any {
		return // decided by the first value
	}
	b.inferred = true
	switch {
	case canInt:
		b.SetType(Int)
	case canFloat:
		b.SetType(Float)
	case canBool:
		b.SetType(Bool)
	case canTime:
		b.SetType(Timestamp)
	default:
		b.SetType(Category)
	}
}

// decide picks the type of a column whose first value is s.
func (b *builder) decide(s string) {
	switch {
	case isOK(parseInt(s)):
		b.SetType(Int)
	case isOK(parseFloat(s)):
		b.SetType(Float)
	case isOK(parseBool(s)):
		b.SetType(Bool)
	default:
		if _, err := time.Parse(b.layout, s); err == nil {
			b.SetType(Timestamp)
		} else {
			b.SetType(Category)
		}
	}
	b.inferred = true
	for range b.lead {
		b.Null()
	}
	b.lead = 0
}

func isOK[T any](_ T, ok bool) bool { return ok }

func (b *builder) fail(row, line int, s string, what string) error {
	hint := ""
	if b.inferred {
		hint = fmt.Sprintf(" (type inferred from earlier rows; declare the column's type or raise InferRows above %d)", b.rd.opts.InferRows)
	}
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return fmt.Errorf("row %d (line %d), column %q: %q is not %s%s", row, line, b.Name, s, what, hint)
}

func (b *builder) add(s string, row, line int) error {
	if b.rd.isNull(s) {
		if b.typ == "" {
			b.lead++
			return nil
		}
		b.Null()
		return nil
	}
	if b.typ == "" {
		b.decide(s)
	}
	switch b.typ {
	case Int:
		v, ok := parseInt(s)
		if !ok {
			if f, fok := parseFloat(s); fok && !b.declared {
				b.Widen()
				b.Float(f)
				return nil
			}
			return b.fail(row, line, s, "an int")
		}
		b.Int(v)
	case Float:
		v, ok := parseFloat(s)
		if !ok {
			return b.fail(row, line, s, "a number")
		}
		b.Float(v)
	case Bool:
		v, ok := parseBool(s)
		if !ok {
			return b.fail(row, line, s, "a bool (true or false)")
		}
		b.Bool(v)
	case Timestamp:
		t, err := time.Parse(b.layout, s)
		if err != nil {
			return b.fail(row, line, s, "a timestamp in layout "+strconv.Quote(b.layout))
		}
		if y := t.Year(); y < 1678 || y > 2261 {
			return fmt.Errorf("row %d (line %d), column %q: %q is outside the years 1678 to 2261 that Unix nanoseconds hold", row, line, b.Name, s)
		}
		b.Int(t.UnixNano())
	default:
		if err := b.Text(s); err != nil {
			return fmt.Errorf("row %d (line %d), column %q: %w", row, line, b.Name, err)
		}
	}
	return nil
}

func (b *builder) finish() *Column {
	if b.typ == "" {
		b.SetType(Float)
		for range b.lead {
			b.Null()
		}
	}
	c := b.Column()
	if b.inferred && b.typ.Text() && b.Distinct() > b.rd.opts.MaxInferredCategories {
		c.Type = String
	}
	return c
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func trimSpace(s string) string {
	if len(s) > 0 && (s[0] == ' ' || s[len(s)-1] == ' ' || s[0] == '\t' || s[len(s)-1] == '\t') {
		return strings.TrimSpace(s)
	}
	return s
}

func parseInt(s string) (int64, bool) {
	if len(s) > 0 && len(s) < 19 {
		// Fast path: plain decimal digits.
		var v int64
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				goto slow
			}
			v = v*10 + int64(c-'0')
		}
		return v, true
	}
slow:
	v, err := strconv.ParseInt(trimSpace(s), 10, 64)
	return v, err == nil
}

func parseFloat(s string) (float64, bool) {
	s = trimSpace(s)
	// Hexadecimal and underscored forms are not decimal numbers in a CSV.
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '_' || c == 'x' || c == 'X' {
			return 0, false
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

// plainDecimal reports, cheaply, a short decimal number such as -12.5e3
// that ParseFloat surely reads without overflow.
func plainDecimal(s string) bool {
	if len(s) == 0 || len(s) > 30 {
		return false
	}
	i := 0
	if s[i] == '-' || s[i] == '+' {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 || exp > 2 {
			return false
		}
	}
	return i == len(s)
}

func parseBool(s string) (bool, bool) {
	switch s {
	case "true", "TRUE", "True":
		return true, true
	case "false", "FALSE", "False":
		return false, true
	}
	return false, false
}

// limitReader fails once more than limit bytes have been read.
type limitReader struct {
	r     io.Reader
	left  int64
	limit int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// Probe for one more byte to tell a full read from an oversize one.
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("input is over %d bytes (MaxBytes)", l.limit)
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}
