package monitor

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/slipway-ml/slipway/compiler/spec"
	"github.com/slipway-ml/slipway/runners/dataset"
	"github.com/slipway-ml/slipway/runners/drift"
	"github.com/slipway-ml/slipway/runners/train/table"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func mustTable(t testing.TB, cols ...*table.Column) *table.Table {
	t.Helper()
	tb, err := table.New(cols...)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// series returns n values start, start+step, ….
func series(n int, start, step float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = start + float64(i)*step
	}
	return out
}

func repeat(n int, values ...string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = values[i%len(values)]
	}
	return out
}

// fixture is a pair of 40-row tables: "income" drifts (shifted far to the
// right), "age", "plan" and "active" do not; "churn" is the label.
func fixture(t testing.TB) (ref, cur *table.Table) {
	t.Helper()
	ages := series(40, 20, 1)
	ages[3] = math.NaN()
	ref = mustTable(t,
		table.NewFloat("age", ages),
		table.NewFloat("income", series(40, 1000, 25)),
		table.NewText("plan", table.Category, repeat(40, "basic", "pro", "basic", "team"), nil),
		table.NewBool("active", alternate(40), nil),
		table.NewText("churn", table.Category, repeat(40, "no", "yes"), nil),
	)
	cur = mustTable(t,
		table.NewFloat("age", series(40, 20.5, 1)),
		table.NewFloat("income", series(40, 3000, 25)),
		table.NewText("plan", table.Category, repeat(40, "pro", "basic", "team", "basic"), nil),
		table.NewBool("active", alternate(40), nil),
		table.NewText("churn", table.Category, repeat(40, "yes", "yes", "no"), nil),
	)
	return ref, cur
}

func alternate(n int) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = i%3 != 0
	}
	return out
}

func TestGolden(t *testing.T) {
	ref, cur := fixture(t)
	r, err := Compare(ref, cur, Config{Reference: "training", Current: "live 2024-05-01", Exclude: []string{"churn"}})
	if err != nil {
		t.Fatal(err)
	}
	var drifted []string
	for _, f := range r.Features {
		if f.Drifted {
			drifted = append(drifted, f.Feature)
		}
	}
	if strings.Join(drifted, ",") != "income" {
		t.Errorf("drifted features = %v, want [income]", drifted)
	}
	if r.Drifted || r.ShareDrifted != 0.25 || r.Share != drift.DefaultShare {
		t.Errorf("dataset drift = %v at share %v (threshold %v), want false at 0.25 (threshold 0.5)", r.Drifted, r.ShareDrifted, r.Share)
	}
	dir := t.TempDir()
	if err := Write(dir, r); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{JSONFile, HTMLFile} {
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "golden", f)
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s (run go test -update to accept)", f, golden)
		}
	}
	// Rendering twice gives the same bytes.
	a, _ := Marshal(r)
	b, _ := Marshal(r)
	if !bytes.Equal(a, b) {
		t.Error("Marshal is not deterministic")
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

func TestIdenticalTablesDoNotDrift(t *testing.T) {
	ref, _ := fixture(t)
	for _, method := range []string{"", drift.MethodPSI, drift.MethodJSD} {
		r, err := Compare(ref, ref, Config{Method: method})
		if err != nil {
			t.Fatalf("method %q: %v", method, err)
		}
		if len(r.Features) != 5 {
			t.Errorf("method %q: %d features compared, want 5", method, len(r.Features))
		}
		if r.Drifted || r.ShareDrifted != 0 {
			t.Errorf("method %q: identical tables drift (share %v)", method, r.ShareDrifted)
		}
		for _, f := range r.Features {
			if f.Drifted {
				t.Errorf("method %q: feature %s drifts against itself: %+v", method, f.Feature, f)
			}
		}
	}
}

func TestCompareSelection(t *testing.T) {
	ref, cur := fixture(t)
	stamps := mustTable(t, table.NewTimestamp("at", make([]int64, 40), nil), table.NewFloat("age", series(40, 20, 1)))
	tests := []struct {
		name     string
		ref, cur *table.Table
		cfg      Config
		want     string // features compared, comma-separated
		err      string
	}{
		{"default", ref, cur, Config{}, "active,age,churn,income,plan", ""},
		{"exclude", ref, cur, Config{Exclude: []string{"churn", "plan"}}, "active,age,income", ""},
		{"columns", ref, cur, Config{Columns: []string{"plan", "age", "plan"}}, "age,plan", ""},
		{"columns minus exclude", ref, cur, Config{Columns: []string{"plan", "age"}, Exclude: []string{"age"}}, "plan", ""},
		{"only common columns", ref, mustTable(t, table.NewFloat("age", series(5, 1, 1))), Config{}, "age", ""},
		{"timestamps left out", stamps, stamps, Config{}, "age", ""},
		{"timestamp named", stamps, stamps, Config{Columns: []string{"at"}}, "at", ""},
		{"column missing from current", ref, mustTable(t, table.NewFloat("age", series(5, 1, 1))), Config{Columns: []string{"age", "income"}}, "", `"income" is not a column of the current data`},
		{"column missing from reference", ref, cur, Config{Columns: []string{"salary"}}, "", `"salary" is not a column of the reference data`},
		{"feature override missing", ref, cur, Config{Features: map[string]FeatureConfig{"tenure": {Threshold: 0.2}}}, "", `feature "tenure" is not a column of the reference data`},
		{"kinds differ", ref, mustTable(t, table.NewText("age", table.String, repeat(4, "x"), nil)), Config{}, "", `column "age"`},
		{"no values", ref, mustTable(t, table.NewFloat("age", []float64{math.NaN()})), Config{}, "", "no non-missing values"},
		{"bad method", ref, cur, Config{Method: "t-test"}, "", `unknown drift method "t-test"`},
		{"nil table", nil, cur, Config{}, "", "expected a reference and a current table"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Compare(tt.ref, tt.cur, tt.cfg)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range r.Features {
				got = append(got, f.Feature)
			}
			if strings.Join(got, ",") != tt.want {
				t.Errorf("features = %v, want %s", got, tt.want)
			}
		})
	}
}

