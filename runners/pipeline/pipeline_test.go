package pipeline

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ml/slipway/compiler"
	"github.com/slipway-ml/slipway/runners/artifact"
	"github.com/slipway-ml/slipway/runners/artifact/store"
	"github.com/slipway-ml/slipway/runners/dataset"
	"github.com/slipway-ml/slipway/runners/fetch"
	"github.com/slipway-ml/slipway/runners/local"
	"github.com/slipway-ml/slipway/runners/report"
	"github.com/slipway-ml/slipway/runners/steps"
)

var update = flag.Bool("update", false, "rewrite testdata/golden")

// compileDir compiles the package in dir.
func compileDir(t *testing.T, dir string) *compiler.Result {
	t.Helper()
	return compileWith(t, dir, false)
}

func compileWith(t *testing.T, dir string, unpinned bool) *compiler.Result {
	t.Helper()
	res, ds := compiler.Compile(context.Background(), compiler.Options{FS: os.DirFS(dir), Dir: ".", Root: dir, AllowUnpinned: unpinned})
	if res == nil {
		t.Fatalf("compile %s: %v", dir, ds)
	}
	return res
}

func copyExample(t *testing.T, name string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), name)
	if err := os.CopyFS(dst, os.DirFS(filepath.Join("..", "..", "examples", name))); err != nil {
		t.Fatal(err)
	}
	return dst
}

// normalise blanks what changes from run to run in a report.
func normalise(r *report.Report) *report.Report {
	c := *r
	c.RunID = "RUN"
	c.StartedAt, c.FinishedAt = time.Time{}, time.Time{}
	c.Lineage.GitCommit, c.Lineage.GitDirty = "", false
	c.Steps = append([]report.Step(nil), r.Steps...)
	for i := range c.Steps {
		c.Steps[i].Seconds = 0
		c.Steps[i].Reason = regexp.MustCompile(`run \d{8}-\d{6}-[0-9a-f]+`).ReplaceAllString(c.Steps[i].Reason, "run RUN")
	}
	if c.Model != nil {
		m := *c.Model
		m.TrainSeconds = 0
		c.Model = &m
	}
	return &c
}

