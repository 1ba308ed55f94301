package serve

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

// newTestServer serves the binary model, logging into the returned buffer.
func newTestServer(t *testing.T, o Options) (*httptest.Server, *Model, *bytes.Buffer) {
	t.Helper()
	m := loadModel(t, binaryDir)
	var logs bytes.Buffer
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	}
	srv := httptest.NewServer(NewHandler(m, o))
	t.Cleanup(srv.Close)
	return srv, m, &logs
}

// do sends a request and returns the status and body.
func do(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func TestEndpoints(t *testing.T) {
	srv, m, _ := newTestServer(t, Options{})
	tests := []struct {
		method, path, body string
		status             int
		want               string // a substring of the body
	}{
		{"GET", "/v2/health/live", "", 200, ""},
		{"GET", "/v2/health/ready", "", 200, ""},
		{"GET", "/v2/models/churn/ready", "", 200, ""},
		{"GET", "/v2/models/other/ready", "", 404, `no model \"other\"`},
		{"GET", "/v2/models/churn", "", 200, `"platform":"slipway"`},
		{"GET", "/v2/models/other", "", 404, `no model \"other\"`},
		{"POST", "/v2/models/other/infer", `{"inputs":[]}`, 404, `no model \"other\"`},
		{"POST", "/predict", `{"age": 50, "plan": "pro"}`, 200, `"model":"` + m.Digest + `"`},
		{"GET", "/predict", "", 405, ""},
		{"DELETE", "/v2/models/churn/infer", "", 405, ""},
		{"POST", "/v2/health/live", "", 405, ""},
		{"GET", "/metrics", "", 200, "slipway_model_info"},
		{"GET", "/nowhere", "", 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			status, body := do(t, tc.method, srv.URL+tc.path, tc.body)
			if status != tc.status || !strings.Contains(string(body), tc.want) {
				t.Errorf("%s %s = %d %s, want %d containing %s", tc.method, tc.path, status, body, tc.status, tc.want)
			}
		})
	}
}

func TestMetadata(t *testing.T) {
	srv, m, _ := newTestServer(t, Options{})
	_, body := do(t, "GET", srv.URL+"/v2/models/churn", "")
	var got modelMetadata
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	want := `{"name":"churn","versions":["` + m.Digest + `"],"platform":"slipway",` +
		`"inputs":[{"name":"age","datatype":"FP64","shape":[-1]},{"name":"plan","datatype":"BYTES","shape":[-1]}],` +
		`"outputs":[{"name":"probability","datatype":"FP64","shape":[-1]}]}`
	if strings.TrimSpace(string(body)) != want {
		t.Errorf("metadata = %s\nwant %s", body, want)
	}
}

// records are the rows the round-trip tests score.
var records = []map[string]any{
	{"age": 70.0, "plan": "pro"},
	{"age": 20.0, "plan": "max"},
	{"age": 44.5, "plan": "basic"},
	{"age": 33.0, "plan": "unseen"},
}

func TestInferRoundTrip(t *testing.T) {
	srv, m, _ := newTestServer(t, Options{})
	want, err := m.Predict(records)
	if err != nil {
		t.Fatal(err)
	}
	bodies := map[string]string{
		"flat": `{"id":"r1","inputs":[{"name":"plan","datatype":"BYTES","shape":[4],"data":["pro","max","basic","unseen"]},` +
			`{"name":"age","datatype":"FP64","shape":[4],"data":[70,20,44.5,33]}]}`,
		"nested": `{"id":"r1","parameters":{"content_type":"pd"},"inputs":[{"name":"age","datatype":"INT64","shape":[4,1],"data":[[70],[20],[44.5],[33]]},` +
			`{"name":"plan","datatype":"BYTES","shape":[4,1],"data":[["pro"],["max"],["basic"],["unseen"]]}],"outputs":[{"name":"probability"}]}`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			status, b := do(t, "POST", srv.URL+"/v2/models/churn/infer", body)
			if status != 200 {
				t.Fatalf("infer = %d %s", status, b)
			}
			var got inferResponse
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if got.ModelName != "churn" || got.ModelVersion != m.Digest || got.ID != "r1" || len(got.Outputs) != 1 {
				t.Fatalf("infer = %s", b)
			}
			o := got.Outputs[0]
			if o.Name != "probability" || o.Datatype != "FP64" || len(o.Shape) != 1 || o.Shape[0] != 4 {
				t.Errorf("output = %+v, want probability FP64 [4]", o)
			}
			if !equalFloats(o.Data, want) {
				t.Errorf("infer data = %v, Predict = %v", o.Data, want)
			}
		})
	}
}

