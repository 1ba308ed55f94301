package features

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/slipway-ml/slipway/runners/train/data"
	"github.com/slipway-ml/slipway/runners/train/table"
)

func tbl(t *testing.T, csv string, types map[string]table.Type) *table.Table {
	t.Helper()
	tb, err := table.ReadCSV(strings.NewReader(csv), table.ReadOptions{Types: types})
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func fit(t *testing.T, tb *table.Table, spec FeatureSpec, idx []int) *Pipeline {
	t.Helper()
	p, err := Fit(tb, spec, idx)
	if err != nil {
		t.Fatalf("Fit: %v", err)
	}
	return p
}

func transform(t *testing.T, p *Pipeline, tb *table.Table) *data.Matrix {
	t.Helper()
	m, err := p.Transform(tb)
	if err != nil {
		t.Fatalf("Transform: %v", err)
	}
	if err := m.Validate(); err != nil {
		t.Fatalf("matrix: %v", err)
	}
	return m
}

func col(t *testing.T, m *data.Matrix, name string) []float64 {
	t.Helper()
	for j, n := range m.Names {
		if n == name {
			return m.Cols[j]
		}
	}
	t.Fatalf("no feature %q in %v", name, m.Names)
	return nil
}

func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) < 1e-12
}

func same(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
	for i := range got {
		if !near(got[i], want[i]) {
			t.Fatalf("%s: got %v, want %v", what, got, want)
		}
	}
}

func fp(v float64) *float64 { return &v }

var nan = math.NaN()

// The data: x = 1, 2, 3, 4, missing, 100; rows 0-4 train, row 5 test.
const numCSV = "x,y\n1,a\n2,b\n3,a\n4,b\n,a\n100,b\n"

var trainRows = []int{0, 1, 2, 3, 4}

func numCase(t *testing.T, ops ...Transform) []float64 {
	t.Helper()
	tb := tbl(t, numCSV, nil)
	p := fit(t, tb, FeatureSpec{Label: "y", Transforms: map[string][]Transform{"x": ops}}, trainRows)
	return col(t, transform(t, p, tb), "x")
}

func TestNumericTransforms(t *testing.T) {
	same(t, "passthrough", numCase(t), []float64{1, 2, 3, 4, nan, 100})
	same(t, "impute median", numCase(t, Transform{Op: "impute"}), []float64{1, 2, 3, 4, 2.5, 100})
	same(t, "impute mean", numCase(t, Transform{Op: "impute", Strategy: "mean"}), []float64{1, 2, 3, 4, 2.5, 100})
	same(t, "impute mode", numCase(t, Transform{Op: "impute", Strategy: "mode"}), []float64{1, 2, 3, 4, 1, 100})
	same(t, "impute constant", numCase(t, Transform{Op: "impute", Strategy: "constant", Value: -7.0}), []float64{1, 2, 3, 4, -7, 100})
	// Train mean 2.5, population std sqrt(1.25); row 5 (100) is not used.
	s := math.Sqrt(1.25)
	same(t, "standardize", numCase(t, Transform{Op: "standardize"}),
		[]float64{-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s, nan, 97.5 / s})
	same(t, "minmax", numCase(t, Transform{Op: "minmax"}), []float64{0, 1.0 / 3, 2.0 / 3, 1, nan, 33})
	same(t, "log1p", numCase(t, Transform{Op: "log1p"}), []float64{math.Log(2), math.Log(3), math.Log(4), math.Log(5), nan, math.Log(101)})
	same(t, "clip", numCase(t, Transform{Op: "clip", Min: fp(2), Max: fp(3.5)}), []float64{2, 2, 3, 3.5, nan, 3.5})
	same(t, "clip max only", numCase(t, Transform{Op: "clip", Max: fp(3)}), []float64{1, 2, 3, 3, nan, 3})
	same(t, "impute then standardize", numCase(t, Transform{Op: "impute"}, Transform{Op: "standardize"}),
		func() []float64 {
			// train after impute: 1,2,3,4,2.5 → mean 2.5, var (2.25+0.25+0.25+2.25+0)/5 = 1
			return []float64{-1.5, -0.5, 0.5, 1.5, 0, 97.5}
		}())
}

