package dataset

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
	"github.com/slipway-ml/slipway/runners/train/table"
)

// metaKey is the Parquet key-value metadata entry in which WriteParquet
// records the table's column types (and dictionaries, where a round trip
// would not rebuild them), as JSON of tableMeta.
const metaKey = "slipway.table"

// metaVersion is the version of tableMeta that WriteParquet writes.
const metaVersion = 1

// tableMeta is what WriteParquet records about the table.
type tableMeta struct {
	Version int          `json:"version"`
	Columns []metaColumn `json:"columns"`
}

// metaColumn is one column of tableMeta.
type metaColumn struct {
	Name string     `json:"name"`
	Type table.Type `json:"type"`
	// Dict is the dictionary of a text column whose dictionary is not the
	// distinct values in order of first appearance.
	Dict []string `json:"dict,omitempty"`
}

// srcKind is how a Parquet column's values read.
type srcKind int

const (
	srcBool srcKind = iota
	srcInt32
	srcUint32
	srcInt64
	srcUint64
	srcFloat32
	srcFloat64
	srcDecimal32
	srcDecimal64
	srcText
	srcTimestamp
	srcDate
	srcInt96
)

// source is a Parquet column's kind of values and how to scale them.
type source struct {
	kind srcKind
	// scale is a decimal's scale.
	scale int32
	// unit is the nanoseconds in one unit of a timestamp.
	unit int64
}

// natural is the table type the values read as by default; "" for text,
// which is string or category.
func (s source) natural() table.Type {
	switch s.kind {
	case srcBool:
		return table.Bool
	case srcInt32, srcUint32, srcInt64, srcUint64:
		return table.Int
	case srcDecimal32, srcDecimal64:
		if s.scale == 0 {
			return table.Int
		}
		return table.Float
	case srcFloat32, srcFloat64:
		return table.Float
	case srcTimestamp, srcDate, srcInt96:
		return table.Timestamp
	}
	return ""
}

// fits reports whether values of s read as type t.
func (s source) fits(t table.Type) bool {
	nat := s.natural()
	switch t {
	case table.Int:
		return nat == table.Int
	case table.Float:
		return nat == table.Int || nat == table.Float
	case table.Bool:
		return nat == table.Bool
	case table.String, table.Category:
		return s.kind == srcText
	case table.Timestamp:
		return nat == table.Timestamp || s.kind == srcText
	}
	return false
}

// classify tells how the values of a Parquet column read.
func classify(typ parquet.Type) (source, error) {
	kind := typ.Kind()
	var lv format.LogicalTypeValue
	if lt := typ.LogicalType(); lt != nil {
		lv = lt.Value
	}
	unsupported := fmt.Errorf("values of Parquet type %s are not supported", typ)
	switch l := lv.(type) {
	case nil:
	case *format.TimestampType:
		if kind != parquet.Int64 {
			return source{}, unsupported
		}
		switch l.Unit.Value.(type) {
		case *format.MilliSeconds:
			return source{kind: srcTimestamp, unit: 1e6}, nil
		case *format.MicroSeconds:
			return source{kind: srcTimestamp, unit: 1e3}, nil
		case *format.NanoSeconds:
			return source{kind: srcTimestamp, unit: 1}, nil
		}
		return source{}, unsupported
	case *format.DateType:
		if kind != parquet.Int32 {
			return source{}, unsupported
		}
		return source{kind: srcDate}, nil
	case *format.IntType:
		switch {
		case kind == parquet.Int32 && l.IsSigned:
			return source{kind: srcInt32}, nil
		case kind == parquet.Int32:
			return source{kind: srcUint32}, nil
		case kind == parquet.Int64 && l.IsSigned:
			return source{kind: srcInt64}, nil
		case kind == parquet.Int64:
			return source{kind: srcUint64}, nil
		}
		return source{}, unsupported
	case *format.DecimalType:
		if l.Scale < 0 || l.Scale > 30 {
			return source{}, unsupported
		}
		switch kind {
		case parquet.Int32:
			return source{kind: srcDecimal32, scale: l.Scale}, nil
		case parquet.Int64:
			return source{kind: srcDecimal64, scale: l.Scale}, nil
		}
		return source{}, unsupported
	case *format.StringType, *format.EnumType, *format.JsonType:
		if kind != parquet.ByteArray {
			return source{}, unsupported
		}
		return source{kind: srcText}, nil
	default:
		return source{}, unsupported
	}
	switch kind {
	case parquet.Boolean:
		return source{kind: srcBool}, nil
	case parquet.Int32:
		return source{kind: srcInt32}, nil
	case parquet.Int64:
		return source{kind: srcInt64}, nil
	case parquet.Int96:
		return source{kind: srcInt96}, nil
	case parquet.Float:
		return source{kind: srcFloat32}, nil
	case parquet.Double:
		return source{kind: srcFloat64}, nil
	case parquet.ByteArray:
		return source{kind: srcText}, nil
	}
	return source{}, unsupported
}