func TestPredictEndpoint(t *testing.T) {
	srv, m, _ := newTestServer(t, Options{})
	want, err := m.Predict(records)
	if err != nil {
		t.Fatal(err)
	}
	list, err := json.Marshal(records)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, body string
		want       []float64
	}{
		{"single", ` {"age": 70, "plan": "pro"} `, want[:1]},
		{"list", string(list), want},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, b := do(t, "POST", srv.URL+"/predict", tc.body)
			var got predictResponse
			if status != 200 || json.Unmarshal(b, &got) != nil {
				t.Fatalf("predict = %d %s", status, b)
			}
			if got.Model != m.Digest || !equalFloats(got.Predictions, tc.want) {
				t.Errorf("predict = %+v, want %v from %s", got, tc.want, m.Digest)
			}
		})
	}
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestBadRequests(t *testing.T) {
	srv, _, _ := newTestServer(t, Options{})
	infer := "/v2/models/churn/infer"
	tests := []struct {
		name, path, body string
		field, want      string
	}{
		{"wrong type", "/predict", `{"age": "old", "plan": "pro"}`, "age", "want a number"},
		{"missing field", "/predict", `[{"age": 1, "plan": "pro"}, {"age": 2}]`, "plan", "record 2"},
		{"unknown field", "/predict", `{"age": 1, "plan": "pro", "churned": "yes"}`, "churned", "unknown field"},
		{"not json", "/predict", `{"age":`, "", "not valid JSON"},
		{"two values", "/predict", `{} {}`, "", "more than one"},
		{"scalar", "/predict", `42`, "", "a number, want an object"},
		{"list of scalars", "/predict", `[{"age":1,"plan":"a"}, 3]`, "", "record 2"},
		{"empty", "/predict", ``, "", "empty"},
		{"empty list", "/predict", `[]`, "", "no records"},
		{"infer unknown input", infer, `{"inputs":[{"name":"zip","datatype":"BYTES","shape":[1],"data":["x"]}]}`, "zip", "unknown input"},
		{"infer missing input", infer, `{"inputs":[{"name":"age","datatype":"FP64","shape":[1],"data":[1]}]}`, "plan", "missing input"},
		{"infer datatype", infer, `{"inputs":[{"name":"age","datatype":"BYTES","shape":[1],"data":["1"]},{"name":"plan","datatype":"BYTES","shape":[1],"data":["a"]}]}`, "age", "want FP64"},
		{"infer wrong value", infer, `{"inputs":[{"name":"age","datatype":"FP64","shape":[1],"data":["x"]},{"name":"plan","datatype":"BYTES","shape":[1],"data":["a"]}]}`, "age", "want a number"},
		{"infer shape", infer, `{"inputs":[{"name":"age","datatype":"FP64","shape":[2],"data":[1]},{"name":"plan","datatype":"BYTES","shape":[1],"data":["a"]}]}`, "age", "shape [2]"},
		{"infer lengths", infer, `{"inputs":[{"name":"age","datatype":"FP64","shape":[2],"data":[1,2]},{"name":"plan","datatype":"BYTES","shape":[1],"data":["a"]}]}`, "plan", "other inputs have 2"},
		{"infer twice", infer, `{"inputs":[{"name":"age","datatype":"FP64","shape":[1],"data":[1]},{"name":"age","datatype":"FP64","shape":[1],"data":[1]}]}`, "age", "twice"},
		{"infer output", infer, `{"inputs":[{"name":"age","datatype":"FP64","shape":[1],"data":[1]},{"name":"plan","datatype":"BYTES","shape":[1],"data":["a"]}],"outputs":[{"name":"label"}]}`, "label", "unknown output"},
		{"infer unknown key", infer, `{"inputz":[]}`, "", "unknown field"},
		{"infer no inputs", infer, `{"inputs":[]}`, "", "no inputs"},
		// Malformed JSON.
		{"unterminated string", "/predict", `{"age": 1, "plan": "pro}`, "", "not valid JSON"},
		{"trailing comma", "/predict", `{"age": 1, "plan": "pro",}`, "", "not valid JSON"},
		{"bare word", "/predict", `age=1`, "", "not valid JSON"},
		{"data after value", "/predict", `{"age": 1, "plan": "pro"}]`, "", "after its JSON value"},
		{"infer malformed", infer, `{"inputs":[{"name":"age"`, "", "not an inference request"},
		{"infer two values", infer, `{"inputs":[]} {}`, "", "data after the inference request"},
		// Wrong types.
		{"bool for string", "/predict", `{"age": 1, "plan": true}`, "plan", "want a string, found a boolean"},
		{"array for number", "/predict", `{"age": [1], "plan": "pro"}`, "age", "found an array"},
		{"number for timestamp-free string", "/predict", `[{"age": 1, "plan": "a"}, {"age": 2, "plan": 3}]`, "plan", "record 2"},
		{"infer string data for FP64", infer, `{"inputs":[{"name":"age","datatype":"FP64","shape":[1],"data":[true, "x"]},{"name":"plan","datatype":"BYTES","shape":[1],"data":["a"]}]}`, "age", "shape [1] does not fit 2 values"},
		{"infer number for BYTES", infer, `{"inputs":[{"name":"age","datatype":"FP64","shape":[1],"data":[1]},{"name":"plan","datatype":"BYTES","shape":[1],"data":[7]}]}`, "plan", "want a string, found a number"},
		{"infer data not array", infer, `{"inputs":[{"name":"age","datatype":"FP64","shape":[1],"data":{"v":1}},{"name":"plan","datatype":"BYTES","shape":[1],"data":["a"]}]}`, "age", "data is an object"},
		{"infer shape not ints", infer, `{"inputs":[{"name":"age","datatype":"FP64","shape":["1"],"data":[1]}]}`, "", "not an inference request"},
		// Missing and extra fields.
		{"missing both", "/predict", `{}`, "age", "missing"},
		{"extra field in list", "/predict", `[{"age": 1, "plan": "a"}, {"age": 1, "plan": "a", "zip": "x"}]`, "zip", "record 2"},
		{"infer extra tensor field", infer, `{"inputs":[{"name":"age","datatype":"FP64","shape":[1],"data":[1],"extra":1}]}`, "", "unknown field"},
		{"infer no data", infer, `{"inputs":[{"name":"age","datatype":"FP64","shape":[1]},{"name":"plan","datatype":"BYTES","shape":[1],"data":["a"]}]}`, "age", "no data"},
		// Huge numbers.
		{"1e400", "/predict", `{"age": 1e400, "plan": "pro"}`, "age", "out of range"},
		{"-1e400", "/predict", `[{"age": 1, "plan": "pro"}, {"age": -1e400, "plan": "pro"}]`, "age", "record 2"},
		{"infer 1e308*10", infer, `{"inputs":[{"name":"age","datatype":"FP64","shape":[2],"data":[1, 1e309]},{"name":"plan","datatype":"BYTES","shape":[2],"data":["a","b"]}]}`, "age", "out of range"},
		{"infer -1e400", infer, `{"inputs":[{"name":"age","datatype":"FP64","shape":[1,1],"data":[[-1e400]]},{"name":"plan","datatype":"BYTES","shape":[1],"data":["a"]}]}`, "age", "out of range"},
		// NaN and infinities.
		{"NaN string", "/predict", `{"age": "NaN", "plan": "pro"}`, "age", "want a number, found a string"},
		{"Infinity string", "/predict", `{"age": "Infinity", "plan": "pro"}`, "age", "want a number, found a string"},
		{"-Infinity string", "/predict", `{"age": "-Infinity", "plan": "pro"}`, "age", "want a number, found a string"},
		{"bare NaN", "/predict", `{"age": NaN, "plan": "pro"}`, "", "not valid JSON"},
		{"infer NaN string", infer, `{"inputs":[{"name":"age","datatype":"FP64","shape":[1],"data":["NaN"]},{"name":"plan","datatype":"BYTES","shape":[1],"data":["a"]}]}`, "age", "want a number, found a string"},
		{"infer Infinity string", infer, `{"inputs":[{"name":"age","datatype":"FP64","shape":[1],"data":["Infinity"]},{"name":"plan","datatype":"BYTES","shape":[1],"data":["a"]}]}`, "age", "want a number, found a string"},
		{"infer bare Infinity", infer, `{"inputs":[{"name":"age","datatype":"FP64","shape":[1],"data":[Infinity]},{"name":"plan","datatype":"BYTES","shape":[1],"data":["a"]}]}`, "", "not an inference request"},
		// Empty batches.
		{"empty list with spaces", "/predict", " [ ] ", "", "no records"},
		{"infer shape [0]", infer, `{"inputs":[{"name":"age","datatype":"FP64","shape":[0],"data":[]},{"name":"plan","datatype":"BYTES","shape":[0],"data":[]}]}`, "", "no records"},
		{"infer shape [0, 1]", infer, `{"inputs":[{"name":"age","datatype":"FP64","shape":[0,1],"data":[[]]},{"name":"plan","datatype":"BYTES","shape":[0,1],"data":[]}]}`, "", "no records"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, b := do(t, "POST", srv.URL+tc.path, tc.body)
			var e errorBody
			if err := json.Unmarshal(b, &e); err != nil {
				t.Fatalf("body %s is not a JSON error: %v", b, err)
			}
			if status != 400 || e.Field != tc.field || !strings.Contains(e.Error, tc.want) {
				t.Errorf("= %d %s, want 400 field %q containing %q", status, b, tc.field, tc.want)
			}
			if tc.field != "" && !strings.Contains(e.Error, `"`+tc.field+`"`) {
				t.Errorf("error %q does not name field %q", e.Error, tc.field)
			}
		})
	}
}