func TestFittedOnTrainRowsOnly(t *testing.T) {
	tb := tbl(t, numCSV, nil)
	spec := FeatureSpec{Label: "y", Transforms: map[string][]Transform{"x": {{Op: "impute", Strategy: "mean"}}}}
	onTrain := col(t, transform(t, fit(t, tb, spec, trainRows), tb), "x")
	onAll := col(t, transform(t, fit(t, tb, spec, nil), tb), "x")
	if onTrain[4] != 2.5 {
		t.Errorf("mean fitted on train rows: %v", onTrain[4])
	}
	if onAll[4] != 22 {
		t.Errorf("mean fitted on every row: %v", onAll[4])
	}
}

func TestBucketizeHashDateparts(t *testing.T) {
	tb := tbl(t, "x,s,ts,y\n-1,foo,2024-03-05T13:00:00Z,a\n0,bar,,b\n1.5,foo,1999-12-31T23:59:59Z,a\n2,,2024-03-10T00:00:00Z,b\n,baz,2024-03-10T00:00:00Z,a\n", nil)
	p := fit(t, tb, FeatureSpec{Label: "y", Transforms: map[string][]Transform{
		"x":  {{Op: "bucketize", Boundaries: []float64{0, 2}}},
		"s":  {{Op: "hash", Buckets: 8}},
		"ts": {{Op: "dateparts", Parts: []string{"year", "month", "day", "weekday", "hour"}}},
	}}, nil)
	m := transform(t, p, tb)
	same(t, "bucketize", col(t, m, "x"), []float64{0, 1, 1, 2, nan})
	if got := p.Categories(); got[0] != 3 || got[1] != 8 {
		t.Errorf("categories %v", got)
	}
	h := func(s string) float64 { return float64(fnv1a(s) % 8) }
	same(t, "hash", col(t, m, "s"), []float64{h("foo"), h("bar"), h("foo"), nan, h("baz")})
	if fnv1a("") != 2166136261 || fnv1a("a") != 0xe40c292c {
		t.Errorf("fnv1a does not match the reference values")
	}
	same(t, "year", col(t, m, "ts.year"), []float64{2024, nan, 1999, 2024, 2024})
	same(t, "month", col(t, m, "ts.month"), []float64{3, nan, 12, 3, 3})
	same(t, "day", col(t, m, "ts.day"), []float64{5, nan, 31, 10, 10})
	same(t, "weekday", col(t, m, "ts.weekday"), []float64{2, nan, 5, 0, 0})
	same(t, "hour", col(t, m, "ts.hour"), []float64{13, nan, 23, 0, 0})

	// bucketize then onehot.
	p = fit(t, tb, FeatureSpec{Label: "y", Transforms: map[string][]Transform{
		"x": {{Op: "bucketize", Boundaries: []float64{0, 2}}, {Op: "onehot"}}}}, nil)
	m = transform(t, p, tb)
	same(t, "bucket 1", col(t, m, "x=1"), []float64{0, 1, 1, 0, 0})
}

