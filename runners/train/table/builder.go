package table

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Builder accumulates the values of one column of a decided type, for the
// readers of each file format: values are appended one by one, a missing
// one with Null, and Column returns the finished column.
type Builder struct {
	// Name is the column's name.
	Name string

	typ     Type
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

// SetType decides the column's type; values appended before must be of
// it (only Nulls are, while undecided).
func (b *Builder) SetType(t Type) {
	b.typ = t
	if t.Text() && b.dictIdx == nil {
		b.dictIdx = map[string]int32{}
	}
}

// Type is the decided type, or "" while undecided.
func (b *Builder) Type() Type { return b.typ }

// Len is the number of values appended.
func (b *Builder) Len() int { return b.n }

// Distinct is the number of distinct values of a text column.
func (b *Builder) Distinct() int { return len(b.dict) }

func (b *Builder) setValid(ok bool) {
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

// Null appends a missing value.
func (b *Builder) Null() {
	switch b.typ {
	case Float:
		b.floats = push(b.floats, math.NaN())
		b.n++
	case Int, Timestamp:
		b.ints = push(b.ints, 0)
		b.setValid(false)
	case Bool:
		b.bools = push(b.bools, false)
		b.setValid(false)
	default:
		b.codes = push(b.codes, -1)
		b.n++
	}
}

// Int appends v to an int column, or Unix nanoseconds to a timestamp
// column.
func (b *Builder) Int(v int64) {
	b.ints = push(b.ints, v)
	b.setValid(true)
}

// Float appends v to a float column; NaN is missing.
func (b *Builder) Float(v float64) {
	b.floats = push(b.floats, v)
	b.n++
}

// Bool appends v to a bool column.
func (b *Builder) Bool(v bool) {
	b.bools = push(b.bools, v)
	b.setValid(true)
}

// Text appends s to a string or category column. It fails past
// math.MaxInt32 distinct values.
func (b *Builder) Text(s string) error {
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
	b.codes = push(b.codes, code)
	b.n++
	return nil
}

// TextBytes is Text without allocating for a value already seen.
func (b *Builder) TextBytes(s []byte) error {
	if code, ok := b.dictIdx[string(s)]; ok {
		b.codes = push(b.codes, code)
		b.n++
		return nil
	}
	return b.Text(string(s))
}

// Widen turns an int column into a float column (for an inferred int
// column that meets a fraction).
func (b *Builder) Widen() {
	f := make([]float64, len(b.ints), cap(b.ints)+1)
	for i, v := range b.ints {
		if b.valid[i>>6]&(1<<(uint(i)&63)) != 0 {
			f[i] = float64(v)
		} else {
			f[i] = math.NaN()
		}
	}
	b.floats, b.ints, b.valid, b.anyNull = f, nil, nil, false
	b.typ = Float
}

// Reserve makes room for n more values of the decided type.
func (b *Builder) Reserve(n int) {
	switch b.typ {
	case Float:
		b.floats = slices.Grow(b.floats, n)
	case Int, Timestamp:
		b.ints = slices.Grow(b.ints, n)
	case Bool:
		b.bools = slices.Grow(b.bools, n)
	case String, Category:
		b.codes = slices.Grow(b.codes, n)
	}
}

// Column returns the finished column, of the decided type.
func (b *Builder) Column() *Column {
	c := &Column{Name: b.Name, Type: b.typ}
	switch b.typ {
	case Float:
		c.Floats = nonNil(b.floats)
	case Int, Timestamp:
		c.Ints = nonNil(b.ints)
	case Bool:
		c.Bools = nonNil(b.bools)
	default:
		c.Codes, c.Dict = nonNil(b.codes), b.dict
	}
	if b.anyNull {
		c.Valid = Bitmap(b.valid)
	}
	return c
}

// push appends v, doubling the capacity when full (append grows large
// slices by a quarter, which copies a column many times).
func push[T any](s []T, v T) []T {
	if len(s) == cap(s) {
		n := make([]T, len(s), max(2*cap(s), 1024))
		copy(n, s)
		s = n
	}
	return append(s, v)
}
