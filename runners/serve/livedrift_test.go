package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/slipway-ml/slipway/runners/drift"
	"github.com/slipway-ml/slipway/runners/monitor"
	"github.com/slipway-ml/slipway/runners/train/table"
)

// modelDir copies the binary model, adding reference as reference.jsonl
// (unless empty) and piiJSON as schema.json's "pii" (unless empty).
func modelDir(t testing.TB, reference, piiJSON string) string {
	t.Helper()
	dir := copyModel(t, "schema.json", func(b []byte) []byte {
		if piiJSON == "" {
			return b
		}
		return bytes.Replace(b, []byte(`{"version":1`), []byte(`{"pii":`+piiJSON+`,"version":1`), 1)
	})
	if reference != "" {
		if err := os.WriteFile(filepath.Join(dir, ReferenceFile), []byte(reference), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// handReference is a four-record reference sample: age 1..4, plan two
// basic, one pro, one max.
const handReference = `{"age": 1, "plan": "basic"}
{"age": 2, "plan": "basic"}

{"age": 3, "plan": "pro"}
{"age": 4, "plan": "max"}
`

// newDriftServer serves a model with reference, logging into the
// returned buffer.
func newDriftServer(t *testing.T, reference, piiJSON string, o Options) (*Server, *httptest.Server, *bytes.Buffer) {
	t.Helper()
	m, err := Load(modelDir(t, reference, piiJSON))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	}
	s, err := NewServer(m, o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv, &logs
}

func TestLoadReference(t *testing.T) {
	m := loadModel(t, modelDir(t, handReference, ""))
	want, err := m.inputTable([]map[string]any{
		{"age": 1.0, "plan": "basic"}, {"age": 2.0, "plan": "basic"}, {"age": 3.0, "plan": "pro"}, {"age": 4.0, "plan": "max"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Reference; got == nil || !equalTables(got, want) {
		t.Fatalf("Reference = %+v, want %+v", got, want)
	}
	if c := m.Reference.Column("plan"); c.Type != table.Category {
		t.Errorf("plan is %v, want a category column as requests build it", c.Type)
	}
	if m := loadModel(t, binaryDir); m.Reference != nil {
		t.Errorf("Reference without %s = %v, want nil", ReferenceFile, m.Reference)
	}
}

// equalTables compares two tables value by value, by their text.
func equalTables(a, b *table.Table) bool {
	if a.Rows() != b.Rows() || len(a.Columns()) != len(b.Columns()) {
		return false
	}
	for j, ca := range a.Columns() {
		cb := b.Columns()[j]
		if ca.Name != cb.Name || ca.Type != cb.Type {
			return false
		}
		for i := range a.Rows() {
			ta, oka := ca.Text(i)
			tb, okb := cb.Text(i)
			if ta != tb || oka != okb {
				return false
			}
		}
	}
	return true
}

func TestLoadReferenceErrors(t *testing.T) {
	many := strings.Repeat(`{"age": 1, "plan": "a"}`+"\n", MaxReferenceRows+1)
	tests := []struct{ name, reference, want string }{
		{"not json", "{\"age\": 1, \"plan\": \"a\"}\n{\"age\":\n", "reference.jsonl:2: not a JSON value"},
		{"not an object", `[1, "a"]`, `reference.jsonl:1: found an array, want an object`},
		{"unknown field", `{"age": 1, "plan": "a"}` + "\n" + `{"age": 1, "plan": "a", "churned": "yes"}`, `reference.jsonl:2: field "churned": unknown field`},
		{"wrong type", "{\"age\": 1, \"plan\": \"a\"}\n\n{\"age\": \"old\", \"plan\": \"a\"}", `reference.jsonl:3: field "age": want a number, found a string`},
		{"missing field", `{"age": 1}`, `reference.jsonl:1: field "plan": missing`},
		{"huge number", `{"age": 1e400, "plan": "a"}`, "reference.jsonl:1: a number is out of range"},
		{"no records", "\n  \n", "reference.jsonl holds no records"},
		{"too many", many, "reference.jsonl:5001: more than 5000 records"},
		{"long line", `{"plan": "` + strings.Repeat("x", maxReferenceLine) + `"}`, "reference.jsonl:1: the line is over"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(modelDir(t, tc.reference, ""))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestLoadPII(t *testing.T) {
	m := loadModel(t, modelDir(t, "", `{"action":"pseudonymize","columns":["plan","customer_id"]}`))
	if m.PII == nil || m.PII.Action != "pseudonymize" || !m.PII.Has("plan") || m.PII.Has("age") {
		t.Errorf("PII = %+v, want plan and customer_id pseudonymized", m.PII)
	}
	for _, bad := range []struct{ pii, want string }{
		{`{"action":"hide","columns":["plan"]}`, `pii action is "hide"`},
		{`{"action":"drop","columns":[""]}`, "pii column 1 has an empty name"},
	} {
		if _, err := Load(modelDir(t, "", bad.pii)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("Load with pii %s = %v, want an error containing %q", bad.pii, err, bad.want)
		}
	}
	if m := loadModel(t, modelDir(t, "", `{"action":"drop","columns":[]}`)); m.PII != nil {
		t.Errorf("PII with no column = %+v, want nil", m.PII)
	}
}

// windowTable builds an input table of ages and plans ("" is a null plan).
func windowTable(t *testing.T, ages []float64, plans []string) *table.Table {
	t.Helper()
	valid := table.NewBitmap(len(plans), true)
	for i, p := range plans {
		if p == "" {
			valid.Clear(i)
		}
	}
	tb, err := table.New(table.NewFloat("age", ages), table.NewText("plan", table.Category, plans, valid))
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func TestWindowWraparound(t *testing.T) {
	w := newWindow([]Input{{Name: "age", Type: TypeNumber}, {Name: "plan", Type: TypeString}}, 4)
	if tb, added, err := w.snapshot(); tb != nil || added != 0 || err != nil {
		t.Fatalf("empty snapshot = %v, %d, %v; want nil, 0", tb, added, err)
	}
	steps := []struct {
		ages   []float64
		plans  []string
		count  int
		added  uint64
		wantAg string
		wantPl string
	}{
		{[]float64{1, 2, 3}, []string{"a", "", "c"}, 3, 3, "1 2 3", "a - c"},
		{[]float64{4, 5}, []string{"d", "e"}, 4, 5, "2 3 4 5", "- c d e"},
		{[]float64{6}, []string{""}, 4, 6, "3 4 5 6", "c d e -"},
		{[]float64{7, 8, 9, 10, 11, 12}, []string{"g", "h", "i", "j", "k", "l"}, 4, 12, "9 10 11 12", "i j k l"},
		{[]float64{13, 14, 15, 16}, []string{"m", "n", "o", "p"}, 4, 16, "13 14 15 16", "m n o p"},
	}
	for i, st := range steps {
		w.add(windowTable(t, st.ages, st.plans))
		if n, added := w.state(); n != st.count || added != st.added {
			t.Errorf("step %d: state = %d, %d; want %d, %d", i, n, added, st.count, st.added)
		}
		tb, added, err := w.snapshot()
		if err != nil || added != st.added {
			t.Fatalf("step %d: snapshot = %v, %d; want %d records added", i, err, added, st.added)
		}
		if got := columnText(tb.Column("age")); got != st.wantAg {
			t.Errorf("step %d: ages = %s, want %s", i, got, st.wantAg)
		}
		if got := columnText(tb.Column("plan")); got != st.wantPl {
			t.Errorf("step %d: plans = %s, want %s", i, got, st.wantPl)
		}
		if tb.Column("plan").Type != table.Category || tb.Column("age").Type != table.Float {
			t.Errorf("step %d: column types %v %v, want float and category", i, tb.Column("age").Type, tb.Column("plan").Type)
		}
	}
}

// columnText is a column's values, space-separated, "-" for a null.
func columnText(c *table.Column) string {
	var parts []string
	for i := range c.Len() {
		s, ok := c.Text(i)
		if !ok {
			s = "-"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// gauge reads a gauge's value from reg; labels are name=value pairs.
func gauge(t *testing.T, reg *prometheus.Registry, name string, labels ...string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue metric
				}
			}
			if g := m.GetGauge(); g != nil {
				return g.GetValue(), true
			}
			return m.GetCounter().GetValue(), true
		}
	}
	return 0, false
}

// TestDriftGauges checks the gauges against statistics computed by hand.
//
// Reference: age 1 2 3 4; plan basic basic pro max. Window: age 2.5 3.5
// 5 6; plan basic pro pro max.
//
// age by Kolmogorov-Smirnov: the empirical CDFs differ most by 0.5 (at
// 2, where the reference is at 2/4 and the window at 0/4, and at 4,
// reference 4/4, window 2/4). The exact p-value for n = m = 4 is
// 1 - P(D < 0.5): of the C(8,4) = 70 merge orders, those keeping the two
// counts within 1 of each other pick an order in each of 4 pairs, 2^4 =
// 16, so p = 1 - 16/70 = 54/70, above 0.05: no drift.
//
// plan by PSI: shares basic .5/.25, pro .25/.5, max .25/.25, so PSI =
// (.5-.25)·ln(.5/.25) + (.25-.5)·ln(.25/.5) + 0 = 0.5·ln 2, at least
// 0.1: drift. One of two features drifted: share 0.5, which reaches the
// default share of 0.5: dataset drift.
func TestDriftGauges(t *testing.T) {
	var reports []*monitor.Report
	o := Options{Drift: DriftOptions{
		Config:   monitor.Config{Method: "psi", Features: map[string]monitor.FeatureConfig{"age": {Method: "ks"}}},
		OnReport: func(r *monitor.Report) { reports = append(reports, r) },
	}}
	s, srv, _ := newDriftServer(t, handReference, "", o)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s.h.drift.now = func() time.Time { return at }
	status, body := do(t, "POST", srv.URL+"/predict", `[{"age": 2.5, "plan": "basic"}, {"age": 3.5, "plan": "pro"}, {"age": 5, "plan": "pro"}]`)
	if status != 200 {
		t.Fatalf("predict = %d %s", status, body)
	}
	status, body = do(t, "POST", srv.URL+"/v2/models/churn/infer",
		`{"inputs":[{"name":"age","datatype":"FP64","shape":[1],"data":[6]},{"name":"plan","datatype":"BYTES","shape":[1],"data":["max"]}]}`)
	if status != 200 {
		t.Fatalf("infer = %d %s", status, body)
	}
	do(t, "POST", srv.URL+"/predict", `{"age": "refused", "plan": "basic"}`)
	rep, err := s.DriftNow()
	if err != nil {
		t.Fatal(err)
	}
	reg := s.h.metrics.reg
	want := []struct {
		name   string
		labels []string
		value  float64
	}{
		{"slipway_feature_drift_score", []string{"feature", "age", "method", "ks"}, 54.0 / 70},
		{"slipway_feature_drift_score", []string{"feature", "plan", "method", "psi"}, 0.5 * math.Ln2},
		{"slipway_feature_drift_detected", []string{"feature", "age"}, 0},
		{"slipway_feature_drift_detected", []string{"feature", "plan"}, 1},
		{"slipway_dataset_drift_share", nil, 0.5},
		{"slipway_dataset_drift_detected", nil, 1},
		{"slipway_drift_window_records", nil, 4},
		{"slipway_drift_last_run_timestamp_seconds", nil, float64(at.Unix())},
		{"slipway_drift_errors_total", nil, 0},
	}
	for _, w := range want {
		got, ok := gauge(t, reg, w.name, w.labels...)
		if !ok || math.Abs(got-w.value) > 1e-12 {
			t.Errorf("%s%v = %v (found %v), want %v", w.name, w.labels, got, ok, w.value)
		}
	}
	if len(reports) != 1 || reports[0] != rep || s.DriftReport() != rep {
		t.Errorf("OnReport got %d reports, want the one DriftNow returned", len(reports))
	}
	if rep.RowsReference != 4 || rep.RowsCurrent != 4 || rep.Reference != ReferenceFile || rep.Current != "the last 1000 scored records" {
		t.Errorf("report = %+v", rep)
	}
	status, body = do(t, "GET", srv.URL+"/v2/models/churn/drift", "")
	var got monitor.Report
	if status != 200 || json.Unmarshal(body, &got) != nil || len(got.Features) != 2 || got.Features[1].Statistic != rep.Features[1].Statistic {
		t.Errorf("GET drift = %d %s, want the report", status, body)
	}
}

func TestDriftMethodChangeDropsOldSeries(t *testing.T) {
	s, _, _ := newDriftServer(t, handReference, "", Options{})
	mt := s.h.metrics
	rep := &monitor.Report{}
	rep.Features = append(rep.Features, driftResult("age", "ks", 0.5))
	mt.drift(rep, 1)
	rep.Features[0] = driftResult("age", "wasserstein", 0.2)
	mt.drift(rep, 2)
	if _, ok := gauge(t, mt.reg, "slipway_feature_drift_score", "feature", "age", "method", "ks"); ok {
		t.Error("the ks series of age survived the switch to wasserstein")
	}
	if v, ok := gauge(t, mt.reg, "slipway_feature_drift_score", "feature", "age", "method", "wasserstein"); !ok || v != 0.2 {
		t.Errorf("wasserstein score of age = %v, %v; want 0.2", v, ok)
	}
}

func TestDriftOffAndEndpoint(t *testing.T) {
	srv, _, logs := newTestServer(t, Options{})
	status, body := do(t, "GET", srv.URL+"/v2/models/churn/drift", "")
	if status != 404 || !strings.Contains(string(body), "drift monitoring is off") {
		t.Errorf("drift without a reference = %d %s, want 404 saying it is off", status, body)
	}
	_, metricsText := do(t, "GET", srv.URL+"/metrics", "")
	if strings.Contains(string(metricsText), "slipway_drift") || strings.Contains(string(metricsText), "_drift_detected") {
		t.Errorf("metrics without a reference hold drift gauges:\n%s", metricsText)
	}
	if n := strings.Count(logs.String(), `"msg":"drift monitoring is off`); n != 1 {
		t.Errorf("the drift-off line appears %d times, want once:\n%s", n, logs)
	}
	s, err := NewServer(loadModel(t, binaryDir), Options{Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DriftNow(); err != ErrDriftOff {
		t.Errorf("DriftNow = %v, want ErrDriftOff", err)
	}
	if err := s.Run(context.Background()); err != nil {
		t.Errorf("Run without drift = %v, want nil at once", err)
	}

	_, dsrv, _ := newDriftServer(t, handReference, "", Options{})
	status, body = do(t, "GET", dsrv.URL+"/v2/models/churn/drift", "")
	var e errorBody
	if status != 404 || json.Unmarshal(body, &e) != nil || !strings.Contains(e.Error, "no drift report yet: the live window holds 0 records") {
		t.Errorf("drift before a comparison = %d %s, want a 404 JSON error", status, body)
	}
	if status, _ := do(t, "GET", dsrv.URL+"/v2/models/other/drift", ""); status != 404 {
		t.Errorf("drift of another model = %d, want 404", status)
	}
}

func TestDriftExcludesPII(t *testing.T) {
	s, srv, _ := newDriftServer(t, handReference, `{"action":"drop","columns":["plan"]}`, Options{})
	do(t, "POST", srv.URL+"/predict", `[{"age": 2.5, "plan": "basic"}, {"age": 3.5, "plan": "pro"}]`)
	rep, err := s.DriftNow()
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Features) != 1 || rep.Features[0].Feature != "age" {
		t.Errorf("features compared = %+v, want age alone", rep.Features)
	}
	if _, ok := gauge(t, s.h.metrics.reg, "slipway_feature_drift_detected", "feature", "plan"); ok {
		t.Error("the PII field plan has a drift gauge")
	}
}

// TestOnReportOncePerComparison checks when the loop compares: not below
// MinRows, once per tick with new records, never twice on the same
// window.
func TestOnReportOncePerComparison(t *testing.T) {
	var calls atomic.Int32
	s, srv, _ := newDriftServer(t, handReference, "", Options{Drift: DriftOptions{
		Window: 10, MinRows: 3, OnReport: func(*monitor.Report) { calls.Add(1) },
	}})
	d := s.h.drift
	post := func(body string) {
		t.Helper()
		if status, b := do(t, "POST", srv.URL+"/predict", body); status != 200 {
			t.Fatalf("predict = %d %s", status, b)
		}
	}
	steps := []struct {
		body  string // posted before the tick, if any
		calls int32
	}{
		{`[{"age": 1, "plan": "basic"}, {"age": 2, "plan": "pro"}]`, 0}, // 2 < MinRows
		{`{"age": 3, "plan": "max"}`, 1},                                // 3 records: compare
		{"", 1},                                                         // nothing new: skip
		{`{"age": 4, "plan": "max"}`, 2},
		{"", 2},
	}
	for i, st := range steps {
		if st.body != "" {
			post(st.body)
		}
		d.tick()
		if got := calls.Load(); got != st.calls {
			t.Fatalf("step %d: OnReport called %d times, want %d", i, got, st.calls)
		}
	}
	if _, err := s.DriftNow(); err != nil || calls.Load() != 3 {
		t.Errorf("DriftNow = %v, OnReport calls %d; want one more call", err, calls.Load())
	}
}

func TestRunAndServeStopDrift(t *testing.T) {
	reported := make(chan *monitor.Report, 100)
	s, srv, _ := newDriftServer(t, handReference, "", Options{Drift: DriftOptions{
		MinRows: 1, Interval: 5 * time.Millisecond, OnReport: func(r *monitor.Report) { reported <- r },
	}})
	do(t, "POST", srv.URL+"/predict", `{"age": 2, "plan": "basic"}`)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, "127.0.0.1:0", s) }()
	select {
	case r := <-reported:
		if r.RowsCurrent != 1 {
			t.Errorf("report of %d records, want 1", r.RowsCurrent)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve never ran the drift loop")
	}
	if err := s.Run(ctx); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("a second Run = %v, want an error", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	if s.running.Load() {
		t.Error("the drift loop still runs after Serve returned")
	}
}

func TestNewServerErrors(t *testing.T) {
	m := loadModel(t, modelDir(t, handReference, ""))
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"negative window", Options{Drift: DriftOptions{Window: -1}}, "must not be negative"},
		{"negative interval", Options{Drift: DriftOptions{Interval: -time.Second}}, "must not be negative"},
		{"min rows over window", Options{Drift: DriftOptions{Window: 10, MinRows: 11}}, "min rows 11 exceeds the window of 10"},
		{"unknown method", Options{Drift: DriftOptions{Config: monitor.Config{Method: "magic"}}}, `unknown drift method "magic"`},
		{"unknown feature", Options{Drift: DriftOptions{Config: monitor.Config{Features: map[string]monitor.FeatureConfig{"zip": {}}}}}, `feature "zip" is not a column`},
		{"text method on numbers", Options{Drift: DriftOptions{Config: monitor.Config{Features: map[string]monitor.FeatureConfig{"plan": {Method: "ks"}}}}}, "needs numeric values"},
		{"short key", Options{PIIKey: []byte("short")}, "the PII key is 5 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Logger = discard()
			_, err := NewServer(m, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewServer = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	bad := *m
	ref, err := table.New(table.NewFloat("plan", []float64{1}))
	if err != nil {
		t.Fatal(err)
	}
	bad.Reference = ref
	if _, err := NewServer(&bad, Options{Logger: discard()}); err == nil || !strings.Contains(err.Error(), `column "plan" holds float values, want string`) {
		t.Errorf("NewServer with a mistyped reference = %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("NewHandler with invalid options did not panic")
		}
	}()
	NewHandler(m, Options{Logger: discard(), Drift: DriftOptions{Window: -1}})
}

func driftResult(feature, method string, stat float64) drift.Result {
	return drift.Result{Feature: feature, Method: method, Statistic: stat}
}

// TestDriftMetricsLint checks the drift gauges' exposition with promlint.
func TestDriftMetricsLint(t *testing.T) {
	s, srv, _ := newDriftServer(t, handReference, "", Options{})
	do(t, "POST", srv.URL+"/predict", `[{"age": 2.5, "plan": "basic"}, {"age": 9, "plan": "pro"}]`)
	if _, err := s.DriftNow(); err != nil {
		t.Fatal(err)
	}
	_, b := do(t, "GET", srv.URL+"/metrics", "")
	text := string(b)
	for _, p := range lintExposition(text) {
		t.Errorf("lint: %s", p)
	}
	problems, err := promlint.New(strings.NewReader(text)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	for _, name := range []string{
		"slipway_feature_drift_score{", "slipway_feature_drift_detected{", "slipway_dataset_drift_share ",
		"slipway_dataset_drift_detected ", "slipway_drift_window_records 2", "slipway_drift_last_run_timestamp_seconds ",
		"slipway_drift_errors_total 0",
	} {
		if !strings.Contains(text, "\n"+name) {
			t.Errorf("metrics lack %s:\n%s", name, text)
		}
	}
}
