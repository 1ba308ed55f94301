// Package dataset reads a dataset file into a table.Table, holding its
// columns to the types a spec declares, and stores a table as Parquet
// between the runner's steps.
//
// Three formats are read: CSV (through table.ReadCSV), JSON Lines and
// Parquet. Declared columns keep their declared type, and a value that is
// not of that type is an error naming its place in the file; columns the
// spec does not declare are inferred as table.ReadCSV infers them.
//
// Parquet is read and written with github.com/parquet-go/parquet-go rather
// than github.com/apache/arrow-go: it is pure Go (no cgo, so the runner
// stays one static binary that cross-compiles), actively maintained,
// streams a file row group by row group and page by page instead of
// materialising Arrow record batches, and runs in production at Grafana
// (Tempo, Loki) and Segment, where it began. arrow-go would bring Arrow's
// memory allocator and compute kernels, which nothing here uses, and its
// Parquet reader goes through Arrow arrays, a second columnar layout, before
// reaching a table.Table.
package dataset

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/slipway-ml/slipway/compiler/spec"
	"github.com/slipway-ml/slipway/runners/train/table"
)

// The formats Read accepts; they are the spec's dataset formats.
const (
	// CSV is comma-separated values with a header row.
	CSV = "csv"
	// JSONL is JSON Lines: one JSON object per line.
	JSONL = "jsonl"
	// Parquet is Apache Parquet.
	Parquet = "parquet"
)

// Defaults of the options.
const (
	// DefaultMaxRows is the default limit on data rows.
	DefaultMaxRows = table.DefaultMaxRows
	// DefaultMaxBytes is the default limit on the size of the input: 4 GiB.
	DefaultMaxBytes int64 = 4 << 30
	// DefaultMaxLineBytes is the default limit on one JSON Lines line:
	// 16 MiB.
	DefaultMaxLineBytes = 16 << 20
	// DefaultInferRows is how many leading rows decide an undeclared
	// column's type by default.
	DefaultInferRows = table.DefaultInferRows
)

// Option configures Read and ReadFile.
type Option func(*options)

type options struct {
	maxRows      int
	maxBytes     int64
	maxLineBytes int
	inferRows    int
	allowMissing bool
}

// MaxRows limits the number of data rows; more is an error. Default
// DefaultMaxRows; a negative n means no limit.
func MaxRows(n int) Option { return func(o *options) { o.maxRows = n } }

// MaxBytes limits the size of the input in bytes; more is an error. A
// Parquet file that cannot be read in place (see Read) is held in memory,
// so this also bounds that. Default DefaultMaxBytes; a negative n means no
// limit.
func MaxBytes(n int64) Option { return func(o *options) { o.maxBytes = n } }

// MaxLineBytes limits the length of one JSON Lines line in bytes. Default
// DefaultMaxLineBytes; a negative n means no limit.
func MaxLineBytes(n int) Option { return func(o *options) { o.maxLineBytes = n } }

// InferRows is how many leading rows decide the type of a column the spec
// does not declare (CSV and JSON Lines; see table.ReadOptions.InferRows).
// Default DefaultInferRows; a negative n means every row.
func InferRows(n int) Option { return func(o *options) { o.inferRows = n } }

// AllowMissingColumns reads a file that lacks some declared columns,
// leaving them out of the table, so that datacheck.Check reports them
// along with every other failed expectation. By default a declared column
// the file lacks is an error.
func AllowMissingColumns() Option { return func(o *options) { o.allowMissing = true } }

func newOptions(opts []Option) options {
	o := options{maxRows: DefaultMaxRows, maxBytes: DefaultMaxBytes, maxLineBytes: DefaultMaxLineBytes, inferRows: DefaultInferRows}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxRows == 0 {
		o.maxRows = DefaultMaxRows
	}
	if o.maxBytes == 0 {
		o.maxBytes = DefaultMaxBytes
	}
	if o.maxLineBytes == 0 {
		o.maxLineBytes = DefaultMaxLineBytes
	}
	if o.inferRows == 0 {
		o.inferRows = DefaultInferRows
	}
	return o
}

// decl is the declared schema: types and timestamp layouts by column name.
type decl struct {
	types   map[string]table.Type
	layouts map[string]string
	// nullable marks declared columns that allow nulls.
	nullable map[string]bool
	// names are the declared names, sorted.
	names []string
}

func declare(cols map[string]*spec.Column) (decl, error) {
	d := decl{types: map[string]table.Type{}, layouts: map[string]string{}, nullable: map[string]bool{}}
	for name, c := range cols {
		if c == nil {
			return d, fmt.Errorf("declared column %q is empty", name)
		}
		if name == "" {
			return d, fmt.Errorf("a declared column has an empty name")
		}
		typ := table.Type(c.Type)
		if !typ.Valid() {
			return d, fmt.Errorf("declared column %q: unknown type %q; expected int, float, bool, string, category or timestamp", name, c.Type)
		}
		d.types[name] = typ
		d.nullable[name] = c.Nullable
		if c.Layout != "" {
			d.layouts[name] = c.Layout
		}
		d.names = append(d.names, name)
	}
	slices.Sort(d.names)
	return d, nil
}

// layout returns the time layout of the named column.
func (d decl) layout(name string) string {
	if l, ok := d.layouts[name]; ok {
		return l
	}
	return time.RFC3339
}

