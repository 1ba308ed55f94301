package datacheck

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ml/slipway/compiler/spec"
	"github.com/slipway-ml/slipway/runners/train/table"
)

func ptr[T any](v T) *T { return &v }

// data is a small table of every type:
//
//	row  id  age   plan    email     score  ok     at
//	1    1   30    basic   a@x.com   0.5    true   2024-01-01
//	2    2   -1    pro     b@x.com   NaN    false  null
//	3    2   200   gold    a@x.com   1.5    null   2024-01-03
//	4    4   null  null    null      +Inf   true   2024-01-02
func data(t *testing.T) *table.Table {
	t.Helper()
	valid := table.NewBitmap(4, true)
	valid.Clear(3)
	okValid := table.NewBitmap(4, true)
	okValid.Clear(2)
	atValid := table.NewBitmap(4, true)
	atValid.Clear(1)
	day := func(d int) int64 { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC).UnixNano() }
	tb, err := table.New(
		table.NewInt("id", []int64{1, 2, 2, 4}, nil),
		table.NewInt("age", []int64{30, -1, 200, 0}, valid),
		table.NewText("plan", table.Category, []string{"basic", "pro", "gold", ""}, valid),
		table.NewText("email", table.String, []string{"a@x.com", "b@x.com", "a@x.com", ""}, valid),
		table.NewFloat("score", []float64{0.5, math.NaN(), 1.5, math.Inf(1)}),
		table.NewBool("ok", []bool{true, false, false, true}, okValid),
		table.NewTimestamp("at", []int64{day(1), 0, day(3), day(2)}, atValid),
	)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// col declares a column.
func col(typ string, edit ...func(*spec.Column)) *spec.Column {
	c := &spec.Column{Type: typ, Nullable: true}
	for _, e := range edit {
		e(c)
	}
	return c
}

func notNull(c *spec.Column) { c.Nullable = false }
func unique(c *spec.Column)  { c.Unique = true }
func isPII(c *spec.Column)   { c.PII = true }
func bounds(lo, hi *float64) func(*spec.Column) {
	return func(c *spec.Column) { c.Min, c.Max = lo, hi }
}
func values(v ...string) func(*spec.Column) {
	return func(c *spec.Column) { c.Values = v }
}

func dataset(cols map[string]*spec.Column, exp *spec.Expectations) *spec.Dataset {
	for name, c := range cols {
		c.Name = name
	}
	return &spec.Dataset{Name: "users", Columns: cols, Expectations: exp}
}

// find returns the result of a check on a column.
func find(t *testing.T, r *Report, check, column string) Result {
	t.Helper()
	for _, res := range r.Results {
		if res.Check == check && res.Column == column {
			return res
		}
	}
	t.Fatalf("no %s result for column %q in %+v", check, column, r.Results)
	return Result{}
}