func TestOnehot(t *testing.T) {
	// Train counts: a 3, b 2, c 2, d 1. maxCategories 3 keeps a, b and other.
	tb := tbl(t, "c,y\na,0\nb,1\nc,0\na,1\nd,0\nb,1\na,0\nc,1\n,0\nzz,1\n", nil)
	train := []int{0, 1, 2, 3, 4, 5, 6, 7, 8}
	p := fit(t, tb, FeatureSpec{Label: "y", Transforms: map[string][]Transform{"c": {{Op: "onehot", MaxCategories: 3}}}}, train)
	m := transform(t, p, tb)
	if want := []string{"c=a", "c=b", "c=<other>"}; !reflect.DeepEqual(m.Names, want) {
		t.Fatalf("names %v, want %v", m.Names, want)
	}
	same(t, "a", m.Cols[0], []float64{1, 0, 0, 1, 0, 0, 1, 0, 0, 0})
	same(t, "other", m.Cols[2], []float64{0, 0, 1, 0, 1, 0, 0, 1, 0, 1}) // zz unseen → other
	// Without an other column an unseen category sets nothing (ignore) or errors.
	p = fit(t, tb, FeatureSpec{Label: "y", Transforms: map[string][]Transform{"c": {{Op: "onehot"}}}}, train)
	m = transform(t, p, tb)
	if want := []string{"c=a", "c=b", "c=c", "c=d"}; !reflect.DeepEqual(m.Names, want) {
		t.Fatalf("names %v, want %v", m.Names, want)
	}
	for j := range m.Cols {
		if m.Cols[j][9] != 0 || m.Cols[j][8] != 0 {
			t.Errorf("unseen or missing set column %s", m.Names[j])
		}
	}
	p = fit(t, tb, FeatureSpec{Label: "y", Transforms: map[string][]Transform{"c": {{Op: "onehot", Unknown: "error"}}}}, train)
	if _, err := p.Transform(tb); err == nil || !strings.Contains(err.Error(), `row 10: category "zz" was not seen in training`) {
		t.Errorf("unknown error: %v", err)
	}
	// With other and unknown error, a rare training category is fine but an unseen one is not.
	p = fit(t, tb, FeatureSpec{Label: "y", Transforms: map[string][]Transform{"c": {{Op: "onehot", MaxCategories: 3, Unknown: "error"}}}}, train)
	if _, err := p.Transform(tb.Subset(train)); err != nil {
		t.Errorf("training rows: %v", err)
	}
	if _, err := p.Transform(tb); err == nil {
		t.Error("unseen category with unknown error was accepted")
	}
}

func TestCategoricalHandling(t *testing.T) {
	tb := tbl(t, "c,b,ts,n,y\nx,true,1970-01-01T00:00:10Z,1,0\ny,false,,2,1\nx,,1970-01-01T00:01:00Z,3,0\nq,true,1970-01-01T00:00:00Z,4,1\n", nil)
	p := fit(t, tb, FeatureSpec{Label: "y"}, []int{0, 1, 2})
	m := transform(t, p, tb)
	if !reflect.DeepEqual(m.Names, []string{"c", "b", "ts", "n"}) || !reflect.DeepEqual(m.Categories, []int{2, 0, 0, 0}) {
		t.Fatalf("names %v categories %v", m.Names, m.Categories)
	}
	same(t, "native codes", m.Cols[0], []float64{0, 1, 0, nan}) // x most frequent → 0; q unseen → missing
	same(t, "bool", m.Cols[1], []float64{1, 0, nan, 1})
	same(t, "timestamp", m.Cols[2], []float64{10, nan, 60, 0})
	same(t, "int", m.Cols[3], []float64{1, 2, 3, 4})

	p = fit(t, tb, FeatureSpec{Label: "y", Categorical: Onehot}, []int{0, 1, 2})
	m = transform(t, p, tb)
	if !reflect.DeepEqual(m.Names, []string{"c=x", "c=y", "b", "ts", "n"}) {
		t.Fatalf("onehot names %v", m.Names)
	}
	// Native cap: 2 categories kept means 1 plus other.
	p = fit(t, tb, FeatureSpec{Label: "y", NativeMaxCategories: 2}, nil)
	m = transform(t, p, tb)
	if m.Categories[0] != 2 {
		t.Fatalf("capped categories %v", m.Categories)
	}
	same(t, "capped", m.Cols[0], []float64{0, 1, 0, 1})
	// Impute on a category column.
	tb2 := tbl(t, "c,y\na,0\n,1\nb,0\nb,1\n", nil)
	p = fit(t, tb2, FeatureSpec{Label: "y", Transforms: map[string][]Transform{"c": {{Op: "impute", Strategy: "mode"}, {Op: "onehot"}}}}, nil)
	same(t, "mode", col(t, transform(t, p, tb2), "c=b"), []float64{0, 1, 1, 1})
	p = fit(t, tb2, FeatureSpec{Label: "y", Transforms: map[string][]Transform{"c": {{Op: "impute", Strategy: "constant", Value: "none"}, {Op: "onehot"}}}}, nil)
	same(t, "constant", col(t, transform(t, p, tb2), "c=none"), []float64{0, 1, 0, 0})
	if d := tb2.Column("c").Dict; len(d) != 2 {
		t.Errorf("impute wrote into the table's dictionary: %v", d)
	}
}

