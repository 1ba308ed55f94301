package serve

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func discard() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

// FuzzPredictBody feeds arbitrary bodies to /predict and the inference
// endpoint: every answer is 200 or a 4xx with a JSON error, never a 500.
func FuzzPredictBody(f *testing.F) {
	for _, s := range []string{
		`{"age": 50, "plan": "pro"}`,
		`[{"age": 50, "plan": "pro"}, {"age": null, "plan": null}]`,
		`{"age": 1e308, "plan": "x"}`,
		`{"age": -1e308, "plan": ""}`,
		`{"age": 1e400, "plan": "x"}`, `[{"age": -1e400, "plan": "x"}]`, `{"age": "NaN", "plan": "Infinity"}`,
		`{"age": true, "plan": "pro", "extra": 1}`,
		`[]`, `null`, `"x"`, `[[]]`, `{`, ``,
		`{"inputs":[{"name":"age","datatype":"FP64","shape":[1],"data":[1]},{"name":"plan","datatype":"BYTES","shape":[1],"data":["a"]}]}`,
		`{"inputs":[{"name":"age","datatype":"FP64","shape":[1,1],"data":[[1e308]]},{"name":"plan","datatype":"BYTES","shape":[-1],"data":[null]}]}`,
		`{"inputs":[{"name":"age","datatype":"FP64","shape":[9223372036854775807],"data":[]}]}`,
		`{"inputs":[{"name":"age","datatype":"FP64","shape":[1],"data":[1e309]},{"name":"plan","datatype":"BYTES","shape":[1],"data":["a"]}]}`,
		`{"inputs":[{"name":"age","datatype":"FP64","shape":[0],"data":[]},{"name":"plan","datatype":"BYTES","shape":[0],"data":[]}]}`,
	} {
		f.Add([]byte(s))
	}
	h := NewHandler(loadModel(f, binaryDir), Options{MaxBodyBytes: 4096, Logger: discard()})
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, path := range []string{"/predict", "/v2/models/churn/infer"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body)))
			switch {
			case rec.Code == http.StatusOK:
			case rec.Code >= 400 && rec.Code < 500:
				var e errorBody
				if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
					t.Fatalf("POST %s %q = %d %q, want a JSON error", path, body, rec.Code, rec.Body)
				}
			default:
				t.Fatalf("POST %s %q = %d %s", path, body, rec.Code, rec.Body)
			}
		}
	})
}

// FuzzParseReference feeds arbitrary reference files to the reader: it
// returns a table of the model's inputs or an error naming the file, and
// never panics.
func FuzzParseReference(f *testing.F) {
	for _, s := range []string{
		handReference,
		`{"age": 1, "plan": null}`,
		`{"age": null, "plan": "a"}` + "\n\n" + `{"age": 1e400, "plan": "b"}`,
		`{"age": "1", "plan": "a"}`, `[]`, `{}`, ``, "\n", `{"age": 1, "plan": "a", "x": 2}`, `{"age": 1`,
	} {
		f.Add([]byte(s))
	}
	m := loadModel(f, binaryDir)
	f.Fuzz(func(t *testing.T, b []byte) {
		tb, err := parseReference(bytes.NewReader(b), m)
		if err != nil {
			if !strings.HasPrefix(err.Error(), ReferenceFile) {
				t.Fatalf("error %q does not name %s", err, ReferenceFile)
			}
			return
		}
		if tb.Rows() == 0 || tb.Rows() > MaxReferenceRows || len(tb.Columns()) != len(m.Inputs) {
			t.Fatalf("table of %d rows and %d columns", tb.Rows(), len(tb.Columns()))
		}
		for j, in := range m.Inputs {
			if tb.Columns()[j].Name != in.Name {
				t.Fatalf("column %d is %q, want %q", j, tb.Columns()[j].Name, in.Name)
			}
		}
	})
}