func TestChecks(t *testing.T) {
	cases := []struct {
		name     string
		ds       *spec.Dataset
		check    string
		column   string
		rule     string
		passed   bool
		failing  int
		message  string
		examples []Example
	}{
		{
			name:  "type passes and reports nulls",
			ds:    dataset(map[string]*spec.Column{"age": col("int")}, nil),
			check: CheckType, column: "age", rule: "type int", passed: true,
			message: "int, 1 of 4 rows null",
		},
		{
			name:  "type mismatch",
			ds:    dataset(map[string]*spec.Column{"email": col("category")}, nil),
			check: CheckType, column: "email", rule: "type category",
			message: "declared category, the data holds string, 1 of 4 rows null",
		},
		{
			name:  "missing column",
			ds:    dataset(map[string]*spec.Column{"country": col("category")}, nil),
			check: CheckPresent, column: "country", rule: "column in the data",
			message: "the spec names the column but the data has no such column",
		},
		{
			name:  "not null",
			ds:    dataset(map[string]*spec.Column{"plan": col("category", notNull)}, nil),
			check: CheckNotNull, column: "plan", rule: "not null", failing: 1,
			examples: []Example{{Row: 4, Null: true}},
		},
		{
			name:  "not null passes",
			ds:    dataset(map[string]*spec.Column{"id": col("int", notNull)}, nil),
			check: CheckNotNull, column: "id", rule: "not null", passed: true,
		},
		{
			name:  "min",
			ds:    dataset(map[string]*spec.Column{"age": col("int", bounds(ptr(0.0), nil))}, nil),
			check: CheckMin, column: "age", rule: "min 0", failing: 1,
			examples: []Example{{Row: 2, Value: "-1"}},
		},
		{
			name:  "max",
			ds:    dataset(map[string]*spec.Column{"age": col("int", bounds(nil, ptr(120.0)))}, nil),
			check: CheckMax, column: "age", rule: "max 120", failing: 1,
			examples: []Example{{Row: 3, Value: "200"}},
		},
		{
			name:  "max with infinity",
			ds:    dataset(map[string]*spec.Column{"score": col("float", bounds(nil, ptr(1.0)))}, nil),
			check: CheckMax, column: "score", rule: "max 1", failing: 2,
			examples: []Example{{Row: 3, Value: "1.5"}, {Row: 4, Value: "+Inf"}},
		},
		{
			name: "range",
			ds: dataset(map[string]*spec.Column{"score": col("float")},
				&spec.Expectations{Ranges: map[string]spec.Range{"score": {Min: ptr(0.0), Max: ptr(1.0)}}}),
			check: CheckRange, column: "score", rule: "min 0, max 1", failing: 2,
			examples: []Example{{Row: 3, Value: "1.5"}, {Row: 4, Value: "+Inf"}},
		},
		{
			name: "range on a column the spec does not declare",
			ds: dataset(nil,
				&spec.Expectations{Ranges: map[string]spec.Range{"age": {Min: ptr(-5.0)}}}),
			check: CheckRange, column: "age", rule: "min -5", passed: true,
		},
		{
			name:  "range on a text column",
			ds:    dataset(map[string]*spec.Column{"plan": col("category", bounds(ptr(0.0), nil))}, nil),
			check: CheckMin, column: "plan", rule: "min 0",
			message: "min and max apply to int and float columns; the column is category",
		},
		{
			name:  "values",
			ds:    dataset(map[string]*spec.Column{"plan": col("category", values("basic", "pro"))}, nil),
			check: CheckValues, column: "plan", rule: `one of ["basic", "pro"]`, failing: 1,
			examples: []Example{{Row: 3, Value: "gold"}},
		},
		{
			name:  "unique column",
			ds:    dataset(map[string]*spec.Column{"id": col("int", unique)}, nil),
			check: CheckUnique, column: "id", rule: "unique", failing: 1,
			examples: []Example{{Row: 3, Value: "2", FirstRow: 2}},
		},
		{
			name:  "unique ignores nulls",
			ds:    dataset(map[string]*spec.Column{"ok": col("bool", unique)}, nil),
			check: CheckUnique, column: "ok", rule: "unique", failing: 1,
			examples: []Example{{Row: 4, Value: "true", FirstRow: 1}},
		},
		{
			name:  "unique from expectations",
			ds:    dataset(nil, &spec.Expectations{Unique: []string{"email"}}),
			check: CheckUnique, column: "email", rule: "unique", failing: 1,
			examples: []Example{{Row: 3, Value: "a@x.com", FirstRow: 1}},
		},
		{
			name:  "unique combination",
			ds:    dataset(nil, &spec.Expectations{Unique: []string{"id, email"}}),
			check: CheckUnique, column: "id,email", rule: "unique", passed: true,
		},
		{
			name:  "unique timestamp",
			ds:    dataset(nil, &spec.Expectations{Unique: []string{"at"}}),
			check: CheckUnique, column: "at", rule: "unique", passed: true,
		},
		{
			name:  "max null fraction",
			ds:    dataset(nil, &spec.Expectations{MaxNullFraction: map[string]float64{"score": 0.2}}),
			check: CheckMaxNullFraction, column: "score", rule: "max_null_fraction 0.2", failing: 1,
			message:  "null fraction 0.25 (1 of 4 rows)",
			examples: []Example{{Row: 2, Null: true}},
		},
		{
			name:  "max null fraction passes",
			ds:    dataset(nil, &spec.Expectations{MaxNullFraction: map[string]float64{"score": 0.25}}),
			check: CheckMaxNullFraction, column: "score", rule: "max_null_fraction 0.25", passed: true,
		},
		{
			name:  "max null fraction of a missing column",
			ds:    dataset(nil, &spec.Expectations{MaxNullFraction: map[string]float64{"nope": 0.1}}),
			check: CheckPresent, column: "nope", rule: "column in the data",
			message: "the spec names the column but the data has no such column",
		},
		{
			name:  "min rows",
			ds:    dataset(nil, &spec.Expectations{MinRows: ptr(int64(10))}),
			check: CheckMinRows, rule: "min_rows 10", message: "4 rows, fewer than 10",
		},
		{
			name:  "min rows passes",
			ds:    dataset(nil, &spec.Expectations{MinRows: ptr(int64(4))}),
			check: CheckMinRows, rule: "min_rows 4", passed: true,
		},
		{
			name:  "max rows",
			ds:    dataset(nil, &spec.Expectations{MaxRows: ptr(int64(3))}),
			check: CheckMaxRows, rule: "max_rows 3", message: "4 rows, more than 3",
		},
		{
			name:  "pii values are redacted",
			ds:    dataset(map[string]*spec.Column{"email": col("string", unique, isPII)}, nil),
			check: CheckUnique, column: "email", rule: "unique", failing: 1,
			examples: []Example{{Row: 3, Value: Redacted, FirstRow: 1}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Check(data(t), c.ds)
			got := find(t, r, c.check, c.column)
			want := Result{Check: c.check, Column: c.column, Rule: c.rule, Passed: c.passed,
				Failing: c.failing, Message: c.message, Examples: c.examples}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
			if r.Passed != (r.Summary.Failed == 0) || r.Summary.Checks != r.Summary.Passed+r.Summary.Failed ||
				r.Summary.Checks != len(r.Results) {
				t.Errorf("summary %+v inconsistent with %d results, passed %t", r.Summary, len(r.Results), r.Passed)
			}
			if (r.Err() == nil) != r.Passed {
				t.Errorf("Err %v with passed %t", r.Err(), r.Passed)
			}
		})
	}
}

