package datacheck

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// maxErrFailures is how many failed checks Err lists.
const maxErrFailures = 10

// maxErrExamples is how many example rows Err shows per failed check.
const maxErrExamples = 3

// Failures returns the checks that failed, in report order.
func (r *Report) Failures() []Result {
	var out []Result
	for _, res := range r.Results {
		if !res.Passed {
			out = append(out, res)
		}
	}
	return out
}

// Err returns nil when every check passed, else an error listing the
// first failed checks, each with its rule, what was found and a few
// offending rows, for example:
//
//	dataset "churn": 2 of 14 checks failed:
//	  column "age": min 0: 2 of 1000 rows fail (row 5: -1; row 9: -3)
//	  min_rows 100: 12 rows, fewer than 100
func (r *Report) Err() error {
	failed := r.Failures()
	if len(failed) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "dataset %q: %d of %d checks failed:", r.Dataset, len(failed), r.Summary.Checks)
	for k, f := range failed {
		if k == maxErrFailures {
			fmt.Fprintf(&b, "\n  ... and %d more", len(failed)-k)
			break
		}
		b.WriteString("\n  ")
		if f.Column != "" {
			fmt.Fprintf(&b, "column %q: ", f.Column)
		}
		b.WriteString(f.Rule)
		b.WriteString(": ")
		b.WriteString(describe(f, r.Rows))
	}
	return errors.New(b.String())
}

// describe says what a failed check found.
func describe(f Result, rows int) string {
	var b strings.Builder
	switch {
	case f.Message != "" && f.Failing == 0:
		b.WriteString(f.Message)
	case f.Failing == 1:
		fmt.Fprintf(&b, "1 of %d rows fails", rows)
	default:
		fmt.Fprintf(&b, "%d of %d rows fail", f.Failing, rows)
	}
	if f.Message != "" && f.Failing > 0 {
		fmt.Fprintf(&b, " (%s)", f.Message)
	}
	if len(f.Examples) > 0 {
		b.WriteString(" (")
		for k, x := range f.Examples {
			if k == maxErrExamples {
				b.WriteString("; ...")
				break
			}
			if k > 0 {
				b.WriteString("; ")
			}
			b.WriteString(x.String())
		}
		b.WriteString(")")
	}
	return b.String()
}

// String shows the example as "row 5: -1", "row 7: null" or
// "row 9: x (first at row 2)"; a value that is empty, "null" or has
// surrounding blanks is quoted.
func (x Example) String() string {
	v := x.Value
	switch {
	case x.Null:
		v = "null"
	case v == "" || v == "null" || strings.TrimSpace(v) != v:
		v = strconv.Quote(v)
	}
	s := fmt.Sprintf("row %d: %s", x.Row, v)
	if x.FirstRow > 0 {
		s += fmt.Sprintf(" (first at row %d)", x.FirstRow)
	}
	return s
}
