package serve

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/slipway-ml/slipway/runners/pii"
)

// piiKey is the HMAC key of the tests' pseudonyms.
var piiKey = []byte("0123456789abcdef-test-key")

func TestRequestLogInputs(t *testing.T) {
	const body = `[{"age": 51, "plan": "pro"}, {"age": 18.5, "plan": null}]`
	tests := []struct {
		name, pii string
		o         Options
		want      string // the records logged, "" for none
	}{
		{"off", "", Options{}, ""},
		{"off with pii", `{"action":"pseudonymize","columns":["plan"]}`, Options{PIIKey: piiKey}, ""},
		{"no pii", "", Options{LogInputs: true}, `[{"age":51,"plan":"pro"},{"age":18.5,"plan":null}]`},
		{"drop", `{"action":"drop","columns":["plan"]}`, Options{LogInputs: true, PIIKey: piiKey}, `[{"age":51},{"age":18.5}]`},
		{"pseudonymize without a key", `{"action":"pseudonymize","columns":["plan"]}`, Options{LogInputs: true}, `[{"age":51},{"age":18.5}]`},
		{"pseudonymize", `{"action":"pseudonymize","columns":["plan","age"]}`, Options{LogInputs: true, PIIKey: piiKey},
			`[{"age":"` + pii.Pseudonym(piiKey, "51") + `","plan":"` + pii.Pseudonym(piiKey, "pro") + `"},{"age":"` + pii.Pseudonym(piiKey, "18.5") + `","plan":null}]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, srv, logs := newDriftServer(t, "", tc.pii, tc.o)
			if status, b := do(t, "POST", srv.URL+"/predict", body); status != 200 {
				t.Fatalf("predict = %d %s", status, b)
			}
			var line map[string]json.RawMessage
			for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				if strings.Contains(l, `"path":"/predict"`) {
					if err := json.Unmarshal([]byte(l), &line); err != nil {
						t.Fatal(err)
					}
				}
			}
			if line == nil {
				t.Fatalf("no request line in %s", logs)
			}
			if got := string(line["records"]); got != tc.want {
				t.Errorf("records = %s\nwant %s", got, tc.want)
			}
			if tc.want == "" || strings.Contains(tc.pii, "plan") {
				if strings.Contains(logs.String(), "pro") {
					t.Errorf("the log holds a value it must not:\n%s", logs)
				}
			}
		})
	}
}

// TestErrorLogRedacted checks that an error quoting a value reaches the
// client whole and the log with the value redacted: the PII fields'
// values when inputs are logged, every value otherwise.
func TestErrorLogRedacted(t *testing.T) {
	rows := []map[string]any{{"age": 61.25, "plan": "secret-plan"}, {"age": 7.0, "plan": `with "quotes"`}}
	err := &InputError{Row: 2, Field: "plan", Msg: `category "secret-plan" and with "quotes" and ` + "\"with \\\"quotes\\\"\"" + ` unseen at age 61.25 (or 7)`}
	tests := []struct {
		name      string
		pii       string
		logInputs bool
		want      string
	}{
		{"no pii, inputs not logged", "", false, `record 2: field "plan": category [redacted] and [redacted] and [redacted] unseen at age [redacted] (or [redacted])`},
		{"no pii, inputs logged", "", true, err.Error()},
		{"pii plan, inputs logged", `{"action":"drop","columns":["plan"]}`, true, `record 2: field "plan": category [redacted] and [redacted] and [redacted] unseen at age 61.25 (or 7)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _, _ := newDriftServer(t, "", tc.pii, Options{LogInputs: tc.logInputs, Logger: discard()})
			field, msg := s.h.logError(err, rows)
			if field != "plan" || msg != tc.want {
				t.Errorf("logError = %q, %q\nwant %q, %q", field, msg, "plan", tc.want)
			}
		})
	}
}

// TestErrorLogDetail checks that what a decoder quotes from the body goes
// to the client only.
func TestErrorLogDetail(t *testing.T) {
	tests := []struct{ path, body, secret string }{
		{"/predict", `{"age": 1, "plan": "pro"} trailing-secret`, "trailing-secret"},
		{"/predict", `{"age": 1, "plan": tsecret}`, "'s'"},
		{"/v2/models/churn/infer", `{"inputs": [{"name": "age", "secretkey": 1}]}`, "secretkey"},
	}
	for _, tc := range tests {
		var logs bytes.Buffer
		h := NewHandler(loadModel(t, binaryDir), Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", tc.path, strings.NewReader(tc.body)))
		if rec.Code != 400 {
			t.Errorf("POST %s %s = %d, want 400", tc.path, tc.body, rec.Code)
		}
		if strings.Contains(logs.String(), tc.secret) || !strings.Contains(logs.String(), `"error":"the body`) {
			t.Errorf("POST %s %s logged %s, want the error without %s", tc.path, tc.body, logs.String(), tc.secret)
		}
	}
}