func TestMaxExamples(t *testing.T) {
	n := 20
	v := make([]int64, n)
	for i := range v {
		v[i] = -int64(i)
	}
	tb, err := table.New(table.NewInt("x", v, nil))
	if err != nil {
		t.Fatal(err)
	}
	ds := dataset(map[string]*spec.Column{"x": col("int", bounds(ptr(0.0), nil))}, nil)
	res := find(t, Check(tb, ds), CheckMin, "x")
	if res.Failing != 19 || len(res.Examples) != DefaultMaxExamples || res.Examples[0].Row != 2 || res.Examples[4].Row != 6 {
		t.Errorf("default examples: failing %d, %+v", res.Failing, res.Examples)
	}
	res = find(t, Check(tb, ds, MaxExamples(2)), CheckMin, "x")
	if len(res.Examples) != 2 || res.Examples[1] != (Example{Row: 3, Value: "-2"}) {
		t.Errorf("two examples: %+v", res.Examples)
	}
	res = find(t, Check(tb, ds, MaxExamples(0)), CheckMin, "x")
	if len(res.Examples) != 0 || res.Failing != 19 {
		t.Errorf("no examples: %+v", res)
	}
}

func TestReportOrderAndErr(t *testing.T) {
	ds := dataset(map[string]*spec.Column{
		"id":    col("int", notNull, unique),
		"age":   col("int", bounds(ptr(0.0), ptr(120.0))),
		"plan":  col("category", values("basic", "pro", "gold")),
		"email": col("string", isPII),
		"gone":  col("float"),
	}, &spec.Expectations{MinRows: ptr(int64(100)), MaxNullFraction: map[string]float64{"age": 0.5}})
	r := Check(data(t), ds)
	var order []string
	for _, res := range r.Results {
		order = append(order, res.Column+"/"+res.Check)
	}
	want := []string{
		"/min_rows",
		"age/type", "age/min", "age/max", "age/max_null_fraction",
		"email/type",
		"gone/present",
		"id/type", "id/not_null", "id/unique",
		"plan/type", "plan/values",
	}
	if !reflect.DeepEqual(order, want) {
		t.Fatalf("order\n got %v\nwant %v", order, want)
	}
	if r.Summary != (Summary{Checks: 12, Passed: 7, Failed: 5}) || r.Passed {
		t.Errorf("summary %+v passed %t", r.Summary, r.Passed)
	}
	err := r.Err()
	if err == nil {
		t.Fatal("Err is nil")
	}
	wantErr := `dataset "users": 5 of 12 checks failed:
  min_rows 100: 4 rows, fewer than 100
  column "age": min 0: 1 of 4 rows fails (row 2: -1)
  column "age": max 120: 1 of 4 rows fails (row 3: 200)
  column "gone": column in the data: the spec names the column but the data has no such column
  column "id": unique: 1 of 4 rows fails (row 3: 2 (first at row 2))`
	if err.Error() != wantErr {
		t.Errorf("Err:\n%s\nwant:\n%s", err, wantErr)
	}
	// A second run gives the same report.
	a, _ := json.Marshal(r)
	b, _ := json.Marshal(Check(data(t), ds))
	if string(a) != string(b) {
		t.Error("two runs differ")
	}
}

