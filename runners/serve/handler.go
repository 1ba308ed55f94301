package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"
)

// DefaultMaxBodyBytes is the default limit on a request body: 1 MiB.
const DefaultMaxBodyBytes = 1 << 20

// Options configure NewHandler.
type Options struct {
	// MaxBodyBytes bounds a request body; a larger one is refused with
	// 413. Default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Logger receives one line per request (method, path, status,
	// latency_ms). Default: JSON lines on standard error.
	Logger *slog.Logger
}

// errorBody is the body of every error response.
type errorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// tensorMeta describes one input or output in the model metadata.
type tensorMeta struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

// modelMetadata is the Open Inference Protocol model metadata.
type modelMetadata struct {
	Name     string       `json:"name"`
	Versions []string     `json:"versions"`
	Platform string       `json:"platform"`
	Inputs   []tensorMeta `json:"inputs"`
	Outputs  []tensorMeta `json:"outputs"`
}

// handler serves one model.
type handler struct {
	m       *Model
	max     int64
	log     *slog.Logger
	metrics *metrics
}

// NewHandler returns the HTTP handler that serves m:
//
//	GET  /v2/health/live, /v2/health/ready
//	GET  /v2/models/{name}, /v2/models/{name}/ready
//	POST /v2/models/{name}/infer   (Open Inference Protocol v2)
//	POST /predict                  (one JSON record or a list)
//	GET  /metrics                  (Prometheus text format)
//
// Errors are JSON ({"error": ..., "field": ...}); a panic becomes a 500.
func NewHandler(m *Model, o Options) http.Handler {
	h := &handler{m: m, max: o.MaxBodyBytes, log: o.Logger, metrics: newMetrics(m)}
	if h.max <= 0 {
		h.max = DefaultMaxBodyBytes
	}
	if h.log == nil {
		h.log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	mux := http.NewServeMux()
	route := func(pattern, endpoint string, f http.HandlerFunc) {
		mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if rec, ok := w.(*recorder); ok {
				rec.endpoint = endpoint
			}
			f(w, r)
		}))
	}
	route("GET /v2/health/live", "live", h.ok)
	route("GET /v2/health/ready", "ready", h.ok)
	route("GET /v2/models/{name}", "metadata", h.metadata)
	route("GET /v2/models/{name}/ready", "model_ready", h.modelReady)
	route("POST /v2/models/{name}/infer", "infer", h.infer)
	route("POST /predict", "predict", h.predict)
	route("GET /metrics", "metrics", h.serveMetrics)
	return h.wrap(mux)
}

// recorder records a response's status and the endpoint that served it.
type recorder struct {
	http.ResponseWriter
	status   int
	endpoint string
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// wrap adds recovery, metrics and the request log around next.
func (h *handler) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h.metrics.inflight.Inc()
		rec := &recorder{ResponseWriter: w, endpoint: "other"}
		defer func() {
			if v := recover(); v != nil {
				h.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
				if rec.status == 0 {
					writeError(rec, http.StatusInternalServerError, errors.New("internal error"))
				}
			}
			h.metrics.inflight.Dec()
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			elapsed := time.Since(start)
			h.metrics.request(rec.endpoint, status, elapsed.Seconds())
			h.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", status,
				"latency_ms", float64(elapsed.Microseconds())/1000)
		}()
		next.ServeHTTP(rec, r)
	})
}

// ok answers a health check: 200, empty body.
func (h *handler) ok(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }

// known writes a 404 and reports false unless the path names the model.
func (h *handler) known(w http.ResponseWriter, r *http.Request) bool {
	if name := r.PathValue("name"); name != h.m.Name {
		writeError(w, http.StatusNotFound, &InputError{Msg: fmt.Sprintf("no model %q; this server serves %q", name, h.m.Name)})
		return false
	}
	return true
}

func (h *handler) modelReady(w http.ResponseWriter, r *http.Request) {
	if h.known(w, r) {
		w.WriteHeader(http.StatusOK)
	}
}