// pqCol is one column being read from Parquet.
type pqCol struct {
	table.Builder
	src    source
	layout string
	// inferred marks a text column whose string-or-category type is
	// decided by its number of distinct values.
	inferred bool
	// dict is the dictionary recorded by WriteParquet, if any.
	dict []string
	// limit is the number of values the column may hold at the end of the
	// row group being read.
	limit int
}

func readParquet(ra io.ReaderAt, size int64, d decl, o options) (t *table.Table, err error) {
	defer func() {
		// parquet-go panics on some malformed files rather than returning an
		// error; a file is input, so that is an error too.
		if p := recover(); p != nil {
			t, err = nil, fmt.Errorf("read parquet: malformed file: %v", p)
		}
	}()
	t, err = readParquetTable(ra, size, d, o)
	if err != nil {
		return nil, fmt.Errorf("read parquet: %w", err)
	}
	return t, nil
}

func readParquetTable(ra io.ReaderAt, size int64, d decl, o options) (*table.Table, error) {
	if o.maxBytes > 0 && size > o.maxBytes {
		return nil, fmt.Errorf("input of %d bytes is over %d bytes (MaxBytes)", size, o.maxBytes)
	}
	if err := checkFooter(ra, size); err != nil {
		return nil, err
	}
	f, err := parquet.OpenFile(ra, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, err
	}
	var rows int64
	for _, rg := range f.Metadata().RowGroups {
		n := rg.NumRows
		if n < 0 || rows+n < rows {
			return nil, fmt.Errorf("row group of %d rows", n)
		}
		rows += n
	}
	if rows != f.NumRows() {
		return nil, fmt.Errorf("row groups hold %d rows, the footer says %d", rows, f.NumRows())
	}
	if o.maxRows > 0 && rows > int64(o.maxRows) {
		return nil, fmt.Errorf("%d rows is more than %d (MaxRows)", rows, o.maxRows)
	}
	meta := map[string]metaColumn{}
	if s, ok := f.Lookup(metaKey); ok {
		var m tableMeta
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			return nil, fmt.Errorf("metadata %q: %w", metaKey, err)
		}
		if m.Version != metaVersion {
			return nil, fmt.Errorf("metadata %q: version %d; this reader knows version %d", metaKey, m.Version, metaVersion)
		}
		for _, c := range m.Columns {
			meta[c.Name] = c
		}
	}

	for _, rg := range f.Metadata().RowGroups {
		for k := range rg.Columns {
			if err := checkChunk(ra, size, &rg.Columns[k], rg.NumRows); err != nil {
				return nil, fmt.Errorf("column chunk %d: %w", k+1, err)
			}
		}
	}

	leaves := f.Root().Columns()
	present := make(map[string]bool, len(leaves))
	cols := make([]*pqCol, len(leaves))
	for j, leaf := range leaves {
		name := leaf.Name()
		if !leaf.Leaf() || leaf.Repeated() {
			return nil, fmt.Errorf("column %q is nested or repeated; only flat columns are read", name)
		}
		present[name] = true
		c, err := newPQCol(name, leaf.Type(), d, meta[name])
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", name, err)
		}
		cols[j] = c
	}
	if !o.allowMissing {
		for _, name := range d.names {
			if !present[name] {
				return nil, fmt.Errorf("declared column %q is not in the file", name)
			}
		}
	}

	buf := make([]parquet.Value, 1024)
	for _, rg := range f.RowGroups() {
		chunks := rg.ColumnChunks()
		if len(chunks) != len(cols) {
			return nil, fmt.Errorf("row group has %d column chunks, the schema has %d columns", len(chunks), len(cols))
		}
		for j, c := range cols {
			before := c.Len()
			c.limit = before + int(rg.NumRows())
			if err := c.readChunk(chunks[j], buf); err != nil {
				return nil, fmt.Errorf("column %q: %w", c.Name, err)
			}
			if got := int64(c.Len() - before); got != rg.NumRows() {
				return nil, fmt.Errorf("column %q: row group holds %d values for %d rows", c.Name, got, rg.NumRows())
			}
		}
	}

	out := make([]*table.Column, len(cols))
	for j, c := range cols {
		col := finish(&c.Builder, c.inferred)
		if c.dict != nil {
			if err := redict(col, c.dict); err != nil {
				return nil, fmt.Errorf("column %q: %w", c.Name, err)
			}
		}
		out[j] = col
	}
	return table.New(out...)
}

