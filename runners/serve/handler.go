package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slipway-ml/slipway/runners/monitor"
	"github.com/slipway-ml/slipway/runners/pii"
	"github.com/slipway-ml/slipway/runners/train/table"
)

// DefaultMaxBodyBytes is the default limit on a request body: 1 MiB.
const DefaultMaxBodyBytes = 1 << 20

// Options configure NewServer.
type Options struct {
	// MaxBodyBytes bounds a request body; a larger one is refused with
	// 413. Default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Logger receives one line per request (method, path, status,
	// latency_ms, and error and field for a refused one). Default: JSON
	// lines on standard error.
	Logger *slog.Logger
	// LogInputs adds the scored records to a successful scoring
	// request's log line ("records": one object per record), with the
	// model's PII fields left out (action drop, or pseudonymize without
	// PIIKey) or replaced by their pseudonyms (pseudonymize with
	// PIIKey). Without it no input value is logged, not even inside an
	// error message.
	LogInputs bool
	// PIIKey is the HMAC key of the pseudonyms (see package pii; the
	// same key as training's, so logs join with training data); at least
	// pii.MinKeyBytes long when set.
	PIIKey []byte
	// Drift configures live drift monitoring, which is on when the model
	// has a reference sample.
	Drift DriftOptions
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

// Server serves one model over HTTP (see NewServer) and runs its live
// drift monitoring (see Run).
type Server struct {
	h       *handler
	next    http.Handler
	running atomic.Bool
}

// handler serves one model.
type handler struct {
	m         *Model
	max       int64
	log       *slog.Logger
	metrics   *metrics
	drift     *liveDrift // nil when drift monitoring is off
	logInputs bool
	logCols   []logColumn // the logged fields when logInputs
	piiKey    []byte
	out       responsePrefixes
}

// NewServer returns the server of m:
//
//	GET  /v2/health/live, /v2/health/ready
//	GET  /v2/models/{name}, /v2/models/{name}/ready
//	POST /v2/models/{name}/infer   (Open Inference Protocol v2)
//	GET  /v2/models/{name}/drift   (the last drift report, JSON)
//	POST /predict                  (one JSON record or a list)
//	GET  /metrics                  (Prometheus text format)
//
// Errors are JSON ({"error": ..., "field": ...}); a panic becomes a 500.
// Drift monitoring is on when m.Reference is set; otherwise the server
// logs one line saying it is off. Invalid options (negative drift
// sizes, a drift configuration that does not fit the reference, a
// PIIKey shorter than pii.MinKeyBytes) are an error.
func NewServer(m *Model, o Options) (*Server, error) {
	if len(o.PIIKey) > 0 && len(o.PIIKey) < pii.MinKeyBytes {
		return nil, fmt.Errorf("serve: the PII key is %d bytes; at least %d are needed", len(o.PIIKey), pii.MinKeyBytes)
	}
	h := &handler{m: m, max: o.MaxBodyBytes, log: o.Logger, metrics: newMetrics(m), logInputs: o.LogInputs, piiKey: o.PIIKey}
	if h.max <= 0 {
		h.max = DefaultMaxBodyBytes
	}
	if h.log == nil {
		h.log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	h.out = newResponsePrefixes(m)
	if o.LogInputs {
		h.logCols = logColumns(m, o.PIIKey)
		if m.PII != nil && m.PII.Action == pii.Pseudonymize && len(o.PIIKey) == 0 {
			h.log.Warn("PII fields are left out of the request log: they are to be pseudonymized and no PII key is set", "fields", m.PII.Columns)
		}
	}
	if m.Reference == nil {
		h.log.Info("drift monitoring is off: the model has no reference sample (" + ReferenceFile + ")")
	} else {
		d, err := newLiveDrift(m, o.Drift, h.metrics, h.log)
		if err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
		h.drift = d
		h.log.Info("drift monitoring is on", "reference_records", m.Reference.Rows(), "window", d.win.size,
			"min_rows", d.minRows, "interval", d.interval.String())
	}
	mux := http.NewServeMux()
	route := func(pattern string, endpoint int, f http.HandlerFunc) {
		mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if rec, ok := w.(*recorder); ok {
				rec.endpoint = endpoint
			}
			f(w, r)
		}))
	}
	route("GET /v2/health/live", epLive, h.ok)
	route("GET /v2/health/ready", epReady, h.ok)
	route("GET /v2/models/{name}", epMetadata, h.metadata)
	route("GET /v2/models/{name}/ready", epModelReady, h.modelReady)
	route("GET /v2/models/{name}/drift", epDrift, h.driftReport)
	route("POST /v2/models/{name}/infer", epInfer, h.infer)
	route("POST /predict", epPredict, h.predict)
	route("GET /metrics", epMetrics, h.serveMetrics)
	return &Server{h: h, next: h.wrap(mux)}, nil
}