func (h *handler) metadata(w http.ResponseWriter, r *http.Request) {
	if !h.known(w, r) {
		return
	}
	md := modelMetadata{
		Name:     h.m.Name,
		Versions: []string{h.m.Digest},
		Platform: "slipway",
		Inputs:   make([]tensorMeta, len(h.m.Inputs)),
		Outputs:  []tensorMeta{{Name: h.m.Output, Datatype: "FP64", Shape: []int64{-1}}},
	}
	for i, in := range h.m.Inputs {
		md.Inputs[i] = tensorMeta{Name: in.Name, Datatype: datatype(in.Type), Shape: []int64{-1}}
	}
	writeJSON(w, http.StatusOK, md)
}

// datatype is the Open Inference Protocol datatype of an input type.
func datatype(typ string) string {
	if typ == TypeNumber {
		return "FP64"
	}
	return "BYTES"
}

// body reads the request body within the limit; on failure it has
// written the error response.
func (h *handler) body(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.max))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, &InputError{Msg: fmt.Sprintf("the body is over %d bytes", h.max)})
		} else {
			writeError(w, http.StatusBadRequest, &InputError{Msg: fmt.Sprintf("read the body: %v", err)})
		}
		return nil, false
	}
	return b, true
}

// score predicts and records the scores; on failure it has written the
// error response.
func (h *handler) score(w http.ResponseWriter, rows []map[string]any) ([]float64, bool) {
	p, err := h.m.Predict(rows)
	if err != nil {
		var ie *InputError
		if errors.As(err, &ie) {
			writeError(w, http.StatusBadRequest, err)
		} else {
			h.log.Error("predict", "error", err.Error())
			writeError(w, http.StatusInternalServerError, err)
		}
		return nil, false
	}
	h.metrics.scores(p)
	return p, true
}

// predictResponse is /predict's answer.
type predictResponse struct {
	Predictions []float64 `json:"predictions"`
	Model       string    `json:"model"`
}

func (h *handler) predict(w http.ResponseWriter, r *http.Request) {
	b, ok := h.body(w, r)
	if !ok {
		return
	}
	rows, err := parseRecords(b)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	p, ok := h.score(w, rows)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, predictResponse{Predictions: p, Model: h.m.Digest})
}

// parseRecords reads /predict's body: one JSON object or an array of
// objects.
func parseRecords(b []byte) ([]map[string]any, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, &InputError{Msg: "the body is empty, want a JSON object or an array of objects"}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &InputError{Msg: fmt.Sprintf("the body is not valid JSON: %v", err)}
	}
	if dec.More() {
		return nil, &InputError{Msg: "the body holds more than one JSON value, want one object or one array"}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &InputError{Msg: "the body has data after its JSON value"}
	}
	switch v := v.(type) {
	case map[string]any:
		return []map[string]any{v}, nil
	case []any:
		rows := make([]map[string]any, len(v))
		for i, e := range v {
			o, ok := e.(map[string]any)
			if !ok {
				return nil, &InputError{Row: i + 1, Msg: fmt.Sprintf("want an object, found %s", describe(e))}
			}
			rows[i] = o
		}
		return rows, nil
	}
	return nil, &InputError{Msg: fmt.Sprintf("the body is %s, want an object or an array of objects", describe(v))}
}

func (h *handler) serveMetrics(w http.ResponseWriter, r *http.Request) {
	h.metrics.handler().ServeHTTP(w, r)
}

// writeJSON writes v as a JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{Error: fmt.Sprintf("encode the response: %v", err)})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// writeError writes err as {"error": ..., "field": ...}.
func writeError(w http.ResponseWriter, status int, err error) {
	body := errorBody{Error: err.Error()}
	var ie *InputError
	if errors.As(err, &ie) {
		body.Field = ie.Field
	}
	writeJSON(w, status, body)
}
