package report

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
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slipway-ml/slipway/runners/train/metrics"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// render returns the report's JSON and HTML.
func render(t *testing.T, r *Report) (js, page []byte) {
	t.Helper()
	js, err := Marshal(r)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	var b bytes.Buffer
	if err := HTML(&b, r); err != nil {
		t.Fatalf("HTML: %v", err)
	}
	return js, b.Bytes()
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		r    *Report
	}{
		{"churn", churnReport(t)},
		{"failed_at_validation", failedReport()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := Write(dir, tt.r); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{JSONFile, HTMLFile} {
				got, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join("testdata", "golden", tt.name+filepath.Ext(f))
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
					t.Errorf("%s differs from %s (run go test -update to accept):\n%s", f, golden, firstDiff(got, want))
				}
			}
		})
	}
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(g), len(w)) {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + a + "\nwant: " + b
		}
	}
	return "(no line differs)"
}

func TestWriteDeterministic(t *testing.T) {
	r := churnReport(t)
	a, b := t.TempDir(), filepath.Join(t.TempDir(), "nested", "run")
	for _, dir := range []string{a, b, a} {
		if err := Write(dir, r); err != nil {
			t.Fatal(err)
		}
	}
	js, page := render(t, r)
	for _, f := range []struct {
		name string
		want []byte
	}{{JSONFile, js}, {HTMLFile, page}} {
		x, err := os.ReadFile(filepath.Join(a, f.name))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, f.name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) || !bytes.Equal(x, f.want) {
			t.Errorf("%s differs between two writes of the same report", f.name)
		}
	}
	// A fresh report built the same way (new maps, so a new iteration
	// order) gives the same bytes.
	js2, page2 := render(t, churnReport(t))
	if !bytes.Equal(js, js2) || !bytes.Equal(page, page2) {
		t.Error("two equal reports render differently")
	}
	entries, err := os.ReadDir(a)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "report.html report.json" {
		t.Errorf("run directory holds %v, want only report.html and report.json (no temporary files)", names)
	}
}

func TestWriteRefusesBadReport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := failedReport()
	r.APIVersion = "slipway.dev/report/v0"
	err := Write(dir, r)
	if err == nil || !strings.Contains(err.Error(), `api_version "slipway.dev/report/v0", want "slipway.dev/report/v1"`) {
		t.Fatalf("Write with a wrong api_version: error %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Write failed but created %s (stat: %v)", dir, err)
	}
	if err := Write(dir, nil); err == nil {
		t.Error("Write(nil report) succeeded")
	}
	if err := HTML(io.Discard, nil); err == nil {
		t.Error("HTML(nil report) succeeded")
	}
	// A file where the directory should be.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(file, failedReport()); err == nil {
		t.Error("Write into a path that is a file succeeded")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestHTMLWriteError(t *testing.T) {
	err := HTML(failingWriter{}, failedReport())
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("HTML to a failing writer: error %v, want one mentioning disk full", err)
	}
}

// TestJSONSchema decodes report.json strictly into Report: every key must
// name a field, so the tags and the encoder agree; encoding the decoded
// report gives the same bytes.
func TestJSONSchema(t *testing.T) {
	for _, r := range []*Report{churnReport(t), failedReport()} {
		js, _ := render(t, r)
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.DisallowUnknownFields()
		var back Report
		if err := dec.Decode(&back); err != nil {
			t.Fatalf("decode report.json strictly: %v", err)
		}
		again, err := Marshal(&back)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(js, again) {
			t.Errorf("decode and encode changed report.json:\n%s", firstDiff(again, js))
		}
		if back.APIVersion != APIVersion || back.Status != r.Status || !back.StartedAt.Equal(r.StartedAt) {
			t.Errorf("decoded api_version %q status %q started %v", back.APIVersion, back.Status, back.StartedAt)
		}
	}
}

func TestJSONShape(t *testing.T) {
	js, _ := render(t, failedReport())
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	if m["api_version"] != APIVersion {
		t.Errorf("api_version %v, want %q filled in", m["api_version"], APIVersion)
	}
	for _, absent := range []string{"model", "metrics", "curves", "confusion", "importance", "fairness", "cross_validation"} {
		if _, ok := m[absent]; ok {
			t.Errorf("report.json of a run that failed before training has %q", absent)
		}
	}
	if g, ok := m["gates"].([]any); !ok || len(g) != 0 {
		t.Errorf("gates = %v, want []", m["gates"])
	}
	if !bytes.HasSuffix(js, []byte("}\n")) || !bytes.Contains(js, []byte("\n  \"run_id\": ")) {
		t.Errorf("report.json is not indented with a final newline:\n%s", js[:min(len(js), 200)])
	}
}