// newPQCol decides the table type of a Parquet column: its declared type,
// else the type WriteParquet recorded, else the natural type of its
// values.
func newPQCol(name string, typ parquet.Type, d decl, meta metaColumn) (*pqCol, error) {
	src, err := classify(typ)
	if err != nil {
		return nil, err
	}
	c := &pqCol{Builder: table.Builder{Name: name}, src: src, layout: d.layout(name)}
	if want, ok := d.types[name]; ok {
		if !src.fits(want) {
			return nil, fmt.Errorf("declared %s, but the file holds %s values", want, typ)
		}
		c.SetType(want)
	} else if meta.Type.Valid() && src.fits(meta.Type) {
		c.SetType(meta.Type)
	} else if nat := src.natural(); nat != "" {
		c.SetType(nat)
	} else {
		c.SetType(table.Category)
		c.inferred = true
	}
	if c.Type().Text() && meta.Dict != nil && meta.Type.Text() {
		c.dict = meta.Dict
	}
	return c, nil
}

// readChunk appends the values of one column chunk.
func (c *pqCol) readChunk(chunk parquet.ColumnChunk, buf []parquet.Value) error {
	pages := chunk.Pages()
	defer pages.Close()
	for {
		p, err := pages.ReadPage()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		err = c.readPage(p, buf)
		parquet.Release(p)
		if err != nil {
			return err
		}
	}
}