func TestErrLimits(t *testing.T) {
	cols := map[string]*spec.Column{}
	for _, name := range []string{"c01", "c02", "c03", "c04", "c05", "c06", "c07", "c08", "c09", "c10", "c11", "c12"} {
		cols[name] = col("int")
	}
	r := Check(data(t), dataset(cols, nil))
	msg := r.Err().Error()
	if !strings.Contains(msg, "12 of 12 checks failed") || !strings.Contains(msg, "... and 2 more") || strings.Contains(msg, "c11") {
		t.Errorf("Err: %s", msg)
	}
	v := make([]int64, 10)
	tb, err := table.New(table.NewInt("x", v, nil))
	if err != nil {
		t.Fatal(err)
	}
	r = Check(tb, dataset(map[string]*spec.Column{"x": col("int", unique)}, nil))
	if msg := r.Err().Error(); !strings.Contains(msg, "9 of 10 rows fail (row 2: 0 (first at row 1); row 3: 0 (first at row 1); row 4: 0 (first at row 1); ...)") {
		t.Errorf("Err: %s", msg)
	}
}

func TestProfile(t *testing.T) {
	ds := dataset(map[string]*spec.Column{"email": col("string", isPII), "age": col("int", isPII)}, nil)
	r := Check(data(t), ds)
	byName := map[string]Profile{}
	for _, p := range r.Profile {
		byName[p.Column] = p
	}
	if got := len(r.Profile); got != 7 || r.Profile[0].Column != "id" || r.Profile[6].Column != "at" {
		t.Fatalf("profile order: %+v", r.Profile)
	}
	want := map[string]Profile{
		"id":    {Column: "id", Type: "int", Count: 4, Min: ptr(1.0), Max: ptr(4.0), Mean: ptr(2.25)},
		"age":   {Column: "age", Type: "int", Declared: true, PII: true, Count: 3, Nulls: 1, NullFraction: 0.25},
		"plan":  {Column: "plan", Type: "category", Count: 3, Nulls: 1, NullFraction: 0.25, Distinct: ptr(3)},
		"email": {Column: "email", Type: "string", Declared: true, PII: true, Count: 3, Nulls: 1, NullFraction: 0.25, Distinct: ptr(2)},
		"score": {Column: "score", Type: "float", Count: 3, Nulls: 1, NullFraction: 0.25, Min: ptr(0.5), Max: ptr(1.5), Mean: ptr(1.0), Infinite: 1},
		"ok":    {Column: "ok", Type: "bool", Count: 3, Nulls: 1, NullFraction: 0.25, Distinct: ptr(2), Mean: ptr(2.0 / 3)},
		"at":    {Column: "at", Type: "timestamp", Count: 3, Nulls: 1, NullFraction: 0.25, Earliest: "2024-01-01T00:00:00Z", Latest: "2024-01-03T00:00:00Z"},
	}
	for name, w := range want {
		if got := byName[name]; !reflect.DeepEqual(got, w) {
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(w)
			t.Errorf("profile %s:\n got %s\nwant %s", name, gj, wj)
		}
	}
}

