package dataset

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/slipway-ml/slipway/runners/train/table"
)

// jkind is the JSON type of one value.
type jkind uint8

const (
	jNull jkind = iota
	jNumber
	jString
	jBool
)

// jval is one scalar JSON value: the text of a string, the literal of a
// number, "true" or "false".
type jval struct {
	kind jkind
	text string
}

// show is v as an error message shows it.
func (v jval) show() string {
	if v.kind == jString {
		return quote(v.text)
	}
	return v.text
}

// kv is one key and its value in a line's object.
type kv struct {
	key string
	val jval
}

// jcol is one column being read from JSON Lines.
type jcol struct {
	table.Builder
	declared bool
	inferred bool // type decided from the values
	layout   string
	lead     int    // nulls seen after inference, before the first value
	pending  []jval // values held while inferring
	seen     int    // last row that named the column
}

// jsonlReader is the state of one JSON Lines read.
type jsonlReader struct {
	d         decl
	o         options
	cols      []*jcol
	index     map[string]int
	inferring bool
	lines     []int // lines of the held rows
	row       int
	vals      []jval // the current row's values by column
}

func readJSONL(r io.Reader, d decl, o options) (*table.Table, error) {
	t, err := readJSONLTable(r, d, o)
	if err != nil {
		return nil, fmt.Errorf("read jsonl: %w", err)
	}
	return t, nil
}

func readJSONLTable(r io.Reader, d decl, o options) (*table.Table, error) {
	if o.maxBytes > 0 {
		r = table.LimitReader(r, o.maxBytes)
	}
	br := bufio.NewReaderSize(r, 64<<10)
	rd := &jsonlReader{d: d, o: o, index: map[string]int{}, inferring: true}
	var kvs []kv
	for line := 1; ; line++ {
		b, err := readLine(br, o.maxLineBytes)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if line == 1 {
			b = bytes.TrimPrefix(b, []byte("\ufeff"))
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue
		}
		kvs, err = parseObject(b, kvs[:0])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if err := rd.addRow(kvs, line); err != nil {
			return nil, err
		}
	}
	if rd.inferring {
		if err := rd.flush(); err != nil {
			return nil, err
		}
	}
	return rd.finish()
}

// readLine returns the next line without its end, or io.EOF after the
// last. A line longer than limit bytes (when limit > 0) is an error.
func readLine(br *bufio.Reader, limit int) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if limit > 0 && len(buf)+len(chunk) > limit+1 {
			return nil, fmt.Errorf("line is over %d bytes (MaxLineBytes)", limit)
		}
		if err == bufio.ErrBufferFull {
			buf = append(buf, chunk...)
			continue
		}
		if buf == nil {
			buf = chunk
		} else {
			buf = append(buf, chunk...)
		}
		if err == io.EOF {
			if len(buf) == 0 {
				return nil, io.EOF
			}
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
		return buf[:len(buf)-1], nil
	}
}

