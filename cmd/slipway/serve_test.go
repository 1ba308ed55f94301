package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-ml/slipway/backends/helm"
	"github.com/slipway-ml/slipway/compiler/lock"
	"github.com/slipway-ml/slipway/runners/dataset"
	"github.com/slipway-ml/slipway/runners/pipeline"
)

// TestServeLiveDrift serves the churn model with the spec's drift settings
// and --trigger, posts only churners, and checks that the live drift report
// and gauges show dataset drift and that the retraining event is sent once
// however many comparisons drift.
func TestServeLiveDrift(t *testing.T) {
	dir := copyExample(t, "churn")
	if err := os.WriteFile(filepath.Join(dir, "share.cue"), []byte("package churn\n\npipelines: churn: monitoring: drift: share: 0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "state")
	var out, errb bytes.Buffer
	if code := Main([]string{"run", dir, "--state-dir", state}, nil, &out, &errb); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, errb.String())
	}
	var mu sync.Mutex
	events := 0
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		events++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer gh.Close()
	t.Setenv("GITHUB_TOKEN", "gh-token")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	var serr syncBuffer
	go func() {
		done <- MainContext(ctx, []string{"serve", "--model", "churn", "--allow-unsigned", "--state-dir", state, "--addr", addr,
			"--dir", dir, "--drift-interval", "50ms", "--drift-min-rows", "50", "--trigger", "--github-repo", "acme/ml",
			"--github-api", gh.URL}, nil, io.Discard, &serr)
	}()
	base := "http://" + addr
	for i := 0; ; i++ {
		if resp, err := http.Get(base + "/v2/health/ready"); err == nil {
			resp.Body.Close()
			break
		}
		if i > 200 {
			t.Fatalf("the server did not start:\n%s", serr.String())
		}
		time.Sleep(25 * time.Millisecond)
	}

	body := churners(t, filepath.Join(dir, "data", "churn.csv"))
	var rep struct {
		Drifted      bool    `json:"drifted"`
		ShareDrifted float64 `json:"shareDrifted"`
		RowsCurrent  int     `json:"rowsCurrent"`
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Post(base+"/predict", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("predict: %s\n%s", resp.Status, serr.String())
		}
		if resp, err := http.Get(base + "/v2/models/churn/drift"); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if err := json.Unmarshal(b, &rep); err != nil {
					t.Fatal(err)
				}
			}
		}
		mu.Lock()
		n := events
		mu.Unlock()
		if rep.Drifted && n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no drift or no event: report %+v, events %d\n%s", rep, n, serr.String())
		}
		time.Sleep(60 * time.Millisecond)
	}
	// More drifted comparisons: still one event.
	time.Sleep(300 * time.Millisecond)
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve exited %d\n%s", code, serr.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if events != 1 {
		t.Errorf("%d retraining events, want 1 per drift episode", events)
	}
	if !strings.Contains(string(metrics), "slipway_dataset_drift_detected 1") {
		t.Errorf("metrics lack slipway_dataset_drift_detected 1:\n%s", metrics)
	}
	if !strings.Contains(serr.String(), "retraining triggered") {
		t.Errorf("log:\n%s", serr.String())
	}
}

// churners is a JSON list of the churn data's churning customers.
func churners(t *testing.T, path string) []byte {
	t.Helper()
	tbl, err := dataset.ReadFile(path, "csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	label := tbl.Column("churn")
	var recs []map[string]any
	for i := range tbl.Rows() {
		if v, _ := label.Text(i); v != "yes" {
			continue
		}
		rec := map[string]any{}
		for _, c := range tbl.Columns() {
			switch {
			case c.Name == "churn":
			case c.IsNull(i):
				rec[c.Name] = nil
			case c.Numeric():
				rec[c.Name] = c.Number(i)
			default:
				rec[c.Name], _ = c.Text(i)
			}
		}
		recs = append(recs, rec)
	}
	b, err := json.Marshal(recs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestModelChampion resolves a bare pipeline name to its champion in
// slipway.lock rather than the store's newest model.
func TestModelChampion(t *testing.T) {
	dir := copyExample(t, "churn")
	state := filepath.Join(t.TempDir(), "state")
	digest := func() string {
		code, v := runJSON(t, "run", dir, "--state-dir", state)
		if code != 0 {
			t.Fatalf("run: exit %d: %v", code, v)
		}
		return v["model"].(map[string]any)["digest"].(string)
	}
	first := digest()
	if err := os.WriteFile(filepath.Join(dir, "seed.cue"), []byte("package churn\n\npipelines: churn: training: gbdt: lambda: 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	second := digest()
	if first == second {
		t.Fatal("both runs packed the same model")
	}
	predict := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Main(append([]string{"predict", "--model", "churn", "--allow-unsigned", "--state-dir", state, "-o", "json",
			filepath.Join(dir, "data", "churn.csv")}, args...), nil, &out, &errb)
		return code, out.String(), errb.String()
	}
	// No lock: the newest.
	if code, out, errb := predict("--lock-dir", t.TempDir()); code != 0 || !strings.Contains(out, second) {
		t.Fatalf("no lock: exit %d, want %s\n%.300s\n%s", code, second, out, errb)
	}
	l := &lock.Lock{Version: lock.Version}
	l.Promote("churn", "staging", lock.Champion{Digest: first})
	if err := pipeline.WriteLockFile(filepath.Join(dir, lock.Filename), l); err != nil {
		t.Fatal(err)
	}
	if code, out, errb := predict("--lock-dir", dir); code != 0 || !strings.Contains(out, first) {
		t.Fatalf("champion: exit %d, want %s\n%.300s\n%s", code, first, out, errb)
	}
	if code, out, _ := predict("--lock-dir", dir, "--env", "production"); code != exitUsage || !strings.Contains(out, "no champion of churn in production") {
		t.Fatalf("unknown environment: exit %d\n%s", code, out)
	}
}

// TestDriftFromEnv reads $SLIPWAY_DRIFT as the Helm chart writes it (the
// monitoring.drift values as JSON).
func TestDriftFromEnv(t *testing.T) {
	b, err := json.Marshal(helm.Drift{Method: "psi", Window: "24h", Reference: "training", Share: 0.3, Threshold: 0.15,
		Features: map[string]float64{"calls": 0.2}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := driftFromEnv(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Method != "psi" || cfg.Share != 0.3 || cfg.Threshold != 0.15 || cfg.Features["calls"].Threshold != 0.2 {
		t.Errorf("config %+v", cfg)
	}
	if _, err := driftFromEnv("{not json"); err == nil {
		t.Error("bad JSON accepted")
	}
}