func TestBodyTooLarge(t *testing.T) {
	srv, _, _ := newTestServer(t, Options{MaxBodyBytes: 64})
	big := `[` + strings.Repeat(`{"age": 1, "plan": "pro"},`, 10) + `{"age": 1, "plan": "pro"}]`
	for _, path := range []string{"/predict", "/v2/models/churn/infer"} {
		status, b := do(t, "POST", srv.URL+path, big)
		if status != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), "over 64 bytes") {
			t.Errorf("POST %s with %d bytes = %d %s, want 413", path, len(big), status, b)
		}
	}
	status, _ := do(t, "POST", srv.URL+"/predict", `{"age": 1, "plan": "pro"}`)
	if status != 200 {
		t.Errorf("a small body = %d, want 200", status)
	}
}

func TestPanicRecovered(t *testing.T) {
	var logs bytes.Buffer
	h := &handler{m: loadModel(t, binaryDir), log: slog.New(slog.NewJSONHandler(&logs, nil))}
	h.metrics = newMetrics(h.m)
	rec := httptest.NewRecorder()
	h.wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom jane@example.com") })).
		ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"error":"internal error"`) {
		t.Errorf("panic = %d %s, want 500 with a JSON error", rec.Code, rec.Body)
	}
	// The panic is logged with its type and where it happened, never its
	// value, which may quote the input.
	if !strings.Contains(logs.String(), `"panic":"string"`) || !strings.Contains(logs.String(), "TestPanicRecovered") {
		t.Errorf("log %q does not record the panic", logs.String())
	}
	if strings.Contains(logs.String(), "jane@example.com") || strings.Contains(rec.Body.String(), "jane@example.com") {
		t.Errorf("the panic's value leaked: %s %s", logs.String(), rec.Body)
	}
}

func TestRequestLog(t *testing.T) {
	srv, _, logs := newTestServer(t, Options{})
	do(t, "GET", srv.URL+"/v2/health/live", "")
	do(t, "POST", srv.URL+"/predict", `{"age": "x"}`)
	lines := logLines(t, logs)
	if len(lines) != 3 || !strings.Contains(lines[0]["msg"].(string), "drift monitoring is off") {
		t.Fatalf("got log lines %v, want the drift-off line and 2 requests", lines)
	}
	want := []struct {
		method, path string
		status       float64
		field        string
	}{{"GET", "/v2/health/live", 200, ""}, {"POST", "/predict", 400, "age"}}
	for i, w := range want {
		l := lines[i+1]
		if l["msg"] != "request" || l["method"] != w.method || l["path"] != w.path || l["status"] != w.status {
			t.Errorf("log line %d = %v, want %s %s %v", i, l, w.method, w.path, w.status)
		}
		if ms, ok := l["latency_ms"].(float64); !ok || ms < 0 {
			t.Errorf("log line %d latency_ms = %v, want a duration", i, l["latency_ms"])
		}
		if f, _ := l["field"].(string); f != w.field {
			t.Errorf("log line %d field = %q, want %q", i, f, w.field)
		}
		if e, _ := l["error"].(string); (e != "") != (w.field != "") {
			t.Errorf("log line %d error = %q, want one only for the refused request", i, e)
		}
	}
}

// logLines parses JSON log lines.
func logLines(t *testing.T, logs *bytes.Buffer) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(logs.Bytes()))
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	return lines
}

func TestMetrics(t *testing.T) {
	srv, m, _ := newTestServer(t, Options{})
	do(t, "POST", srv.URL+"/predict", `[{"age": 70, "plan": "pro"}, {"age": 20, "plan": "max"}, {"age": 30, "plan": "max"}]`)
	do(t, "POST", srv.URL+"/predict", `{"age": "x", "plan": "pro"}`)
	do(t, "GET", srv.URL+"/v2/health/live", "")
	req, err := http.NewRequest("GET", srv.URL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, metricsContentType) {
		t.Errorf("Content-Type = %q, want %q", ct, metricsContentType)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
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
	p, err := m.Predict([]map[string]any{{"age": 70.0, "plan": "pro"}, {"age": 20.0, "plan": "max"}, {"age": 30.0, "plan": "max"}})
	if err != nil {
		t.Fatal(err)
	}
	pos := 0
	for _, v := range p {
		if v >= 0.5 {
			pos++
		}
	}
	want := []string{
		`slipway_requests_total{code="200",endpoint="predict"} 1`,
		`slipway_requests_total{code="400",endpoint="predict"} 1`,
		`slipway_requests_total{code="200",endpoint="live"} 1`,
		`slipway_request_seconds_count{code="200",endpoint="predict"} 1`,
		`slipway_request_seconds_count{code="400",endpoint="predict"} 1`,
		`slipway_request_seconds_bucket{code="200",endpoint="live",le="+Inf"} 1`,
		`slipway_predictions_total{class="positive"} ` + strconv.Itoa(pos),
		`slipway_predictions_total{class="negative"} ` + strconv.Itoa(3-pos),
		`slipway_score_count 3`,
		`slipway_score_bucket{le="1"} 3`,
		`slipway_inflight_requests 1`,
		`slipway_model_info{digest="` + m.Digest + `",kind="logistic"} 1`,
	}
	for _, w := range want {
		if !strings.Contains(text, w+"\n") {
			t.Errorf("metrics lack %q:\n%s", w, text)
		}
	}
}

// lintExposition checks the Prometheus naming rules promlint applies:
// help and type on every metric, snake_case names, _total on counters
// only, base units, and a histogram's buckets cumulative up to +Inf.
func lintExposition(text string) []string {
	var problems []string
	help, typ := map[string]bool{}, map[string]string{}
	name := regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	sample := regexp.MustCompile(`^([a-z_][a-z0-9_]*)(\{[^}]*\})? (\S+)$`)
	buckets := map[string][]float64{}
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		f := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "# HELP "):
			help[f[2]] = len(f) > 3
		case strings.HasPrefix(line, "# TYPE "):
			n, t := f[2], f[3]
			typ[n] = t
			if !name.MatchString(n) {
				problems = append(problems, n+": not snake_case")
			}
			if (t == "counter") != strings.HasSuffix(n, "_total") {
				problems = append(problems, n+": _total suffix on a non-counter or none on a counter")
			}
			for _, bad := range []string{"_milliseconds", "_ms", "_counter", "_gauge", "_histogram", ":"} {
				if strings.Contains(n, bad) {
					problems = append(problems, n+": name holds "+bad)
				}
			}
		default:
			m := sample.FindStringSubmatch(line)
			if m == nil {
				problems = append(problems, "malformed sample: "+line)
				continue
			}
			base := m[1]
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				if t, ok := typ[strings.TrimSuffix(base, s)]; ok && t == "histogram" {
					base = strings.TrimSuffix(base, s)
				}
			}
			if _, ok := typ[base]; !ok || !help[base] {
				problems = append(problems, base+": no HELP or TYPE")
			}
			if strings.HasSuffix(m[1], "_bucket") {
				key := base + regexp.MustCompile(`,?le="[^"]*"`).ReplaceAllString(m[2], "")
				v, _ := strconv.ParseFloat(m[3], 64)
				if prev := buckets[key]; len(prev) > 0 && v < prev[len(prev)-1] {
					problems = append(problems, key+": buckets not cumulative")
				}
				buckets[key] = append(buckets[key], v)
			}
		}
	}
	return problems
}