// parseObject parses one line's JSON object into its keys and scalar
// values, in order.
func parseObject(b []byte, kvs []kv) ([]kv, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("expected a JSON object, found %s", describe(tok))
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("invalid JSON: %w", err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("invalid JSON: expected a key, found %s", describe(tok))
		}
		if key == "" {
			return nil, errors.New("an empty key names no column")
		}
		tok, err = dec.Token()
		if err != nil {
			return nil, fmt.Errorf("column %q: invalid JSON: %w", key, err)
		}
		var v jval
		switch t := tok.(type) {
		case nil:
		case string:
			v = jval{jString, t}
		case json.Number:
			v = jval{jNumber, string(t)}
		case bool:
			v = jval{jBool, strconv.FormatBool(t)}
		default:
			return nil, fmt.Errorf("column %q: found %s; values must be strings, numbers, booleans or null (nested arrays and objects are not read: flatten them into columns)", key, describe(tok))
		}
		kvs = append(kvs, kv{key, v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if tok, err := dec.Token(); err != io.EOF {
		if err != nil {
			return nil, fmt.Errorf("invalid JSON after the object: %w", err)
		}
		return nil, fmt.Errorf("found %s after the object; expected one object per line", describe(tok))
	}
	return kvs, nil
}

// describe names a JSON token for an error message.
func describe(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '[':
			return "an array"
		case '{':
			return "an object"
		}
		return fmt.Sprintf("%q", t.String())
	case string:
		return "the string " + quote(t)
	case json.Number:
		return "the number " + string(t)
	case bool:
		return "the boolean " + strconv.FormatBool(t)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}

// column returns the index of the named column, adding it when new.
func (rd *jsonlReader) column(name string) int {
	if j, ok := rd.index[name]; ok {
		return j
	}
	c := &jcol{Builder: table.Builder{Name: name}, layout: rd.d.layout(name)}
	if typ, ok := rd.d.types[name]; ok {
		c.SetType(typ)
		c.declared = true
	}
	before := rd.row - 1 // rows read before this one, none naming the column
	switch {
	case rd.inferring:
		c.pending = make([]jval, len(rd.lines), max(len(rd.lines), 16))
	case c.Type() != "":
		for range before {
			c.Null()
		}
	default:
		c.lead = before
	}
	rd.cols = append(rd.cols, c)
	rd.vals = append(rd.vals, jval{})
	rd.index[name] = len(rd.cols) - 1
	return len(rd.cols) - 1
}

func (rd *jsonlReader) addRow(kvs []kv, line int) error {
	rd.row++
	if rd.o.maxRows > 0 && rd.row > rd.o.maxRows {
		return fmt.Errorf("line %d: more than %d rows (MaxRows)", line, rd.o.maxRows)
	}
	for i := range rd.vals {
		rd.vals[i] = jval{}
	}
	for _, p := range kvs {
		j := rd.column(p.key)
		c := rd.cols[j]
		if c.seen == rd.row {
			return fmt.Errorf("line %d: key %q appears twice", line, p.key)
		}
		c.seen = rd.row
		rd.vals[j] = p.val
	}
	if rd.inferring {
		for j, c := range rd.cols {
			c.pending = append(c.pending, rd.vals[j])
		}
		rd.lines = append(rd.lines, line)
		if rd.o.inferRows > 0 && len(rd.lines) >= rd.o.inferRows {
			return rd.flush()
		}
		return nil
	}
	for j, c := range rd.cols {
		if err := rd.add(c, rd.vals[j], line); err != nil {
			return err
		}
	}
	return nil
}

// flush decides the undeclared columns' types from the held rows, then
// adds the rows.
func (rd *jsonlReader) flush() error {
	for _, c := range rd.cols {
		if c.Type() == "" {
			c.infer()
		}
	}
	for k, line := range rd.lines {
		for _, c := range rd.cols {
			if err := rd.add(c, c.pending[k], line); err != nil {
				return err
			}
		}
	}
	for _, c := range rd.cols {
		c.pending = nil
	}
	rd.lines = nil
	rd.inferring = false
	return nil
}

// infer decides the type from the held values: int if every value is an
// integer literal, else float if every value is a number, else bool if
// every value is a boolean, else timestamp if every value is a string in
// the layout, else category. A column with no value stays undecided.
func (c *jcol) infer() {
	canInt, canFloat, canBool, canTime, any := true, true, true, true, false
	for _, v := range c.pending {
		switch v.kind {
		case jNull:
			continue
		case jNumber:
			canBool, canTime = false, false
			if canInt && !isOK(table.ParseInt(v.text)) {
				canInt = false
			}
			if canFloat && !isOK(table.ParseFloat(v.text)) {
				canFloat = false
			}
		case jBool:
			canInt, canFloat, canTime = false, false, false
		case jString:
			canInt, canFloat, canBool = false, false, false
			if canTime {
				if _, err := time.Parse(c.layout, v.text); err != nil {
					canTime = false
				}
			}
		}
		any = true
		if !canInt && !canFloat && !canBool && !canTime {
			break
		}
	}
	if !any {
		return
	}
	c.inferred = true
	switch {
	case canInt:
		c.SetType(table.Int)
	case canFloat:
		c.SetType(table.Float)
	case canBool:
		c.SetType(table.Bool)
	case canTime:
		c.SetType(table.Timestamp)
	default:
		c.SetType(table.Category)
	}
}

// decide picks the type of a column whose first value is v.
func (c *jcol) decide(v jval) {
	switch v.kind {
	case jNumber:
		if isOK(table.ParseInt(v.text)) {
			c.SetType(table.Int)
		} else if isOK(table.ParseFloat(v.text)) {
			c.SetType(table.Float)
		} else {
			c.SetType(table.Category)
		}
	case jBool:
		c.SetType(table.Bool)
	default:
		if _, err := time.Parse(c.layout, v.text); err == nil {
			c.SetType(table.Timestamp)
		} else {
			c.SetType(table.Category)
		}
	}
	c.inferred = true
	for range c.lead {
		c.Null()
	}
	c.lead = 0
}

func isOK[T any](_ T, ok bool) bool { return ok }

func (rd *jsonlReader) fail(c *jcol, line int, v jval, what string) error {
	hint := ""
	if c.inferred {
		hint = fmt.Sprintf(" (type %s inferred from earlier lines; declare the column's type or raise InferRows above %d)", c.Type(), rd.o.inferRows)
	}
	return fmt.Errorf("line %d, column %q: %s is not %s%s", line, c.Name, v.show(), what, hint)
}

// maxExact is the largest magnitude below which every integer is a
// float64.
const maxExact = 1 << 53

func (rd *jsonlReader) add(c *jcol, v jval, line int) error {
	if v.kind == jNull {
		if c.Type() == "" {
			c.lead++
			return nil
		}
		c.Null()
		return nil
	}
	if c.Type() == "" {
		c.decide(v)
	}
	switch c.Type() {
	case table.Int:
		switch {
		case v.kind == jNumber:
			if x, ok := table.ParseInt(v.text); ok {
				c.Int(x)
				return nil
			}
			f, ok := table.ParseFloat(v.text)
			if !ok {
				return rd.fail(c, line, v, "an int")
			}
			if !c.declared {
				c.Widen()
				c.Float(f)
				return nil
			}
			if f != math.Trunc(f) || math.Abs(f) > maxExact {
				return rd.fail(c, line, v, "an int")
			}
			c.Int(int64(f))
		case v.kind == jString && c.declared:
			x, ok := table.ParseInt(v.text)
			if !ok {
				return rd.fail(c, line, v, "an int")
			}
			c.Int(x)
		default:
			return rd.fail(c, line, v, "an int")
		}
	case table.Float:
		if v.kind != jNumber && (v.kind != jString || !c.declared) {
			return rd.fail(c, line, v, "a number")
		}
		f, ok := table.ParseFloat(v.text)
		if !ok {
			return rd.fail(c, line, v, "a number")
		}
		c.Float(f)
	case table.Bool:
		if v.kind != jBool && (v.kind != jString || !c.declared) {
			return rd.fail(c, line, v, "a boolean")
		}
		b, ok := table.ParseBool(v.text)
		if !ok {
			return rd.fail(c, line, v, "a boolean")
		}
		c.Bool(b)
	case table.Timestamp:
		if v.kind != jString {
			return rd.fail(c, line, v, "a timestamp string in layout "+strconv.Quote(c.layout))
		}
		t, err := time.Parse(c.layout, v.text)
		if err != nil {
			return rd.fail(c, line, v, "a timestamp in layout "+strconv.Quote(c.layout))
		}
		if y := t.Year(); y < 1678 || y > 2261 {
			return fmt.Errorf("line %d, column %q: %s is outside the years 1678 to 2261 that Unix nanoseconds hold", line, c.Name, v.show())
		}
		c.Int(t.UnixNano())
	default:
		if err := c.Text(v.text); err != nil {
			return fmt.Errorf("line %d, column %q: %w", line, c.Name, err)
		}
	}
	return nil
}

// finish builds the table: the columns in order of first appearance, then
// declared columns no line named, by name.
func (rd *jsonlReader) finish() (*table.Table, error) {
	cols := make([]*table.Column, 0, len(rd.cols)+len(rd.d.names))
	for _, c := range rd.cols {
		if c.Type() == "" {
			c.SetType(table.Float)
			for range c.lead {
				c.Null()
			}
		}
		cols = append(cols, finish(&c.Builder, c.inferred && c.Type().Text()))
	}
	for _, name := range rd.d.names {
		if _, ok := rd.index[name]; ok {
			continue
		}
		if rd.row > 0 && !rd.d.nullable[name] {
			if rd.o.allowMissing {
				continue
			}
			return nil, fmt.Errorf("declared column %q is in no line (it is not nullable, so every row must name it)", name)
		}
		c := &table.Builder{Name: name}
		c.SetType(rd.d.types[name])
		for range rd.row {
			c.Null()
		}
		cols = append(cols, finish(c, false))
	}
	if rd.row > 0 && len(cols) == 0 {
		return nil, fmt.Errorf("%d lines but no keys: every object is empty", rd.row)
	}
	return table.New(cols...)
}