func TestNonFiniteJSON(t *testing.T) {
	js, _ := render(t, nanReport(t))
	if !json.Valid(js) {
		t.Fatal("report.json with NaN metrics is not valid JSON")
	}
	var m struct {
		Metrics map[string]*float64 `json:"metrics"`
		Gates   []struct {
			Value    *float64 `json:"value"`
			Champion *float64 `json:"champion"`
			Max      *float64 `json:"max"`
		} `json:"gates"`
		Model struct {
			TrainSeconds *float64       `json:"train_seconds"`
			Params       map[string]any `json:"params"`
		} `json:"model"`
	}
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	if m.Metrics["roc_auc"] != nil || m.Metrics["log_loss"] != nil || m.Metrics["pr_auc"] == nil {
		t.Errorf("metrics roc_auc %v log_loss %v pr_auc %v, want null, null, a number", m.Metrics["roc_auc"], m.Metrics["log_loss"], m.Metrics["pr_auc"])
	}
	if m.Gates[0].Value != nil || m.Gates[1].Champion != nil || m.Gates[2].Max != nil || m.Model.TrainSeconds != nil {
		t.Error("non-finite gate values or train seconds are not null")
	}
	if m.Model.Params["alpha"] != nil {
		t.Errorf("param alpha = %v, want null", m.Model.Params["alpha"])
	}
	if g, _ := m.Model.Params["grid"].([]any); len(g) != 3 || g[0] != 1.0 || g[1] != nil || g[2] != nil {
		t.Errorf("param grid = %v, want [1, null, null]", m.Model.Params["grid"])
	}
	if bytes.Contains(js, []byte("NaN")) || bytes.Contains(js, []byte("Inf")) {
		t.Error("report.json spells out NaN or Inf")
	}
}

// forbidden are the ways a page could load something from elsewhere or
// run a script.
var forbidden = regexp.MustCompile(`(?i)(<[a-z][a-z0-9]*(\s+[a-z:-]+(\s*=\s*("[^"]*"|'[^']*'|[^\s'">]+))?)*\s+(src|on[a-z]+)\s*=|href\s*=\s*"?\s*(https?:|//|javascript:)|url\s*\(|@import|@font-face|<script|<link|<iframe|<img|<object|<embed|<base)`)

func TestNoRemoteAssets(t *testing.T) {
	for name, r := range map[string]*Report{"churn": churnReport(t), "failed": failedReport(), "hostile": hostileReport(t), "nan": nanReport(t)} {
		_, page := render(t, r)
		if m := forbidden.FindAll(page, -1); len(m) > 0 {
			t.Errorf("%s: page holds %q", name, m)
		}
		if n := bytes.Count(page, []byte("<style>")); n != 1 {
			t.Errorf("%s: page has %d <style> blocks, want one inline", name, n)
		}
	}
	// The forbidden pattern does catch what it is for.
	for _, bad := range []string{`<img src="x">`, `<svg width="1" onload="x">`, `<x a='1' b=2 src=y>`, `<a href="https://x">`, `<a href="//x">`, `background: url(x)`, `@import "x";`, `<script>`, `<div onclick="x">`} {
		if !forbidden.MatchString(bad) {
			t.Errorf("forbidden pattern misses %q", bad)
		}
	}
}

func TestHostileStringsEscaped(t *testing.T) {
	r := hostileReport(t)
	js, page := render(t, r)
	for _, raw := range []string{"<script>alert(1)", "<img src=x", `"'><img`, `href="javascript:`, `href="https:`, `href="//`, `href="../`} {
		if bytes.Contains(page, []byte(raw)) {
			t.Errorf("page holds unescaped %q", raw)
		}
	}
	if n := bytes.Count(page, []byte("&lt;script&gt;alert(1)&lt;/script&gt;")); n < 20 {
		t.Errorf("escaped hostile string appears %d times, want it in every section", n)
	}
	// The hostile text is still shown, escaped, in the SVG bar labels.
	if !bytes.Contains(page, []byte(`<title>&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;&gt;&lt;img src=x onerror=alert(2)&gt;&amp;amp;`)) {
		t.Error("the hostile feature name is missing from the importance chart")
	}
	// Relative logs stay links; the rest are plain text.
	if !bytes.Contains(page, []byte(`<a href="logs/evaluate.log">`)) {
		t.Error("the relative log path is not a link")
	}
	if !utf8.Valid(page) || !utf8.Valid(js) {
		t.Error("page or report.json is not valid UTF-8")
	}
	// report.json keeps the strings as they are, invalid UTF-8 aside.
	var back Report
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if want := strings.ToValidUTF8(r.Pipeline, "\uFFFD"); back.Pipeline != want || back.Importance[0].Feature != want {
		t.Errorf("report.json changed the pipeline name to %q, want %q", back.Pipeline, want)
	}
	checkSVG(t, page)
}