// Read reads a table from r in the given format ("csv", "jsonl" or
// "parquet"). cols are the spec's declared columns (a Dataset's Columns,
// keyed by name; nil declares none): each is read as its declared type and
// a value that is not of it is an error naming the row or line and the
// column. In CSV and JSON Lines, columns the spec does not declare are
// inferred as table.ReadCSV infers them: int, else float, else bool, else
// timestamp, else category (string past
// table.DefaultMaxInferredCategories distinct values). A declared column
// the file lacks is an error unless AllowMissingColumns is given.
//
// JSON Lines: each non-blank line is one JSON object whose keys are
// columns and whose values are strings, numbers, booleans or null; null
// and a missing key are a missing value. Columns come in the order their
// keys first appear. A declared column may take a string holding its
// value's text ("42" for an int, as some exporters quote 64-bit integers);
// a declared int also takes an integral number written as a decimal
// ("3.0"). Inference applies the CSV reader's order to JSON's own types: a
// column of integer literals is int, of numbers float, of booleans bool,
// of strings that all parse in the layout timestamp, and anything else
// category, holding each value's text; a JSON string never infers as a
// number. A declared nullable column that no line names is a column of
// nulls.
//
// Parquet: the file must be flat (no groups, lists or maps). Physical and
// logical types map to table types: INT32 and INT64 (signed or unsigned
// logical ints, DECIMAL of scale 0) to int, FLOAT, DOUBLE and DECIMAL to
// float, BOOLEAN to bool, BYTE_ARRAY (STRING, ENUM, JSON or plain) to string
// or category, TIMESTAMP (millis, micros, nanos), DATE and INT96 to
// timestamp; an optional column may hold nulls. An undeclared text column
// is a category, or a string past table.DefaultMaxInferredCategories
// distinct values. A declared float also takes an integer column, and a
// declared timestamp a text column in its layout. Pages may be
// uncompressed or SNAPPY, GZIP, ZSTD or BROTLI compressed; LZ4 is refused,
// as parquet-go's LZ4 decoder does not stop on damaged data. A file written
// by WriteParquet reads back with its exact table types. Parquet is read
// in place when r is an *os.File or an io.ReaderAt with a
// Size method (bytes.Reader, io.SectionReader); any other reader is read
// into memory first, up to MaxBytes.
func Read(r io.Reader, format string, cols map[string]*spec.Column, opts ...Option) (*table.Table, error) {
	o := newOptions(opts)
	d, err := declare(cols)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", format, err)
	}
	switch format {
	case CSV:
		return readCSV(r, d, o)
	case JSONL:
		return readJSONL(r, d, o)
	case Parquet:
		ra, size, err := readerAt(r, o)
		if err != nil {
			return nil, fmt.Errorf("read parquet: %w", err)
		}
		return readParquet(ra, size, d, o)
	}
	return nil, fmt.Errorf("read: unknown format %q; expected csv, jsonl or parquet", format)
}

// FormatOf is the format a file's name says by its extension: "jsonl"
// (.jsonl, .ndjson), "parquet" (.parquet), else "csv".
func FormatOf(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jsonl", ".ndjson":
		return "jsonl"
	case ".parquet":
		return "parquet"
	}
	return "csv"
}

// ReadFile reads the file at path as Read does.
func ReadFile(path, format string, cols map[string]*spec.Column, opts ...Option) (*table.Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", format, err)
	}
	defer f.Close()
	t, err := Read(f, format, cols, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// readCSV reads CSV through table.ReadCSV.
func readCSV(r io.Reader, d decl, o options) (*table.Table, error) {
	ro := table.ReadOptions{
		Types:     d.types,
		Layouts:   d.layouts,
		InferRows: o.inferRows,
		MaxRows:   o.maxRows,
	}
	if o.maxBytes > 0 {
		ro.MaxBytes = o.maxBytes
	}
	if o.allowMissing && len(d.types) > 0 {
		header, rest, err := peekCSVHeader(r)
		if err != nil {
			return nil, err
		}
		r = rest
		ro.Types, ro.Layouts = map[string]table.Type{}, map[string]string{}
		for name, typ := range d.types {
			if header[name] {
				ro.Types[name] = typ
				if l, ok := d.layouts[name]; ok {
					ro.Layouts[name] = l
				}
			}
		}
	}
	return table.ReadCSV(r, ro)
}

// peekCSVHeader reads the header row's names and returns a reader that
// yields the whole input again.
func peekCSVHeader(r io.Reader) (map[string]bool, io.Reader, error) {
	var buf strings.Builder
	header, err := csvHeader(io.TeeReader(r, &buf))
	if err != nil {
		return nil, nil, fmt.Errorf("read csv: header: %w", err)
	}
	names := make(map[string]bool, len(header))
	for i, n := range header {
		if i == 0 {
			n = strings.TrimPrefix(n, "\ufeff")
		}
		names[n] = true
	}
	return names, io.MultiReader(strings.NewReader(buf.String()), r), nil
}

// csvHeader reads the header row of a CSV input.
func csvHeader(r io.Reader) ([]string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	rec, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("empty input: no header row")
	}
	return rec, err
}

// readerAt returns r as an io.ReaderAt and its size, reading it into
// memory when it is not one.
func readerAt(r io.Reader, o options) (io.ReaderAt, int64, error) {
	switch v := r.(type) {
	case *os.File:
		st, err := v.Stat()
		if err != nil {
			return nil, 0, err
		}
		if st.Mode().IsRegular() {
			return v, st.Size(), nil
		}
	case interface {
		io.ReaderAt
		Size() int64
	}:
		return v, v.Size(), nil
	}
	lr := io.Reader(r)
	if o.maxBytes > 0 {
		lr = table.LimitReader(r, o.maxBytes)
	}
	b, err := io.ReadAll(lr)
	if err != nil {
		return nil, 0, err
	}
	return bytes.NewReader(b), int64(len(b)), nil
}