// TestChurnGolden runs examples/churn end to end and compares its report
// with testdata/golden/churn-report.json; a second run hits the cache for
// every step and reports the same model.
func TestChurnGolden(t *testing.T) {
	dir := copyExample(t, "churn")
	state := t.TempDir()
	res := compileDir(t, dir)
	out, err := Run(context.Background(), Options{Compiled: res, StateDir: state})
	if err != nil {
		t.Fatal(err)
	}
	if out.Err() != nil {
		t.Fatalf("run failed: %v", out.Err())
	}
	got, err := report.Marshal(normalise(out.Report))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "golden", "churn-report.json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("report differs from %s; run `make golden` and review the diff\n%s", golden, firstDiff(got, want))
	}
	for _, name := range []string{"report.html", "report.json", "run.json", "train.log", "gates.json"} {
		if _, err := os.Stat(filepath.Join(out.Run.RunDir, name)); err != nil {
			t.Errorf("run directory: %v", err)
		}
	}
	if out.Report.Metrics["roc_auc"] < 0.85 {
		t.Errorf("roc_auc %v: the churn gbdt should pass its own gate", out.Report.Metrics["roc_auc"])
	}

	again, err := Run(context.Background(), Options{Compiled: compileDir(t, dir), StateDir: state})
	if err != nil || again.Err() != nil {
		t.Fatalf("second run: %v %v", err, again.Err())
	}
	for _, s := range again.Run.Steps {
		if s.Status != local.StatusCached && s.Status != local.StatusNotRun {
			t.Errorf("second run: %s %s (%s)", s.ID, s.Status, s.Reason)
		}
	}
	if again.Report.Metrics["roc_auc"] != out.Report.Metrics["roc_auc"] {
		t.Errorf("second run roc_auc %v, first %v", again.Report.Metrics["roc_auc"], out.Report.Metrics["roc_auc"])
	}

	// A changed parameter retrains, and says why.
	spec := filepath.Join(dir, "churn.cue")
	b, _ := os.ReadFile(spec)
	if err := os.WriteFile(spec, bytes.Replace(b, []byte("learningRate:        0.1"), []byte("learningRate:        0.2"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	third, err := Run(context.Background(), Options{Compiled: compileDir(t, dir), StateDir: state})
	if err != nil || third.Err() != nil {
		t.Fatalf("third run: %v %v", err, third.Err())
	}
	train := third.Run.Step("train")
	if train.Status != local.StatusRan || !strings.Contains(train.Reason, "gbdt.learningRate 0.1 → 0.2") {
		t.Errorf("train after a parameter change: %s %q", train.Status, train.Reason)
	}
	if s := third.Run.Step("features"); s.Status != local.StatusCached {
		t.Errorf("features after a training change: %s %q", s.Status, s.Reason)
	}
}

func firstDiff(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d:\n got: %s\nwant: %s", i+1, la[i], lb[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d lines", len(la), len(lb))
}

// spec is a small pipeline whose source and expectations the bad-data
// cases vary.
const spec = `package bad

pipelines: bad: {
	datasets: d: {
		source: %q
		%s
		columns: {
			x: {type: "float", min: 0}
			n: {type: "int", min: 0}
			g: {type: "category", values: ["a", "b"]}
			y: {type: "category", values: ["no", "yes"]}
		}
		%s
	}
	features: {dataset: "d", label: "y", positive: "yes"}
	training: {model: "logistic", split: test: 0.25}
	gates: auc: {metric: "roc_auc", min: 0.5}
}
`

// goodCSV has 40 rows that train.
func goodCSV() string {
	var b strings.Builder
	b.WriteString("x,n,g,y\n")
	for i := range 40 {
		y, g := "no", "a"
		if i%7 >= 4 {
			y = "yes"
		}
		if i%2 == 0 {
			g = "b"
		}
		fmt.Fprintf(&b, "%d.5,%d,%s,%s\n", i, i%7, g, y)
	}
	return b.String()
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func tarGz(t *testing.T, entries map[string]string, link string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, body := range entries {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write([]byte(body))
	}
	if link != "" {
		_ = tw.WriteHeader(&tar.Header{Name: "data.csv", Linkname: link, Typeflag: tar.TypeSymlink})
	}
	_ = tw.Close()
	_ = gz.Close()
	return buf.Bytes()
}

// TestBadData runs pipelines over bad data: each fails with a clear error
// at the right step, and leaves nothing half-written.
func TestBadData(t *testing.T) {
	big := bytes.Repeat([]byte("1.5,1,a,no\n"), 200_000)
	bomb := tarGz(t, map[string]string{"data.csv": "x,n,g,y\n" + strings.Repeat("1.5,1,a,no\n", 300_000)}, "")
	dotdot := tarGz(t, map[string]string{"../evil.csv": goodCSV()}, "")
	symlink := tarGz(t, nil, "/etc/passwd")
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big.csv":
			_, _ = w.Write(append([]byte("x,n,g,y\n"), big...))
		case "/bomb.tar.gz":
			_, _ = w.Write(bomb)
		case "/dotdot.tar.gz":
			_, _ = w.Write(dotdot)
		case "/symlink.tar.gz":
			_, _ = w.Write(symlink)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	fopts := []steps.FetchOption{fetch.WithHTTPClient(srv.Client()), fetch.WithPrivateNetworks(true), fetch.WithMaxBytes(1 << 20)}
	bigSum := sha(append([]byte("x,n,g,y\n"), big...))

	cases := []struct {
		name    string
		source  string
		sha     string
		expect  string
		data    string // data/d.csv
		remove  bool   // delete the file after compiling
		step    string // the step that fails
		wantErr string
	}{
		{name: "wrong type", data: "x,n,g,y\n1.5,abc,a,no\n2.5,2,b,yes\n", step: "validate-d", wantErr: `"abc" is not an int`},
		{name: "missing column", data: "x,g,y\n1.5,a,no\n2.5,b,yes\n", step: "validate-d", wantErr: "no such column"},
		{name: "malformed csv", data: "x,n,g,y\n1.5,1,\"a,no\n", step: "validate-d", wantErr: "quote"},
		{name: "value out of range", data: strings.Replace(goodCSV(), "\n1.5,", "\n-1.5,", 1), step: "validate-d", wantErr: "min"},
		{name: "value not allowed", data: strings.Replace(goodCSV(), ",a,no", ",c,no", 1), step: "validate-d", wantErr: "row 2: c"},
		{name: "too few rows", data: goodCSV(), expect: "expectations: minRows: 1000", step: "validate-d", wantErr: "1000"},
		{name: "one class", data: strings.ReplaceAll(goodCSV(), ",yes\n", ",no\n"), step: "features", wantErr: "only one class"},
		{name: "missing file", data: goodCSV(), remove: true, step: "fetch-d", wantErr: "d.csv"},
		{name: "checksum mismatch", data: goodCSV(), sha: strings.Repeat("0", 64), step: "fetch-d", wantErr: "sha256"},
		{name: "too large", source: srv.URL + "/big.csv", sha: bigSum, step: "fetch-d", wantErr: "limit"},
		{name: "decompression bomb", source: srv.URL + "/bomb.tar.gz", sha: sha(bomb), step: "fetch-d", wantErr: "limit"},
		{name: "dotdot in archive", source: srv.URL + "/dotdot.tar.gz", sha: sha(dotdot), step: "fetch-d", wantErr: ".."},
		{name: "symlink in archive", source: srv.URL + "/symlink.tar.gz", sha: sha(symlink), step: "fetch-d", wantErr: "link"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			src := tc.source
			if src == "" {
				src = "data/d.csv"
			}
			shaLine := ""
			if tc.sha != "" {
				shaLine = fmt.Sprintf("sha256: %q", tc.sha)
			}
			if err := os.WriteFile(filepath.Join(dir, "bad.cue"), fmt.Appendf(nil, spec, src, shaLine, tc.expect), 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.data != "" {
				_ = os.MkdirAll(filepath.Join(dir, "data"), 0o755)
				if err := os.WriteFile(filepath.Join(dir, "data", "d.csv"), []byte(tc.data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			res := compileDir(t, dir)
			if tc.remove {
				_ = os.Remove(filepath.Join(dir, "data", "d.csv"))
			}
			state := t.TempDir()
			out, err := Run(context.Background(), Options{Compiled: res, StateDir: state, FetchOptions: fopts})
			if err != nil {
				t.Fatal(err)
			}
			if out.Err() == nil {
				t.Fatalf("run succeeded; want %s to fail with %q", tc.step, tc.wantErr)
			}
			s := out.Run.Step(tc.step)
			if s == nil || s.Status != local.StatusFailed {
				t.Fatalf("step %s: %+v; run error %v", tc.step, s, out.Err())
			}
			if !strings.Contains(s.Error, tc.wantErr) {
				t.Errorf("error %q does not mention %q", s.Error, tc.wantErr)
			}
			if s.Attempts > 1 {
				t.Errorf("a permanent failure was tried %d times", s.Attempts)
			}
			if out.Report.Status != report.StatusFailed {
				t.Errorf("report status %s", out.Report.Status)
			}
			// Nothing half-written: no temporary files, and every cache
			// entry matches its manifest.
			for _, tmp := range []string{filepath.Join(state, "cache", "tmp"), filepath.Join(state, "data", "tmp")} {
				if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
					t.Errorf("%s holds %d entries", tmp, len(ents))
				}
			}
			c, _ := local.OpenCache(state)
			if problems, err := c.Verify(); err != nil || len(problems) > 0 {
				t.Errorf("cache: %v %v", problems, err)
			}
			if _, err := os.Stat(out.ReportHTML); err != nil {
				t.Errorf("a failed run still writes its report: %v", err)
			}
		})
	}
}

// TestGateFailure checks that a failing gate stops the run with the gate
// named and the margin stated, and that a champion's metrics from the lock
// are compared.
func TestGateFailure(t *testing.T) {
	dir := copyExample(t, "churn")
	spec := filepath.Join(dir, "churn.cue")
	b, _ := os.ReadFile(spec)
	if err := os.WriteFile(spec, bytes.Replace(b, []byte(`metric: "roc_auc", min: 0.85`), []byte(`metric: "roc_auc", min: 0.99`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	lock := `{"version": 1, "champions": {"churn": {"production": {"digest": "sha256:` + strings.Repeat("a", 64) + `", "metrics": {"roc_auc": 0.999}}}}}`
	if err := os.WriteFile(filepath.Join(dir, "slipway.lock"), []byte(lock), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := Run(context.Background(), Options{Compiled: compileDir(t, dir), StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if !out.GateFailed() || out.Run.Status != "gate_failed" || out.Report.Status != report.StatusGateFailed {
		t.Fatalf("status %s, gate failed %v: %v", out.Run.Status, out.GateFailed(), out.Err())
	}
	msg := out.Err().Error()
	for _, want := range []string{"gate auc", "< min 0.99 by", "worse than the champion's 0.999"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	var gates []steps.GateResult
	data, _ := os.ReadFile(filepath.Join(out.Run.RunDir, "gates.json"))
	if err := json.Unmarshal(data, &gates); err != nil || len(gates) != 2 {
		t.Fatalf("gates.json: %v %s", err, data)
	}
	for _, g := range out.Report.Gates {
		if g.Name == "auc" && (g.Passed || g.Champion == nil || *g.Champion != 0.999 || math.IsNaN(g.Value)) {
			t.Errorf("auc gate in the report: %+v", g)
		}
	}
}

// writePackage writes a pipeline package: the spec (from the template
// spec) and its data file.
func writePackage(t *testing.T, source, shaLine, expect string, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.cue"), fmt.Appendf(nil, spec, source, shaLine, expect), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		_ = os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestFormats runs the same rows as CSV, JSON Lines and Parquet: each
// trains the same model.
func TestFormats(t *testing.T) {
	csv := goodCSV()
	tbl, err := dataset.Read(strings.NewReader(csv), "csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	var jsonl strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(csv), "\n")[1:] {
		f := strings.Split(line, ",")
		fmt.Fprintf(&jsonl, `{"x": %s, "n": %s, "g": %q, "y": %q}`+"\n", f[0], f[1], f[2], f[3])
	}
	pq := filepath.Join(t.TempDir(), "d.parquet")
	if err := dataset.WriteParquetFile(pq, tbl); err != nil {
		t.Fatal(err)
	}
	pqb, _ := os.ReadFile(pq)
	var aucs []float64
	for _, f := range []struct {
		format string
		data   []byte
	}{{"csv", []byte(csv)}, {"jsonl", []byte(jsonl.String())}, {"parquet", pqb}} {
		dir := writePackage(t, "data/d."+f.format, fmt.Sprintf("format: %q", f.format), "", map[string][]byte{"data/d." + f.format: f.data})
		out, err := Run(context.Background(), Options{Compiled: compileDir(t, dir), StateDir: t.TempDir()})
		if err != nil || out.Err() != nil {
			t.Fatalf("%s: %v %v", f.format, err, out.Err())
		}
		if out.Report.DataChecks[0].Rows != 40 {
			t.Errorf("%s: %d rows", f.format, out.Report.DataChecks[0].Rows)
		}
		aucs = append(aucs, out.Report.Metrics["roc_auc"])
	}
	if aucs[0] != aucs[1] || aucs[0] != aucs[2] {
		t.Errorf("roc_auc by format (csv, jsonl, parquet): %v", aucs)
	}
}

// TestPII checks that a pseudonymized column reaches the features data
// only as keyed pseudonyms, and that a dropped one does not reach it, nor
// the logs or the report.
func TestPII(t *testing.T) {
	var b strings.Builder
	b.WriteString("email,x,n,g,y\n")
	for i, line := range strings.Split(strings.TrimSpace(goodCSV()), "\n")[1:] {
		fmt.Fprintf(&b, "person%d@example.com,%s\n", i, line)
	}
	for _, action := range []string{"drop", "pseudonymize"} {
		t.Run(action, func(t *testing.T) {
			dir := writePackage(t, "data/d.csv", "", "", map[string][]byte{"data/d.csv": []byte(b.String())})
			cue := filepath.Join(dir, "bad.cue")
			src, _ := os.ReadFile(cue)
			src = bytes.Replace(src, []byte("columns: {\n"), []byte("columns: {\n\t\t\temail: {type: \"string\", pii: true, unique: true}\n"), 1)
			pii := `features: {dataset: "d", label: "y", positive: "yes", pii: {action: "drop"}}`
			if action == "pseudonymize" {
				pii = `features: {dataset: "d", label: "y", positive: "yes", drop: ["email"], pii: {action: "pseudonymize", keySecret: "PII_KEY"}}`
			}
			src = bytes.Replace(src, []byte(`features: {dataset: "d", label: "y", positive: "yes"}`), []byte(pii+"\n\tartifact: repository: \"registry.example/bad\""), 1)
			if err := os.WriteFile(cue, src, 0o644); err != nil {
				t.Fatal(err)
			}
			env := func(k string) string {
				if k == "PII_KEY" {
					return "a-key-of-at-least-sixteen-bytes"
				}
				return ""
			}
			state := t.TempDir()
			out, err := Run(context.Background(), Options{Compiled: compileDir(t, dir), StateDir: state, Getenv: env})
			if err != nil || out.Err() != nil {
				t.Fatalf("%v %v", err, out.Err())
			}
			feats := out.Run.Step("features").Outputs["features"]
			tbl, err := dataset.ReadFile(filepath.Join(feats, "data.parquet"), "parquet", nil)
			if err != nil {
				t.Fatal(err)
			}
			col := tbl.Column("email")
			if action == "drop" && col != nil {
				t.Fatal("the dropped pii column reached the features data")
			}
			if action == "pseudonymize" {
				if col == nil {
					t.Fatal("the pseudonymized column is missing")
				}
				v, _ := col.Text(0)
				if strings.Contains(v, "@") || len(v) != 32 {
					t.Errorf("pseudonym %q", v)
				}
			}
			// The model's schema.json names the PII policy, and its reference
			// sample carries no raw value.
			st, err := store.Open(filepath.Join(state, "oci"))
			if err != nil {
				t.Fatal(err)
			}
			art, err := st.Get("bad")
			if err != nil {
				t.Fatal(err)
			}
			sj, err := art.File("schema.json")
			if err != nil {
				t.Fatal(err)
			}
			var schema artifact.Schema
			if err := json.Unmarshal(sj, &schema); err != nil {
				t.Fatal(err)
			}
			if schema.PII == nil || schema.PII.Action != action || !slices.Equal(schema.PII.Columns, []string{"email"}) {
				t.Errorf("schema.json pii = %+v, want %s of [email]", schema.PII, action)
			}
			ref, err := art.File(artifact.ReferenceFile)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(ref, []byte("@example.com")) || len(ref) == 0 {
				t.Errorf("reference sample holds a raw pii value or is empty: %.200s", ref)
			}
			// No raw value in the run's logs and reports.
			ents, _ := os.ReadDir(out.Run.RunDir)
			for _, e := range ents {
				data, _ := os.ReadFile(filepath.Join(out.Run.RunDir, e.Name()))
				if bytes.Contains(data, []byte("@example.com")) {
					t.Errorf("%s holds a raw pii value", e.Name())
				}
			}
		})
	}
	// Pseudonymizing without the key fails before anything sees the data.
	dir := writePackage(t, "data/d.csv", "", "", map[string][]byte{"data/d.csv": []byte(b.String())})
	cue := filepath.Join(dir, "bad.cue")
	src, _ := os.ReadFile(cue)
	src = bytes.Replace(src, []byte("columns: {\n"), []byte("columns: {\n\t\t\temail: {type: \"string\", pii: true}\n"), 1)
	src = bytes.Replace(src, []byte(`features: {dataset: "d", label: "y", positive: "yes"}`), []byte(`features: {dataset: "d", label: "y", positive: "yes", drop: ["email"], pii: {action: "pseudonymize", keySecret: "PII_KEY"}}`), 1)
	_ = os.WriteFile(cue, src, 0o644)
	out, err := Run(context.Background(), Options{Compiled: compileDir(t, dir), StateDir: t.TempDir(), Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	if out.Err() == nil || !strings.Contains(out.Err().Error(), "PII_KEY") {
		t.Errorf("missing key: %v", out.Err())
	}
}

// TestLockRemote pins an unpinned https source with Lock, then runs it.
func TestLockRemote(t *testing.T) {
	data := []byte(goodCSV())
	hits := 0
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		_, _ = w.Write(data)
	}))
	defer srv.Close()
	fopts := []fetch.Option{fetch.WithHTTPClient(srv.Client()), fetch.WithPrivateNetworks(true)}
	dir := writePackage(t, srv.URL+"/d.csv", "", "", nil)
	// Unpinned, the source is refused by the compiler (see the corpus)
	// and by the fetcher, before anything is fetched.
	state := t.TempDir()
	out, err := Run(context.Background(), Options{Compiled: compileWith(t, dir, true), StateDir: state, FetchOptions: fopts})
	if err != nil || out.Err() == nil || hits != 0 {
		t.Fatalf("an unpinned remote source ran: %v %v, %d requests", err, out.Err(), hits)
	}
	changes, err := Lock(context.Background(), LockOptions{Compiled: compileWith(t, dir, true), StateDir: state, FetchOptions: fopts})
	if err != nil || len(changes) != 1 || changes[0].New != sha(data) {
		t.Fatalf("lock: %+v %v", changes, err)
	}
	if again, err := Lock(context.Background(), LockOptions{Compiled: compileWith(t, dir, true), StateDir: state, FetchOptions: fopts}); err != nil || len(again) != 0 {
		t.Fatalf("second lock: %+v %v", again, err)
	}
	before := hits
	out, err = Run(context.Background(), Options{Compiled: compileDir(t, dir), StateDir: state, FetchOptions: fopts})
	if err != nil || out.Err() != nil {
		t.Fatalf("pinned run: %v %v", err, out.Err())
	}
	if hits != before {
		t.Errorf("the locked source was fetched again (%d requests); the data cache holds it", hits-before)
	}
	if got := out.Report.Lineage.Datasets[0].SHA256; got != sha(data) {
		t.Errorf("lineage sha256 %s", got)
	}
}

// TestLockImage records a pushed runtime image in the lock, keeping what
// was there, and the next compilation runs it by digest.
func TestLockImage(t *testing.T) {
	dir := copyExample(t, "minimal")
	ds := `{"version": 1, "datasets": {"minimal/customers": {"source": "data/customers.csv", "sha256": "` + strings.Repeat("c", 64) + `"}}}`
	if err := os.WriteFile(filepath.Join(dir, "slipway.lock"), []byte(ds), 0o644); err != nil {
		t.Fatal(err)
	}
	d := "sha256:" + strings.Repeat("d", 64)
	for i, want := range []bool{true, false} {
		changed, err := LockImage(dir, "ghcr.io/slipway-ml/slipway:v0.1.0", d)
		if err != nil || changed != want {
			t.Fatalf("call %d: changed %v, %v", i+1, changed, err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "slipway.lock"))
	if !strings.Contains(string(b), `"minimal/customers"`) || !strings.Contains(string(b), d) {
		t.Fatalf("lock:\n%s", b)
	}
	res := compileDir(t, dir)
	if img := res.Program.Pipelines[0].Steps[0].Image; img != "ghcr.io/slipway-ml/slipway:v0.1.0@"+d {
		t.Errorf("step image %s", img)
	}
	if _, err := LockImage(dir, "x:y", "latest"); err == nil || !strings.Contains(err.Error(), "must be sha256") {
		t.Errorf("a bad digest: %v", err)
	}
}
