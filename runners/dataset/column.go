package dataset

import (
	"fmt"
	"math"
	"strings"

	"github.com/slipway-ml/slipway/runners/train/table"
)

// colBuf accumulates the values of one column of a decided type.
type colBuf struct {
	name    string
	typ     table.Type
	n       int
	floats  []float64
	ints    []int64
	bools   []bool
	codes   []int32
	dict    []string
	dictIdx map[string]int32
	valid   []uint64
	anyNull bool
}

func (b *colBuf) setType(t table.Type) {
	b.typ = t
	if t.Text() && b.dictIdx == nil {
		b.dictIdx = map[string]int32{}
	}
}

func (b *colBuf) setValid(ok bool) {
	i := b.n
	if i>>6 >= len(b.valid) {
		b.valid = append(b.valid, 0)
	}
	if ok {
		b.valid[i>>6] |= 1 << (uint(i) & 63)
	} else {
		b.anyNull = true
	}
	b.n++
}

// null appends a missing value.
func (b *colBuf) null() {
	switch b.typ {
	case table.Float:
		b.floats = append(b.floats, math.NaN())
		b.n++
	case table.Int, table.Timestamp:
		b.ints = append(b.ints, 0)
		b.setValid(false)
	case table.Bool:
		b.bools = append(b.bools, false)
		b.setValid(false)
	default:
		b.codes = append(b.codes, -1)
		b.n++
	}
}

// int appends v to an int or timestamp column.
func (b *colBuf) int(v int64) {
	b.ints = append(b.ints, v)
	b.setValid(true)
}

// float appends v to a float column; NaN is missing.
func (b *colBuf) float(v float64) {
	b.floats = append(b.floats, v)
	b.n++
}

// bool appends v to a bool column.
func (b *colBuf) bool(v bool) {
	b.bools = append(b.bools, v)
	b.setValid(true)
}

// text appends s to a string or category column.
func (b *colBuf) text(s string) error {
	code, ok := b.dictIdx[s]
	if !ok {
		if len(b.dict) == math.MaxInt32 {
			return fmt.Errorf("more than %d distinct values", math.MaxInt32)
		}
		code = int32(len(b.dict))
		s = strings.Clone(s)
		b.dictIdx[s] = code
		b.dict = append(b.dict, s)
	}
	b.codes = append(b.codes, code)
	b.n++
	return nil
}

// textBytes appends s to a string or category column without allocating
// for a value already in the dictionary.
func (b *colBuf) textBytes(s []byte) error {
	if code, ok := b.dictIdx[string(s)]; ok {
		b.codes = append(b.codes, code)
		b.n++
		return nil
	}
	return b.text(string(s))
}

// widen turns an int column into a float column.
func (b *colBuf) widen() {
	f := make([]float64, len(b.ints), cap(b.ints)+1)
	for i, v := range b.ints {
		if b.valid[i>>6]&(1<<(uint(i)&63)) != 0 {
			f[i] = float64(v)
		} else {
			f[i] = math.NaN()
		}
	}
	b.floats, b.ints, b.valid, b.anyNull = f, nil, nil, false
	b.typ = table.Float
}

// column returns the finished column. An inferred text column with more
// than table.DefaultMaxInferredCategories distinct values is a string
// column, else a category.
func (b *colBuf) column(inferredText bool) *table.Column {
	c := &table.Column{Name: b.name, Type: b.typ}
	switch b.typ {
	case table.Float:
		c.Floats = nonNil(b.floats)
	case table.Int, table.Timestamp:
		c.Ints = nonNil(b.ints)
	case table.Bool:
		c.Bools = nonNil(b.bools)
	default:
		c.Codes, c.Dict = nonNil(b.codes), b.dict
		if inferredText {
			c.Type = table.Category
			if len(b.dict) > table.DefaultMaxInferredCategories {
				c.Type = table.String
			}
		}
	}
	if b.anyNull {
		c.Valid = table.Bitmap(b.valid)
	}
	return c
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// quote quotes s for an error message, cut to 64 bytes.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return fmt.Sprintf("%q", s)
}