func TestFeatureOverrides(t *testing.T) {
	ref, cur := fixture(t)
	cfg := Config{
		Method: drift.MethodPSI, Threshold: 0.2, Share: 0.25,
		Features: map[string]FeatureConfig{"age": {Threshold: 5}, "plan": {Method: drift.MethodChiSquare}},
		Exclude:  []string{"churn"},
	}
	r, err := Compare(ref, cur, cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]any{
		"active": {drift.MethodPSI, 0.2},
		"age":    {drift.MethodPSI, 5.0},
		"income": {drift.MethodPSI, 0.2},
		"plan":   {drift.MethodChiSquare, 0.2},
	}
	for _, f := range r.Features {
		w := want[f.Feature]
		if f.Method != w[0] || f.Threshold != w[1] {
			t.Errorf("%s: method %s threshold %v, want %v %v", f.Feature, f.Method, f.Threshold, w[0], w[1])
		}
	}
	if !r.Drifted || r.Share != 0.25 || r.Method != drift.MethodPSI {
		t.Errorf("report = drifted %v share %v method %q, want drift at share 0.25 with psi", r.Drifted, r.Share, r.Method)
	}
}

func TestConfigFromSpec(t *testing.T) {
	m := &spec.Monitoring{Drift: &spec.Drift{
		Method: "ks", Threshold: 0.01, Share: 0.3, Window: "24h", Reference: "training",
		Features: map[string]spec.FeatureThreshold{"age": {Threshold: 0.001}},
	}}
	got := ConfigFromSpec(m)
	if got.Method != "ks" || got.Threshold != 0.01 || got.Share != 0.3 ||
		len(got.Features) != 1 || got.Features["age"] != (FeatureConfig{Threshold: 0.001}) {
		t.Errorf("ConfigFromSpec = %+v", got)
	}
	for _, m := range []*spec.Monitoring{nil, {}} {
		if got := ConfigFromSpec(m); got.Method != "" || got.Features != nil || got.Share != 0 {
			t.Errorf("ConfigFromSpec(%v) = %+v, want the zero Config", m, got)
		}
	}
}

// svgPattern matches the inline SVG elements of a page.
var svgPattern = regexp.MustCompile(`(?s)<svg .*?</svg>`)

// checkSVG fails unless every inline SVG of page is well-formed XML.
func checkSVG(t *testing.T, page []byte) int {
	t.Helper()
	found := svgPattern.FindAll(page, -1)
	for _, s := range found {
		d := xml.NewDecoder(bytes.NewReader(s))
		d.Strict = true
		for {
			_, err := d.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("SVG is not well-formed: %v\n%s", err, s)
			}
		}
	}
	return len(found)
}

func TestSVGWellFormed(t *testing.T) {
	ref, cur := fixture(t)
	r, err := Compare(ref, cur, Config{})
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := HTML(&page, r); err != nil {
		t.Fatal(err)
	}
	if n := checkSVG(t, page.Bytes()); n != len(r.Features) {
		t.Errorf("%d charts, want one per feature (%d)", n, len(r.Features))
	}
	for _, bad := range []string{"<script", "http://", "https://", "NaN", "Inf"} {
		if bytes.Contains(page.Bytes(), []byte(bad)) {
			t.Errorf("page contains %q", bad)
		}
	}
}