// NewHandler returns NewServer(m, o) as an http.Handler; Serve runs its
// drift monitoring. It panics if o is invalid.
func NewHandler(m *Model, o Options) http.Handler {
	s, err := NewServer(m, o)
	if err != nil {
		panic(err)
	}
	return s
}

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.next.ServeHTTP(w, r) }

// Run runs drift monitoring until ctx is done: every DriftOptions.Interval
// it compares the live window with the reference, once the window holds
// MinRows records and unless no record came since the last comparison.
// It returns nil when ctx is done, at once when drift monitoring is off,
// and an error when Run is already running.
func (s *Server) Run(ctx context.Context) error {
	if s.h.drift == nil {
		return nil
	}
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("serve: drift monitoring is already running")
	}
	defer s.running.Store(false)
	s.h.drift.run(ctx)
	return nil
}

// DriftNow compares the live window with the reference at once, whatever
// its size, as Run does on each tick: it sets the gauges, keeps the
// report for GET /v2/models/{name}/drift and calls OnReport. It returns
// ErrDriftOff when drift monitoring is off, and an error when no record
// has been scored yet or the comparison fails.
func (s *Server) DriftNow() (*monitor.Report, error) {
	if s.h.drift == nil {
		return nil, ErrDriftOff
	}
	return s.h.drift.compare()
}

// DriftReport returns the last drift report, or nil when there is none.
func (s *Server) DriftReport() *monitor.Report {
	if s.h.drift == nil {
		return nil
	}
	return s.h.drift.last.Load()
}

// recorder records a response's status, the endpoint that served it and
// what the request log says of it.
type recorder struct {
	http.ResponseWriter
	status   int
	endpoint int
	// err is the error a request was refused with; rows are its records
	// when they were parsed, whose values the log redacts.
	err  error
	rows []map[string]any
	// inputs are the records scored, logged with LogInputs.
	inputs *table.Table
}

// recorders recycles recorders between requests.
var recorders = sync.Pool{New: func() any { return new(recorder) }}

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
		rec := recorders.Get().(*recorder)
		*rec = recorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				// The panic's value may quote the input: log its type and
				// the stack (addresses, no values) instead.
				h.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprintf("%T", v), "stack", string(debug.Stack()))
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
			h.logRequest(r, rec, status, elapsed)
			*rec = recorder{}
			recorders.Put(rec)
		}()
		next.ServeHTTP(rec, r)
	})
}

// logRequest writes the request's log line.
func (h *handler) logRequest(r *http.Request, rec *recorder, status int, elapsed time.Duration) {
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	attrs := make([]slog.Attr, 0, 7)
	attrs = append(attrs,
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Float64("latency_ms", float64(elapsed.Microseconds())/1000))
	if rec.err != nil {
		field, msg := h.logError(rec.err, rec.rows)
		attrs = append(attrs, slog.String("error", msg))
		if field != "" {
			attrs = append(attrs, slog.String("field", field))
		}
	}
	if h.logInputs && rec.inputs != nil {
		attrs = append(attrs, slog.Any("records", loggedRecords{t: rec.inputs, cols: h.logCols, key: h.piiKey}))
	}
	h.log.LogAttrs(r.Context(), level, "request", attrs...)
}

// refuse writes err as the response and keeps it, with the records it
// concerns (nil when none was parsed), for the request log.
func refuse(w http.ResponseWriter, status int, err error, rows []map[string]any) {
	if rec, ok := w.(*recorder); ok {
		rec.err, rec.rows = err, rows
	}
	writeError(w, status, err)
}

// ok answers a health check: 200, empty body.
func (h *handler) ok(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }

// known writes a 404 and reports false unless the path names the model.
func (h *handler) known(w http.ResponseWriter, r *http.Request) bool {
	if name := r.PathValue("name"); name != h.m.Name {
		refuse(w, http.StatusNotFound, &InputError{Msg: fmt.Sprintf("no model %q; this server serves %q", name, h.m.Name)}, nil)
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

// driftReport serves the last drift report.
func (h *handler) driftReport(w http.ResponseWriter, r *http.Request) {
	if !h.known(w, r) {
		return
	}
	if h.drift == nil {
		refuse(w, http.StatusNotFound, ErrDriftOff, nil)
		return
	}
	rep := h.drift.last.Load()
	if rep == nil {
		n, _ := h.drift.win.state()
		refuse(w, http.StatusNotFound, fmt.Errorf("no drift report yet: the live window holds %d records; comparisons start once it holds %d, every %v",
			n, h.drift.minRows, h.drift.interval), nil)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// datatype is the Open Inference Protocol datatype of an input type.
func datatype(typ string) string {
	if typ == TypeNumber {
		return "FP64"
	}
	return "BYTES"
}

// body reads the request body within the limit into a pooled buffer,
// which the caller returns with putBuffer once done with the bytes. A
// body declared larger than the limit is refused unread; one that turns
// out larger is read no further than one byte past the limit. On failure
// body has written the error response.
func (h *handler) body(w http.ResponseWriter, r *http.Request) (*[]byte, bool) {
	tooBig := func() {
		w.Header().Set("Connection", "close")
		refuse(w, http.StatusRequestEntityTooLarge, &InputError{Msg: fmt.Sprintf("the body is over %d bytes", h.max)}, nil)
	}
	if r.ContentLength > h.max {
		tooBig()
		return nil, false
	}
	bp := getBuffer()
	lr := io.LimitedReader{R: r.Body, N: h.max + 1}
	b := (*bp)[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			*bp = b
			putBuffer(bp)
			refuse(w, http.StatusBadRequest, &InputError{Msg: "cannot read the body", detail: err.Error()}, nil)
			return nil, false
		}
	}
	*bp = b
	if int64(len(b)) > h.max {
		putBuffer(bp)
		tooBig()
		return nil, false
	}
	return bp, true
}

// score predicts and records the scores and, for drift, the inputs; on
// failure it has written the error response.
func (h *handler) score(w http.ResponseWriter, rows []map[string]any) ([]float64, bool) {
	p, t, err := h.m.predict(rows)
	if err != nil {
		var ie *InputError
		if errors.As(err, &ie) {
			refuse(w, http.StatusBadRequest, err, rows)
		} else {
			refuse(w, http.StatusInternalServerError, err, rows)
		}
		return nil, false
	}
	h.metrics.scores(p)
	if h.drift != nil {
		h.drift.win.add(t)
	}
	if rec, ok := w.(*recorder); ok && h.logInputs {
		rec.inputs = t
	}
	return p, true
}

// predictResponse is /predict's answer.
type predictResponse struct {
	Predictions []float64 `json:"predictions"`
	Model       string    `json:"model"`
}

func (h *handler) predict(w http.ResponseWriter, r *http.Request) {
	bp, ok := h.body(w, r)
	if !ok {
		return
	}
	rows, err := parseRecords(*bp)
	putBuffer(bp)
	if err != nil {
		refuse(w, http.StatusBadRequest, err, nil)
		return
	}
	p, ok := h.score(w, rows)
	if !ok {
		return
	}
	out := getBuffer()
	*out = h.out.appendPredict((*out)[:0], p)
	writeBody(w, http.StatusOK, *out)
	putBuffer(out)
}

func (h *handler) serveMetrics(w http.ResponseWriter, r *http.Request) {
	h.metrics.handler().ServeHTTP(w, r)
}

// jsonContentType is the Content-Type header of every JSON response;
// net/http never changes a header's values, so responses share it.
var jsonContentType = []string{"application/json"}

// writeBody writes a JSON response body.
func writeBody(w http.ResponseWriter, status int, b []byte) {
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeJSON writes v as a JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{Error: fmt.Sprintf("encode the response: %v", err)})
	}
	writeBody(w, status, append(b, '\n'))
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

// buffers recycles request and response buffers.
var buffers = sync.Pool{New: func() any {
	b := make([]byte, 0, 4096)
	return &b
}}

// maxPooledBuffer is the largest buffer put back in the pool, so that one
// large request does not pin its memory.
const maxPooledBuffer = 64 << 10

func getBuffer() *[]byte { return buffers.Get().(*[]byte) }

func putBuffer(b *[]byte) {
	if cap(*b) <= maxPooledBuffer {
		*b = (*b)[:0]
		buffers.Put(b)
	}
}