func TestLabels(t *testing.T) {
	cases := []struct {
		name, csv, positive, wantPos, wantRule string
		want                                   []float64
	}{
		{"spec", "y\nno\nyes\nno\n", "no", "no", "set by the spec", []float64{1, 0, 1}},
		{"yes", "y\nNo\nYes\nNo\n", "", "Yes", `named "yes"`, []float64{0, 1, 0}},
		{"true", "y\nfalse\ntrue\ntrue\n", "", "true", `named "true"`, []float64{0, 1, 1}},
		{"one", "y\n0\n1\n1\n", "", "1", `named "1"`, []float64{0, 1, 1}},
		{"minority", "y\nstay\nleave\nstay\n", "", "leave", "minority", []float64{0, 1, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tb := tbl(t, c.csv, nil)
			p := fit(t, tb, FeatureSpec{Label: "y", Positive: c.positive}, nil)
			y, pos, err := p.Label(tb)
			if err != nil {
				t.Fatal(err)
			}
			if pos != c.wantPos || !strings.Contains(p.PositiveReason(), c.wantRule) || p.Task() != Binary {
				t.Errorf("positive %q (%s), want %q (%s)", pos, p.PositiveReason(), c.wantPos, c.wantRule)
			}
			same(t, "labels", y, c.want)
		})
	}
	tb := tbl(t, "y,x\n1.5,1\n2,2\n-3,3\n", nil)
	p := fit(t, tb, FeatureSpec{Label: "y"}, nil)
	y, pos, err := p.Label(tb)
	if err != nil || pos != "" || p.Task() != Regression {
		t.Fatalf("regression: %v %q %s", err, pos, p.Task())
	}
	same(t, "regression", y, []float64{1.5, 2, -3})

	if _, err := Fit(tbl(t, "y\na\nb\nc\n", nil), FeatureSpec{Label: "y"}, nil); err == nil || !strings.Contains(err.Error(), "3 classes") {
		t.Errorf("three classes: %v", err)
	}
	if _, err := Fit(tbl(t, "y\na\na\n", nil), FeatureSpec{Label: "y"}, nil); err == nil || !strings.Contains(err.Error(), "1 classes") {
		t.Errorf("one class: %v", err)
	}
	if _, err := Fit(tbl(t, "y\na\nb\n", nil), FeatureSpec{Label: "y", Positive: "c"}, nil); err == nil {
		t.Error("positive class not in the data was accepted")
	}
	p = fit(t, tbl(t, "y\na\nb\n", nil), FeatureSpec{Label: "y"}, nil)
	if _, _, err := p.Label(tbl(t, "y\na\nc\n", nil)); err == nil || !strings.Contains(err.Error(), `row 2: label "c"`) {
		t.Errorf("unseen class: %v", err)
	}
	if _, _, err := p.Label(tbl(t, "y,x\na,1\n,2\n", nil)); err == nil || !strings.Contains(err.Error(), "row 2: missing label") {
		t.Errorf("missing label: %v", err)
	}
}