func TestFailedBeforeTraining(t *testing.T) {
	_, page := render(t, failedReport())
	s := string(page)
	for _, want := range []string{
		`<header class="run bad">`,
		`<span class="status bad">failed</span>`,
		`churn/validate: dataset customers failed 2 of 3 checks`,
		`<p class="note">Not reached: the run failed before this point.</p>`,
		`<span class="badge bad">uncommitted changes</span>`,
		`<span class="badge neutral">not run</span>`,
		`row 17: <code>-1</code>`,
		`row 3: <code>&#34;premium &#34;</code>`,
		`and 2 more`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if n := strings.Count(s, "Not reached"); n != 2 {
		t.Errorf("%d sections say not reached, want 2 (gates, model)", n)
	}
	if strings.Contains(s, "<svg") {
		t.Error("a run without a model draws charts")
	}
	// Failed checks come first, in spec order.
	if a, p, u := strings.Index(s, "age in range"), strings.Index(s, "plan known"), strings.Index(s, "customer_id unique"); !(a < p && p < u) {
		t.Errorf("checks in order age %d, plan %d, unique %d; want failed ones first", a, p, u)
	}
	// Only the first maxExamples examples are shown.
	if strings.Contains(s, "row 7,001") {
		t.Error("more than 5 examples shown")
	}
}

func TestSucceededHeader(t *testing.T) {
	r := churnReport(t)
	r.Status = StatusSucceeded
	for i := range r.Gates {
		r.Gates[i].Passed = true
	}
	_, page := render(t, r)
	for _, want := range []string{`<header class="run ok">`, `<span class="status ok">succeeded</span>`, "3 gates, 0 failed", "took 3m 08s", "started 2025-03-14 09:26:53 UTC"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("page lacks %q", want)
		}
	}
	r.Gates = nil
	if _, page := render(t, r); !bytes.Contains(page, []byte("The pipeline declares no gates.")) {
		t.Error("a succeeded run without gates does not say so")
	}
}

func TestChurnPage(t *testing.T) {
	r := churnReport(t)
	_, page := render(t, r)
	s := string(page)
	auc := sig4(r.Metrics["roc_auc"])
	for _, want := range []string{
		`<header class="run bad">`, `<span class="status bad">gate failed</span>`, "3 gates, 1 failed",
		"ROC curve (AUC " + auc + ")", "Precision–recall curve (AP " + sig4(r.Metrics["pr_auc"]) + ")",
		`<line class="ref" x1="56.00" y1="280.00" x2="306.00" y2="30.00">`, // the diagonal
		"regression ≤ 0.01000 vs champion", "≥ 0.8000", "≤ 0.6000",
		`<td class="num bad">-`, // the failed gate's negative margin
		"Confusion matrix at threshold 0.5000", "Fairness by <code>gender</code>",
		"tenure_months", `<span class="badge cached">cached</span>`, "input raw/events changed",
		"https://data.example.com/churn/customers.csv", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"v0.4.0", "254,113",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// The gate table comes first.
	if g, m := strings.Index(s, `id="gates"`), strings.Index(s, `id="model"`); g < 0 || g > m {
		t.Error("the gate table is not the first section")
	}
	checkSVG(t, page)
}

func TestNonFinitePage(t *testing.T) {
	_, page := render(t, nanReport(t))
	s := string(page)
	for _, want := range []string{"ROC curve (AUC NaN)", `<td class="num">NaN</td>`, "&#43;Inf"} {
		if !strings.Contains(s, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	checkSVG(t, page)
}

// svgElement matches one inline SVG element of the page.
var svgElement = regexp.MustCompile(`(?s)<svg[ >].*?</svg>`)

// coordAttrs are the SVG attributes that hold numbers.
var coordAttrs = map[string]bool{
	"x": true, "y": true, "x1": true, "y1": true, "x2": true, "y2": true, "cx": true, "cy": true,
	"r": true, "width": true, "height": true, "viewBox": true, "d": true, "transform": true,
}

// number matches the numbers in an attribute value, NaN and Inf included.
var number = regexp.MustCompile(`(?i)[-+]?(nan|inf(inity)?|[0-9.]+(e[-+]?[0-9]+)?)`)

// checkSVG parses every SVG element of page as strict XML and checks that
// every coordinate is a finite number.
func checkSVG(t *testing.T, page []byte) {
	t.Helper()
	svgs := svgElement.FindAll(page, -1)
	if len(svgs) == 0 {
		t.Fatal("page has no SVG")
	}
	for i, svg := range svgs {
		dec := xml.NewDecoder(bytes.NewReader(svg))
		dec.Strict = true
		depth, elements := 0, 0
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("svg %d is not well-formed XML: %v\n%s", i, err, svg)
			}
			switch tok := tok.(type) {
			case xml.StartElement:
				depth++
				elements++
				for _, a := range tok.Attr {
					if !coordAttrs[a.Name.Local] {
						continue
					}
					nums := number.FindAllString(a.Value, -1)
					if len(nums) == 0 {
						t.Errorf("svg %d: <%s %s=%q> holds no number", i, tok.Name.Local, a.Name.Local, a.Value)
					}
					for _, n := range nums {
						f, err := strconv.ParseFloat(n, 64)
						if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
							t.Errorf("svg %d: <%s %s=%q> holds %q, want finite numbers", i, tok.Name.Local, a.Name.Local, a.Value, n)
						}
					}
				}
			case xml.EndElement:
				depth--
			}
		}
		if depth != 0 || elements < 3 {
			t.Errorf("svg %d: %d elements, depth %d at the end", i, elements, depth)
		}
	}
}

