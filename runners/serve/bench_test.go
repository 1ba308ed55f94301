package serve

import (
	"bytes"
	"io"
	"net/http"
	"testing"
)

// discardWriter is a ResponseWriter that keeps the status and drops the
// body, so a benchmark measures the handler rather than a recorder.
type discardWriter struct {
	header http.Header
	status int
}

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) WriteHeader(code int)        { d.status = code }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

// BenchmarkPredictHandler serves one record through the full handler
// (routing, body limit, parsing, scoring, metrics, request log) on
// /predict and on the inference endpoint, and on /predict with drift
// monitoring on (the record copied into the live window).
func BenchmarkPredictHandler(b *testing.B) {
	const predict = `{"age": 50, "plan": "pro"}`
	plain := NewHandler(loadModel(b, binaryDir), Options{Logger: discard()})
	withDrift := NewHandler(loadModel(b, modelDir(b, handReference, "")), Options{Logger: discard()})
	bodies := []struct {
		name, path, body string
		h                http.Handler
	}{
		{"predict", "/predict", predict, plain},
		{"infer", "/v2/models/churn/infer", `{"inputs":[{"name":"age","datatype":"FP64","shape":[1],"data":[50]},` +
			`{"name":"plan","datatype":"BYTES","shape":[1],"data":["pro"]}]}`, plain},
		{"predict_drift", "/predict", predict, withDrift},
	}
	for _, bc := range bodies {
		b.Run(bc.name, func(b *testing.B) {
			body := bytes.NewReader([]byte(bc.body))
			req, err := http.NewRequest(http.MethodPost, "http://localhost"+bc.path, nil)
			if err != nil {
				b.Fatal(err)
			}
			w := &discardWriter{header: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				body.Reset([]byte(bc.body))
				req.Body = io.NopCloser(body)
				clear(w.header)
				w.status = 0
				bc.h.ServeHTTP(w, req)
				if w.status != http.StatusOK {
					b.Fatalf("POST %s = %d", bc.path, w.status)
				}
			}
		})
	}
}
