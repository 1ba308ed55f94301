package table

import (
	"math"
	"testing"
)

func TestParseHelpers(t *testing.T) {
	ints := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"42", 42, true},
		{"-7", -7, true},
		{" 3 ", 3, true},
		{"9223372036854775807", math.MaxInt64, true},
		{"9223372036854775808", 0, false},
		{"1.0", 0, false},
		{"0x10", 0, false},
		{"", 0, false},
	}
	for _, c := range ints {
		got, ok := ParseInt(c.in)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("ParseInt(%q) = %d, %t; want %d, %t", c.in, got, ok, c.want, c.ok)
		}
	}
	floats := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"1.5", 1.5, true},
		{"-2e3", -2000, true},
		{" 7 ", 7, true},
		{"1_000", 0, false},
		{"0x1p3", 0, false},
		{"1e999", 0, false},
		{"abc", 0, false},
	}
	for _, c := range floats {
		got, ok := ParseFloat(c.in)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("ParseFloat(%q) = %v, %t; want %v, %t", c.in, got, ok, c.want, c.ok)
		}
	}
	bools := []struct {
		in       string
		want, ok bool
	}{
		{"true", true, true},
		{"TRUE", true, true},
		{"False", false, true},
		{"yes", false, false},
		{"1", false, false},
	}
	for _, c := range bools {
		got, ok := ParseBool(c.in)
		if ok != c.ok || got != c.want {
			t.Errorf("ParseBool(%q) = %t, %t; want %t, %t", c.in, got, ok, c.want, c.ok)
		}
	}
}