func TestDownsamplesLongCurves(t *testing.T) {
	r := churnReport(t)
	y, p, _ := scores(3, 20000)
	var err error
	if r.Curves.ROC, err = metrics.ROCCurve(y, p); err != nil {
		t.Fatal(err)
	}
	if len(r.Curves.ROC) <= maxPlotPoints {
		t.Fatalf("ROC has %d points; the test needs more than %d", len(r.Curves.ROC), maxPlotPoints)
	}
	v := newView(r)
	if v.ROC.Points != maxPlotPoints {
		t.Errorf("drew %d of %d ROC points, want %d", v.ROC.Points, len(r.Curves.ROC), maxPlotPoints)
	}
	if n := strings.Count(v.ROC.Path, "L"); n != maxPlotPoints-1 {
		t.Errorf("path has %d segments, want %d", n, maxPlotPoints-1)
	}
}

func TestEmptySectionNotes(t *testing.T) {
	step := func(kind, status string) Step { return Step{ID: "churn/" + kind, Kind: kind, Status: status} }
	tests := []struct {
		name               string
		status             string
		steps              []Step
		gates, model, data string
	}{
		{
			name: "failed at fetch", status: StatusFailed,
			steps: []Step{step("fetch", StepFailed), step("validate", StepNotRun), step("train", StepNotRun), step("evaluate", StepNotRun)},
			gates: notReached, model: notReached, data: notReached,
		},
		{
			name: "failed in training, no checks declared", status: StatusFailed,
			steps: []Step{step("fetch", StepCached), step("validate", StepRan), step("train", StepFailed), step("evaluate", StepNotRun)},
			gates: notReached, model: notReached, data: "The pipeline declares no data checks.",
		},
		{
			name: "succeeded without gates, model or checks", status: StatusSucceeded,
			steps: []Step{step("fetch", StepRan)},
			gates: "The pipeline declares no gates.", model: "This run trained no model.", data: "The pipeline declares no data checks.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Report{RunID: "r", Pipeline: "p", Status: tt.status, Steps: tt.steps}
			v := newView(r)
			if v.GatesNote != tt.gates || v.ModelNote != tt.model || v.DataNote != tt.data {
				t.Errorf("notes %q / %q / %q, want %q / %q / %q", v.GatesNote, v.ModelNote, v.DataNote, tt.gates, tt.model, tt.data)
			}
			_, page := render(t, r)
			for _, want := range []string{tt.gates, tt.model, tt.data} {
				if !bytes.Contains(page, []byte(`<p class="note">`+want+`</p>`)) {
					t.Errorf("page lacks the note %q", want)
				}
			}
			if bytes.Contains(page, []byte("<svg")) || bytes.Contains(page, []byte(`id="fairness"`)) {
				t.Error("a report without a model draws charts or a fairness section")
			}
		})
	}
}
