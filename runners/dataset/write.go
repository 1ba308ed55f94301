package dataset

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/snappy"
	"github.com/slipway-ml/slipway/runners/train/table"
)

// RowGroupRows is the number of rows in each row group WriteParquet
// writes (the last may hold fewer).
const RowGroupRows = 1 << 20

// writeBatch is how many rows go to the Parquet writer at once.
const writeBatch = 1024

// WriteParquet writes t to w as Parquet, the form the runner keeps a
// validated dataset in between steps. Every column is optional (nullable);
// int is INT64, float DOUBLE (a missing value, NaN, is null), bool
// BOOLEAN, timestamp INT64 TIMESTAMP(nanos, UTC), and string and category
// BYTE_ARRAY STRING, dictionary-encoded. Pages are Snappy-compressed. The
// columns keep the table's order, and the key-value metadata entry
// "slipway.table" records each column's table type, plus the dictionary of
// a text column whose dictionary is not its distinct values in order of
// first appearance (as after table.Subset), so that Read gives back the
// same table: types, values, nulls and dictionaries. The same table always
// gives the same bytes.
func WriteParquet(w io.Writer, t *table.Table) error {
	if err := writeParquet(w, t); err != nil {
		return fmt.Errorf("write parquet: %w", err)
	}
	return nil
}

func writeParquet(w io.Writer, t *table.Table) error {
	cols := t.Columns()
	if len(cols) == 0 {
		return errors.New("the table has no columns")
	}
	group := parquet.Group{}
	meta := tableMeta{Version: metaVersion, Columns: make([]metaColumn, len(cols))}
	names := make([]string, len(cols))
	for j, c := range cols {
		names[j] = c.Name
		group[c.Name] = parquet.Optional(nodeOf(c.Type))
		meta.Columns[j] = metaColumn{Name: c.Name, Type: c.Type}
		if c.Type.Text() && !firstAppearance(c) {
			meta.Columns[j].Dict = nonNil(c.Dict)
		}
	}
	metaJSON, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	schema := parquet.NewSchema("table", newOrderedGroup(group, names))
	pw := parquet.NewWriter(w, schema,
		&parquet.WriterConfig{CreatedBy: "slipway"},
		parquet.Compression(&snappy.Codec{}),
		parquet.MaxRowsPerRowGroup(RowGroupRows),
		parquet.KeyValueMetadata(metaKey, string(metaJSON)),
	)

	// The dictionaries as bytes, so that writing a value copies nothing.
	dicts := make([][][]byte, len(cols))
	for j, c := range cols {
		if c.Type.Text() {
			dicts[j] = make([][]byte, len(c.Dict))
			for k, s := range c.Dict {
				dicts[j][k] = []byte(s)
			}
		}
	}
	n := t.Rows()
	rows := make([]parquet.Row, writeBatch)
	for start := 0; start < n; start += writeBatch {
		m := min(writeBatch, n-start)
		for k := range m {
			i := start + k
			row := rows[k][:0]
			for j, c := range cols {
				row = append(row, valueOf(c, i, dicts[j]).Level(0, defLevel(c, i), j))
			}
			rows[k] = row
		}
		if _, err := pw.WriteRows(rows[:m]); err != nil {
			return err
		}
	}
	return pw.Close()
}

// nodeOf is the Parquet node of a column type.
func nodeOf(t table.Type) parquet.Node {
	switch t {
	case table.Int:
		return parquet.Int(64)
	case table.Float:
		return parquet.Leaf(parquet.DoubleType)
	case table.Bool:
		return parquet.Leaf(parquet.BooleanType)
	case table.Timestamp:
		return parquet.Timestamp(parquet.Nanosecond)
	}
	return parquet.Encoded(parquet.String(), &parquet.RLEDictionary)
}

func defLevel(c *table.Column, i int) int {
	if c.IsNull(i) {
		return 0
	}
	return 1
}

// valueOf is row i of c as a Parquet value; dict is the dictionary of a
// text column as bytes.
func valueOf(c *table.Column, i int, dict [][]byte) parquet.Value {
	if c.IsNull(i) {
		return parquet.NullValue()
	}
	switch c.Type {
	case table.Int, table.Timestamp:
		return parquet.Int64Value(c.Ints[i])
	case table.Float:
		return parquet.DoubleValue(c.Floats[i])
	case table.Bool:
		return parquet.BooleanValue(c.Bools[i])
	}
	return parquet.ByteArrayValue(dict[c.Codes[i]])
}

// firstAppearance reports whether the dictionary of a text column is its
// distinct values in order of first appearance, which reading rebuilds.
func firstAppearance(c *table.Column) bool {
	next := int32(0)
	for _, code := range c.Codes {
		if code < 0 || code < next {
			continue
		}
		if code != next {
			return false
		}
		next++
	}
	return int(next) == len(c.Dict)
}

// orderedGroup is a Parquet group whose fields keep a given order (a
// parquet.Group orders them by name).
type orderedGroup struct {
	parquet.Group
	fields []parquet.Field
}

func newOrderedGroup(g parquet.Group, order []string) orderedGroup {
	byName := map[string]parquet.Field{}
	for _, f := range g.Fields() {
		byName[f.Name()] = f
	}
	fields := make([]parquet.Field, len(order))
	for i, name := range order {
		fields[i] = byName[name]
	}
	return orderedGroup{Group: g, fields: fields}
}

// Fields returns the fields in the group's order.
func (g orderedGroup) Fields() []parquet.Field { return g.fields }

// WriteParquetFile writes t as Parquet to the file at path, through a
// temporary file in the same directory that is renamed into place, so the
// file is never seen half-written.
func WriteParquetFile(path string, t *table.Table) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write parquet: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := WriteParquet(tmp, t); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("write parquet: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write parquet: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write parquet: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write parquet: %w", err)
	}
	return nil
}