func TestBadInput(t *testing.T) {
	tb := tbl(t, "x,k,c,y\n,5,a,0\n,5,b,1\n,5,a,1\n", map[string]table.Type{"x": table.Float})
	for _, op := range []string{"standardize", "minmax"} {
		_, err := Fit(tb, FeatureSpec{Label: "y", Transforms: map[string][]Transform{"x": {{Op: op}}}}, nil)
		if err == nil || !strings.Contains(err.Error(), `column "x": op 1 (`+op+`): no value in the training rows`) {
			t.Errorf("%s of an all-missing column: %v", op, err)
		}
	}
	// A constant column standardizes to 0, not NaN.
	p := fit(t, tb, FeatureSpec{Label: "y", Transforms: map[string][]Transform{"k": {{Op: "standardize"}}}}, nil)
	same(t, "constant standardize", col(t, transform(t, p, tb), "k"), []float64{0, 0, 0})
	p = fit(t, tb, FeatureSpec{Label: "y", Transforms: map[string][]Transform{"k": {{Op: "minmax"}}}}, nil)
	same(t, "constant minmax", col(t, transform(t, p, tb), "k"), []float64{0, 0, 0})
	// An all-missing column without transforms passes through as NaN.
	p = fit(t, tb, FeatureSpec{Label: "y"}, nil)
	same(t, "all-missing passthrough", col(t, transform(t, p, tb), "x"), []float64{nan, nan, nan})

	bad := []struct {
		spec FeatureSpec
		want string
	}{
		{FeatureSpec{Label: "nope"}, `no label column "nope"`},
		{FeatureSpec{Label: "y", Drop: []string{"zz"}}, `drop: no column "zz"`},
		{FeatureSpec{Label: "y", Transforms: map[string][]Transform{"zz": {{Op: "log1p"}}}}, `transforms: no column "zz"`},
		{FeatureSpec{Label: "y", Transforms: map[string][]Transform{"c": {{Op: "standardize"}}}}, `column "c": op 1 (standardize): needs a numeric column`},
		{FeatureSpec{Label: "y", Transforms: map[string][]Transform{"k": {{Op: "onehot"}, {Op: "log1p"}}}}, `must be last`},
		{FeatureSpec{Label: "y", Transforms: map[string][]Transform{"k": {{Op: "clip"}}}}, `clip needs min, max or both`},
		{FeatureSpec{Label: "y", Transforms: map[string][]Transform{"k": {{Op: "bucketize", Boundaries: []float64{2, 1}}}}}, `strictly increasing`},
		{FeatureSpec{Label: "y", Transforms: map[string][]Transform{"k": {{Op: "dateparts"}}}}, `dateparts needs a timestamp column`},
		{FeatureSpec{Label: "y", Transforms: map[string][]Transform{"k": {{Op: "explode"}}}}, `unknown op "explode"`},
		{FeatureSpec{Label: "y", Transforms: map[string][]Transform{"c": {{Op: "impute", Strategy: "median"}}}}, `needs a numeric column; use mode or constant`},
		{FeatureSpec{Label: "y", Categorical: "sparse"}, `categorical handling "sparse"`},
	}
	for _, b := range bad {
		if _, err := Fit(tb, b.spec, nil); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%+v: error %v, want %q", b.spec, err, b.want)
		}
	}
	if _, err := Fit(tbl(t, "x,y\n-1,0\n2,1\n", nil), FeatureSpec{Label: "y", Transforms: map[string][]Transform{"x": {{Op: "log1p"}}}}, nil); err == nil {
		t.Error("log1p of -1 in training was accepted")
	}
	if _, err := Fit(tb, FeatureSpec{Label: "y"}, []int{0, 7}); err == nil {
		t.Error("out-of-range training index accepted")
	}
	p = fit(t, tb, FeatureSpec{Label: "y", Drop: []string{"c"}}, nil)
	if _, err := p.Transform(tbl(t, "x,y\n1,0\n", nil)); err == nil || !strings.Contains(err.Error(), `column "k": not in the table`) {
		t.Errorf("missing column: %v", err)
	}
	if _, err := p.Transform(tbl(t, "x,k,y\n1,a,0\n", nil)); err == nil || !strings.Contains(err.Error(), "was numeric when fitted") {
		t.Errorf("type change: %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	csv := "n,c,s,ts,b,y\n" +
		"1,a,foo,2024-01-01T10:00:00Z,true,yes\n" +
		",b,bar,2024-02-01T11:00:00Z,false,no\n" +
		"3,a,,2024-03-01T12:00:00Z,,no\n" +
		"7,c,foo,,true,yes\n" +
		"2,,baz,2024-05-01T00:00:00Z,false,no\n"
	tb := tbl(t, csv, nil)
	spec := FeatureSpec{Label: "y", Transforms: map[string][]Transform{
		"n":  {{Op: "impute", Strategy: "median"}, {Op: "clip", Min: fp(0), Max: fp(5)}, {Op: "log1p"}, {Op: "standardize"}},
		"c":  {{Op: "onehot", MaxCategories: 2, Unknown: "error"}},
		"s":  {{Op: "hash", Buckets: 16}},
		"ts": {{Op: "dateparts"}},
	}}
	for _, cat := range []string{Native, Onehot} {
		spec.Categorical = cat
		p := fit(t, tb, spec, []int{0, 1, 2, 3})
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), `{"version":1,`) {
			t.Fatalf("not versioned: %s", b)
		}
		var q Pipeline
		if err := json.Unmarshal(b, &q); err != nil {
			t.Fatal(err)
		}
		m1, m2 := transform(t, p, tb), transform(t, &q, tb)
		if !reflect.DeepEqual(m1.Names, m2.Names) || !reflect.DeepEqual(m1.Categories, m2.Categories) {
			t.Fatalf("names or categories differ")
		}
		for j := range m1.Cols {
			same(t, m1.Names[j], m2.Cols[j], m1.Cols[j])
		}
		y1, p1, _ := p.Label(tb)
		y2, p2, _ := q.Label(tb)
		same(t, "label", y2, y1)
		if p1 != p2 || p.PositiveReason() != q.PositiveReason() {
			t.Errorf("positive %q vs %q", p1, p2)
		}
		b2, _ := json.Marshal(&q)
		if string(b) != string(b2) {
			t.Errorf("re-marshalled pipeline differs:\n%s\n%s", b, b2)
		}
	}
	var q Pipeline
	for _, in := range []string{`{"version":2}`, `{}`, `{"version":1,"label":{"column":"y","task":"binary","positive":"a","negative":"b"},"categorical":"native","columns":[{"column":"x","input":"number","steps":[{"op":"hash","buckets":0}],"names":["x"],"categories":[0]}],"names":["x"],"categories":[0]}`, `{"version":1,"bogus":1}`} {
		if err := json.Unmarshal([]byte(in), &q); err == nil {
			t.Errorf("accepted %s", in)
		}
	}
}

func FuzzUnmarshal(f *testing.F) {
	tb, _ := table.ReadCSV(strings.NewReader("n,c,y\n1,a,yes\n2,b,no\n"), table.ReadOptions{})
	p, _ := Fit(tb, FeatureSpec{Label: "y", Transforms: map[string][]Transform{"c": {{Op: "onehot"}}, "n": {{Op: "bucketize", Boundaries: []float64{1.5}}}}}, nil)
	b, _ := json.Marshal(p)
	f.Add(b)
	f.Fuzz(func(t *testing.T, in []byte) {
		var q Pipeline
		if json.Unmarshal(in, &q) != nil {
			return
		}
		q.Transform(tb)
		q.Label(tb)
	})
}