func TestHostileNames(t *testing.T) {
	names := []string{
		`<script>alert(1)</script>`,
		`"><img src=x onerror=alert(1)>`,
		"ctl\x01\x1b[31m",
		"bad\xff\xfeutf8",
		`]]><!-- & ' "`,
	}
	var refCols, curCols []*table.Column
	for _, n := range names {
		refCols = append(refCols, table.NewText(n, table.Category, repeat(20, "<b>", n, "&amp;"), nil))
		curCols = append(curCols, table.NewText(n, table.Category, repeat(20, n, "<b>"), nil))
	}
	r, err := Compare(mustTable(t, refCols...), mustTable(t, curCols...), Config{Reference: "</title><script>", Current: "a&b"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Write(dir, r); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script", "<img", "<b>", "\x01", "\x1b"} {
		if bytes.Contains(page, []byte(bad)) {
			t.Errorf("page contains unescaped %q", bad)
		}
	}
	if !bytes.Contains(page, []byte("&lt;script&gt;alert(1)&lt;/script&gt;")) {
		t.Error("page lacks the escaped column name")
	}
	if n := checkSVG(t, page); n != len(names) {
		t.Errorf("%d charts, want %d", n, len(names))
	}
	js, err := os.ReadFile(filepath.Join(dir, JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatalf("drift.json does not decode: %v", err)
	}
	if len(back.Features) != len(names) || back.Reference != "</title><script>" {
		t.Errorf("drift.json round trip lost data: %+v", back)
	}
}

func TestManyCategories(t *testing.T) {
	values := make([]string, 100)
	for i := range values {
		values[i] = strings.Repeat("c", 1+i%60)
	}
	tb := mustTable(t, table.NewText("code", table.String, values, nil))
	r, err := Compare(tb, tb, Config{})
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := HTML(&page, r); err != nil {
		t.Fatal(err)
	}
	checkSVG(t, page.Bytes())
	if !strings.Contains(page.String(), "20 more categories not shown") {
		t.Error("page does not count the categories left out of the chart")
	}
}

func TestNilReport(t *testing.T) {
	if _, err := Marshal(nil); err == nil {
		t.Error("Marshal(nil) succeeded")
	}
	if err := HTML(io.Discard, nil); err == nil {
		t.Error("HTML(nil) succeeded")
	}
	dir := filepath.Join(t.TempDir(), "out")
	if err := Write(dir, nil); err == nil {
		t.Error("Write(nil) succeeded")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("Write(nil) created %s", dir)
	}
}

// churn reads the example churn data.
func churn(t *testing.T) *table.Table {
	t.Helper()
	tb, err := dataset.ReadFile(filepath.Join("..", "..", "examples", "churn", "data", "churn.csv"), dataset.CSV, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func halves(tb *table.Table) (a, b *table.Table) {
	n := tb.Rows()
	first, second := make([]int, n/2), make([]int, n-n/2)
	for i := range first {
		first[i] = i
	}
	for i := range second {
		second[i] = n/2 + i
	}
	return tb.Subset(first), tb.Subset(second)
}

func TestChurnHalves(t *testing.T) {
	ref, cur := halves(churn(t))
	cfg := Config{Reference: "first half", Current: "second half", Exclude: []string{"churn"}}
	r, err := Compare(ref, cur, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r.Drifted {
		t.Errorf("the two halves drift: share %v: %+v", r.ShareDrifted, r.Features)
	}
	if len(r.Features) != 19 {
		t.Errorf("%d features compared, want 19", len(r.Features))
	}

	// Shift one numeric column by +50%.
	const shifted = "total_day_minutes"
	col := cur.Column(shifted)
	if !col.Numeric() {
		t.Fatalf("%s is %s, want a numeric column", shifted, col.Type)
	}
	values := make([]float64, col.Len())
	for i := range values {
		values[i] = col.Number(i) * 1.5
	}
	var cols []*table.Column
	for _, c := range cur.Columns() {
		if c.Name == shifted {
			c = table.NewFloat(shifted, values)
		}
		cols = append(cols, c)
	}
	r, err = Compare(ref, mustTable(t, cols...), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Features {
		if f.Drifted != (f.Feature == shifted) {
			t.Errorf("%s: drifted = %v (%s %v, threshold %v)", f.Feature, f.Drifted, f.Method, f.Statistic, f.Threshold)
		}
	}
	var page bytes.Buffer
	if err := HTML(&page, r); err != nil {
		t.Fatal(err)
	}
	checkSVG(t, page.Bytes())
}