func (c *pqCol) readPage(p parquet.Page, buf []parquet.Value) error {
	vr := p.Values()
	for {
		n, err := vr.ReadValues(buf)
		for _, v := range buf[:n] {
			if c.Len() >= c.limit {
				return errors.New("more values than the row group has rows")
			}
			if e := c.add(v); e != nil {
				return fmt.Errorf("row %d: %w", c.Len()+1, e)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return errors.New("page yields no values")
		}
	}
}

// add appends one value.
func (c *pqCol) add(v parquet.Value) error {
	if v.IsNull() {
		c.Null()
		return nil
	}
	if v.Kind() != c.kindOf() {
		return fmt.Errorf("value of kind %s in a %s column", v.Kind(), c.kindOf())
	}
	switch c.Type() {
	case table.Int:
		x, err := c.intOf(v)
		if err != nil {
			return err
		}
		c.Int(x)
	case table.Float:
		c.Float(c.floatOf(v))
	case table.Bool:
		c.Bool(v.Boolean())
	case table.Timestamp:
		ns, err := c.nanosOf(v)
		if err != nil {
			return err
		}
		c.Int(ns)
	default:
		return c.TextBytes(v.ByteArray())
	}
	return nil
}

// kindOf is the physical kind of the column's values.
func (c *pqCol) kindOf() parquet.Kind {
	switch c.src.kind {
	case srcBool:
		return parquet.Boolean
	case srcInt32, srcUint32, srcDecimal32, srcDate:
		return parquet.Int32
	case srcInt64, srcUint64, srcDecimal64, srcTimestamp:
		return parquet.Int64
	case srcInt96:
		return parquet.Int96
	case srcFloat32:
		return parquet.Float
	case srcFloat64:
		return parquet.Double
	}
	return parquet.ByteArray
}

func (c *pqCol) intOf(v parquet.Value) (int64, error) {
	switch c.src.kind {
	case srcInt32, srcDecimal32:
		return int64(v.Int32()), nil
	case srcUint32:
		return int64(uint32(v.Int32())), nil
	case srcUint64:
		if x := v.Int64(); x < 0 {
			return 0, fmt.Errorf("unsigned value %d is over the largest int, %d", uint64(x), int64(math.MaxInt64))
		}
	}
	return v.Int64(), nil
}

func (c *pqCol) floatOf(v parquet.Value) float64 {
	switch c.src.kind {
	case srcInt32:
		return float64(v.Int32())
	case srcUint32:
		return float64(uint32(v.Int32()))
	case srcInt64:
		return float64(v.Int64())
	case srcUint64:
		return float64(uint64(v.Int64()))
	case srcDecimal32:
		return float64(v.Int32()) / math.Pow10(int(c.src.scale))
	case srcDecimal64:
		return float64(v.Int64()) / math.Pow10(int(c.src.scale))
	case srcFloat32:
		return float64(v.Float())
	}
	return v.Double()
}

const (
	nanosPerDay = 86400 * int64(time.Second)
	// julianUnixEpoch is the Julian day number of 1970-01-01.
	julianUnixEpoch = 2440588
)

func (c *pqCol) nanosOf(v parquet.Value) (int64, error) {
	outside := func(what string) error {
		return fmt.Errorf("%s is outside the years 1678 to 2261 that Unix nanoseconds hold", what)
	}
	switch c.src.kind {
	case srcTimestamp:
		x := v.Int64()
		if x > math.MaxInt64/c.src.unit || x < math.MinInt64/c.src.unit {
			return 0, outside("timestamp " + strconv.FormatInt(x, 10))
		}
		return x * c.src.unit, nil
	case srcDate:
		days := int64(v.Int32())
		if days > math.MaxInt64/nanosPerDay || days < math.MinInt64/nanosPerDay {
			return 0, outside("date " + strconv.FormatInt(days, 10))
		}
		return days * nanosPerDay, nil
	case srcInt96:
		i := v.Int96()
		ofDay := int64(uint64(i[1])<<32 | uint64(i[0]))
		days := int64(i[2]) - julianUnixEpoch
		if ofDay < 0 || ofDay >= nanosPerDay {
			return 0, fmt.Errorf("INT96 timestamp with %d nanoseconds in its day", ofDay)
		}
		if days > math.MaxInt64/nanosPerDay-1 || days < math.MinInt64/nanosPerDay+1 {
			return 0, outside("INT96 Julian day " + strconv.FormatInt(int64(i[2]), 10))
		}
		return days*nanosPerDay + ofDay, nil
	}
	s := string(v.ByteArray())
	t, err := time.Parse(c.layout, s)
	if err != nil {
		return 0, fmt.Errorf("%s is not a timestamp in layout %q", quote(s), c.layout)
	}
	if y := t.Year(); y < 1678 || y > 2261 {
		return 0, outside(quote(s))
	}
	return t.UnixNano(), nil
}

// redict replaces the dictionary of a text column by dict, which must
// hold every value the column uses, each once.
func redict(c *table.Column, dict []string) error {
	idx := make(map[string]int32, len(dict))
	for i, s := range dict {
		if _, dup := idx[s]; dup {
			return fmt.Errorf("metadata %q: dictionary holds %q twice", metaKey, s)
		}
		idx[s] = int32(i)
	}
	remap := make([]int32, len(c.Dict))
	for i, s := range c.Dict {
		code, ok := idx[s]
		if !ok {
			return fmt.Errorf("metadata %q: dictionary lacks the value %s", metaKey, quote(s))
		}
		remap[i] = code
	}
	for i, code := range c.Codes {
		if code >= 0 {
			c.Codes[i] = remap[code]
		}
	}
	c.Dict = dict
	return nil
}