func TestJSONFields(t *testing.T) {
	ds := dataset(map[string]*spec.Column{"id": col("int", unique)}, nil)
	b, err := json.Marshal(Check(data(t), ds))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, field := range []string{`"dataset":"users"`, `"rows":4`, `"passed":false`, `"summary":{"checks":2,"passed":1,"failed":1}`,
		`"check":"unique"`, `"column":"id"`, `"rule":"unique"`, `"failing":1`, `"examples":[{"row":3,"value":"2","first_row":2}]`,
		`"null_fraction":0`, `"profile":[`} {
		if !strings.Contains(s, field) {
			t.Errorf("JSON lacks %s: %s", field, s)
		}
	}
}

func TestNilDatasetAndEmptyTable(t *testing.T) {
	r := Check(data(t), nil)
	if !r.Passed || len(r.Results) != 0 || len(r.Profile) != 7 || r.Err() != nil {
		t.Errorf("nil dataset: %+v", r)
	}
	empty := data(t).Subset(nil)
	r = Check(empty, dataset(map[string]*spec.Column{"id": col("int", notNull, unique)},
		&spec.Expectations{MinRows: ptr(int64(1)), MaxNullFraction: map[string]float64{"id": 0}}))
	if r.Passed || r.Summary.Failed != 1 || find(t, r, CheckMinRows, "").Passed {
		t.Errorf("empty table: %+v", r.Results)
	}
	if p := r.Profile[0]; p.Min != nil || p.NullFraction != 0 {
		t.Errorf("empty profile %+v", p)
	}
}

func TestLongValuesCut(t *testing.T) {
	long := strings.Repeat("é", 80)
	tb, err := table.New(table.NewText("s", table.String, []string{long}, nil))
	if err != nil {
		t.Fatal(err)
	}
	res := find(t, Check(tb, dataset(map[string]*spec.Column{"s": col("string", values("a"))}, nil)), CheckValues, "s")
	v := res.Examples[0].Value
	if len(v) > maxValueBytes+len("…") || !strings.HasSuffix(v, "…") || !strings.HasPrefix(long, strings.TrimSuffix(v, "…")) {
		t.Errorf("cut value %q", v)
	}
}

func TestUniqueCombination(t *testing.T) {
	tb, err := table.New(
		table.NewInt("a", []int64{1, 1, 2, 1}, nil),
		table.NewText("b", table.Category, []string{"x", "y", "x", "x"}, nil),
		table.NewText("c", table.String, []string{"p", "q", "r", "s"}, nil),
	)
	if err != nil {
		t.Fatal(err)
	}
	ds := dataset(map[string]*spec.Column{"c": col("string", isPII)}, &spec.Expectations{Unique: []string{"a, b", "b,c", "a,missing"}})
	r := Check(tb, ds)
	got := find(t, r, CheckUnique, "a,b")
	want := Result{Check: CheckUnique, Column: "a,b", Rule: "unique", Failing: 1,
		Examples: []Example{{Row: 4, Value: "a=1, b=x", FirstRow: 1}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if res := find(t, r, CheckUnique, "b,c"); !res.Passed {
		t.Errorf("b,c: %+v", res)
	}
	if res := find(t, r, CheckPresent, "missing"); res.Passed {
		t.Errorf("missing: %+v", res)
	}
	// A key whose parts hold the separator does not collide.
	tb, err = table.New(
		table.NewText("p", table.String, []string{"a:1s", "a"}, nil),
		table.NewText("q", table.String, []string{"x", "1s:x"}, nil),
	)
	if err != nil {
		t.Fatal(err)
	}
	if res := find(t, Check(tb, dataset(nil, &spec.Expectations{Unique: []string{"p,q"}})), CheckUnique, "p,q"); !res.Passed {
		t.Errorf("distinct pairs reported as repeats: %+v", res)
	}
}
