package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slipway-ml/slipway/runners/monitor"
)

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// TestTenMegabyteBody sends a 10 MB body with the default limit: 413,
// and never more than one byte past the limit read.
func TestTenMegabyteBody(t *testing.T) {
	big := bytes.Repeat([]byte(" "), 10<<20)
	copy(big, `[{"age": 1, "plan": "pro"}`)
	big[len(big)-1] = ']'
	h := NewHandler(loadModel(t, binaryDir), Options{Logger: discard()})
	tests := []struct {
		name, path string
		length     int64 // the declared Content-Length; -1 for none
		most       int64 // the most bytes the handler may read
	}{
		{"predict, length declared", "/predict", int64(len(big)), 0},
		{"infer, length declared", "/v2/models/churn/infer", int64(len(big)), 0},
		{"predict, chunked", "/predict", -1, DefaultMaxBodyBytes + 1},
		{"infer, chunked", "/v2/models/churn/infer", -1, DefaultMaxBodyBytes + 1},
		{"predict, length understated", "/predict", 100, DefaultMaxBodyBytes + 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := &countingReader{r: bytes.NewReader(big)}
			req := httptest.NewRequest("POST", tc.path, body)
			req.ContentLength = tc.length
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), fmt.Sprintf("over %d bytes", DefaultMaxBodyBytes)) {
				t.Errorf("= %d %s, want 413", rec.Code, rec.Body)
			}
			if body.n > tc.most {
				t.Errorf("the handler read %d bytes, want at most %d", body.n, tc.most)
			}
			if rec.Header().Get("Connection") != "close" {
				t.Error("the response does not close the connection")
			}
		})
	}
	exact := append(bytes.Repeat([]byte(" "), DefaultMaxBodyBytes-len(`{"age": 1, "plan": "pro"}`)), `{"age": 1, "plan": "pro"}`...)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/predict", bytes.NewReader(exact)))
	if rec.Code != 200 {
		t.Errorf("a body of exactly the limit = %d %s, want 200", rec.Code, rec.Body)
	}
}

func TestResponsesMatchMarshal(t *testing.T) {
	m := loadModel(t, binaryDir)
	m.Name = `odd "name" <&>` + "\u2028"
	o := newResponsePrefixes(m)
	for _, p := range [][]float64{{0.5}, {1e-7, 0.1, 1, 123456789, 1e21, -2.5e-300, 0, math.SmallestNonzeroFloat64}} {
		want, _ := json.Marshal(predictResponse{Predictions: p, Model: m.Digest})
		if got := o.appendPredict(nil, p); string(got) != string(want)+"\n" {
			t.Errorf("appendPredict = %s\nwant %s", got, want)
		}
		for _, id := range []string{"", "r-1", "<script>\"\\\x01\u2029\xff"} {
			want, _ := json.Marshal(inferResponse{ModelName: m.Name, ModelVersion: m.Digest, ID: id,
				Outputs: []outputTensor{{Name: m.Output, Datatype: "FP64", Shape: []int64{int64(len(p))}, Data: p}}})
			if got := o.appendInfer(nil, id, p); string(got) != string(want)+"\n" {
				t.Errorf("appendInfer = %s\nwant %s", got, want)
			}
		}
	}
}

func TestAppendJSONFloat(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	values := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1e-6, 9.999999e-7, 1e-7, 1e20, 1e21, 123e-9, math.MaxFloat64, -math.SmallestNonzeroFloat64}
	for range 10000 {
		values = append(values, math.Float64frombits(r.Uint64()), r.Float64(), r.NormFloat64()*1e6)
	}
	for _, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONFloat(nil, v); string(got) != string(want) {
			t.Fatalf("appendJSONFloat(%v) = %s, want %s", v, got, want)
		}
	}
}

// TestConcurrentHotPath posts to /predict and the inference endpoint
// from many goroutines while /metrics and the drift report are read and
// the drift loop runs; run it with -race.
func TestConcurrentHotPath(t *testing.T) {
	var reports atomic.Int32
	s, srv, _ := newDriftServer(t, handReference, `{"action":"pseudonymize","columns":["plan"]}`, Options{
		LogInputs: true, PIIKey: piiKey,
		Drift: DriftOptions{Window: 64, MinRows: 1, Interval: time.Millisecond, OnReport: func(*monitor.Report) { reports.Add(1) }},
	})
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()
	const posters, rounds = 8, 25
	var wg sync.WaitGroup
	var scored atomic.Int64
	errs := make(chan error, posters*rounds*2+100)
	client := srv.Client()
	post := func(path, body string) {
		resp, err := client.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			errs <- err
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			errs <- fmt.Errorf("POST %s = %d %s", path, resp.StatusCode, b)
		}
	}
	for g := range posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				age := float64(g*rounds + i)
				post("/predict", fmt.Sprintf(`[{"age": %v, "plan": "pro"}, {"age": %v, "plan": null}]`, age, age+0.5))
				post("/v2/models/churn/infer", fmt.Sprintf(`{"inputs":[{"name":"age","datatype":"FP64","shape":[1],"data":[%v]},{"name":"plan","datatype":"BYTES","shape":[1],"data":["max"]}]}`, age))
				scored.Add(3)
			}
		}()
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for _, path := range []string{"/metrics", "/v2/models/churn/drift"} {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Get(srv.URL + path)
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	readers.Add(1)
	go func() {
		defer readers.Done()
		for {
			select {
			case <-stop:
				return
			default:
				_, _ = s.DriftNow()
				time.Sleep(time.Millisecond)
			}
		}
	}()
	wg.Wait()
	close(stop)
	readers.Wait()
	cancel()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	n, added := s.h.drift.win.state()
	if want := scored.Load(); int64(added) != want || n != 64 {
		t.Errorf("window holds %d of %d records added, want 64 of %d", n, added, want)
	}
	if got, _ := gauge(t, s.h.metrics.reg, "slipway_drift_window_records"); got != 64 {
		t.Errorf("window gauge = %v, want 64", got)
	}
	if _, err := s.DriftNow(); err != nil {
		t.Fatal(err)
	}
	if reports.Load() == 0 {
		t.Error("no drift report while serving")
	}
	mfs, err := s.h.metrics.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "slipway_score" {
			if c := mf.GetMetric()[0].GetHistogram().GetSampleCount(); int64(c) != scored.Load() {
				t.Errorf("score count = %d, want %d", c, scored.Load())
			}
		}
	}
}
