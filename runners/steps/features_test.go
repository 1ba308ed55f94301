package steps

import (
	"slices"
	"strings"
	"testing"

	"github.com/slipway-ml/slipway/compiler/ir"
	"github.com/slipway-ml/slipway/compiler/spec"
	"github.com/slipway-ml/slipway/runners/train/table"
)

func splitTable(t *testing.T, labels []string) *table.Table {
	t.Helper()
	n := len(labels)
	ts := make([]int64, n)
	for i := range ts {
		ts[i] = int64((n - i) * 1_000_000_000) // later rows first
	}
	tbl, err := table.New(table.NewTimestamp("at", ts, nil), table.NewText("y", table.Category, labels, nil))
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

func TestDecideSplit(t *testing.T) {
	labels := make([]string, 100)
	for i := range labels {
		labels[i] = "no"
		if i%4 == 0 {
			labels[i] = "yes"
		}
	}
	tbl := splitTable(t, labels)
	for _, tc := range []struct {
		name   string
		split  spec.Split
		method string
	}{
		{"stratified", spec.Split{Test: 0.2, Validation: 0.1, Stratified: true}, "stratified"},
		{"random", spec.Split{Test: 0.2, Validation: 0.1}, "random"},
		{"time", spec.Split{Test: 0.2, Validation: 0.1, TimeColumn: "at"}, "time"},
		{"no validation", spec.Split{Test: 0.3, Stratified: true}, "stratified"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := ir.FeaturesParams{Features: spec.Features{Label: "y"}, Task: "binary", Split: tc.split, Seed: 3}
			s, err := decideSplit(tbl, p)
			if err != nil {
				t.Fatal(err)
			}
			if s.Method != tc.method {
				t.Errorf("method %s", s.Method)
			}
			all := slices.Concat(s.Train, s.Validation, s.Test)
			slices.Sort(all)
			if len(all) != 100 || slices.Compact(all)[99] != 99 || len(slices.Compact(slices.Clone(all))) != 100 {
				t.Fatalf("rows are not split exactly once: %d rows", len(all))
			}
			if len(s.Test) != int(tc.split.Test*100+0.5) {
				t.Errorf("%d test rows", len(s.Test))
			}
			if tc.split.Validation == 0 && len(s.Validation) != 0 {
				t.Errorf("%d validation rows without a validation share", len(s.Validation))
			}
			if tc.method == "time" {
				// Rows are in reverse time order: the test rows are the
				// first (latest) ones, validation the next latest.
				if s.Test[len(s.Test)-1] != len(s.Test)-1 || s.Validation[0] != len(s.Test) {
					t.Errorf("time split: test %v, validation %v", s.Test, s.Validation)
				}
			}
			if tc.method == "stratified" {
				pos := 0
				for _, i := range s.Test {
					if labels[i] == "yes" {
						pos++
					}
				}
				if want := len(s.Test) / 4; pos < want-1 || pos > want+1 {
					t.Errorf("stratified test rows hold %d positives of %d", pos, len(s.Test))
				}
			}
		})
	}
	// A label with one class cannot be stratified or learned.
	one := splitTable(t, slices.Repeat([]string{"no"}, 10))
	_, err := decideSplit(one, ir.FeaturesParams{Features: spec.Features{Label: "y"}, Task: "binary", Split: spec.Split{Test: 0.2, Stratified: true}})
	if err == nil || !strings.Contains(err.Error(), "only one class") {
		t.Errorf("one class: %v", err)
	}
	_, err = decideSplit(tbl, ir.FeaturesParams{Features: spec.Features{Label: "y"}, Task: "binary", Split: spec.Split{Test: 0.2, TimeColumn: "nope"}})
	if err == nil || !strings.Contains(err.Error(), `no time column "nope"`) {
		t.Errorf("missing time column: %v", err)
	}
}
