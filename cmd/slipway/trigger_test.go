package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMonitorTriggersRetraining runs slipway monitor on drifted data with
// --trigger: the churn spec retrains on drift, so the retraining event is
// sent to (a fake) GitHub.
func TestMonitorTriggersRetraining(t *testing.T) {
	var event map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/repos/acme/ml/dispatches" || r.Header.Get("Authorization") != "Bearer gh-token" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &event)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	t.Setenv("GITHUB_TOKEN", "gh-token")
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "churn", "data", "churn.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	dir := t.TempDir()
	ref, cur := filepath.Join(dir, "ref.csv"), filepath.Join(dir, "cur.csv")
	var churners []string
	for _, l := range lines[1:] {
		if strings.HasSuffix(l, `"yes"`) {
			churners = append(churners, l)
		}
	}
	_ = os.WriteFile(ref, []byte(strings.Join(lines[:2501], "\n")+"\n"), 0o644)
	_ = os.WriteFile(cur, []byte(lines[0]+"\n"+strings.Join(churners, "\n")+"\n"), 0o644)
	var out, errb bytes.Buffer
	code := Main([]string{"monitor", "--reference", ref, "--current", cur, "--dir", filepath.Join("..", "..", "examples", "churn"),
		"--share", "0.1", "--trigger", "--github-repo", "acme/ml", "--github-api", srv.URL, "--state-dir", filepath.Join(dir, "state")}, nil, &out, &errb)
	if code != exitFindings {
		t.Fatalf("exit %d, want %d (drift)\n%s\n%s", code, exitFindings, out.String(), errb.String())
	}
	if event["event_type"] != "slipway-retrain-churn" || !strings.Contains(out.String(), "retraining triggered") {
		t.Fatalf("event %v\n%s", event, out.String())
	}
	if p, _ := event["client_payload"].(map[string]any); p == nil || p["share_drifted"].(float64) < 0.1 {
		t.Errorf("payload %v", event["client_payload"])
	}
	// The drift persists: the same episode fires nothing more.
	event = nil
	out.Reset()
	code = Main([]string{"monitor", "--reference", ref, "--current", cur, "--dir", filepath.Join("..", "..", "examples", "churn"),
		"--share", "0.1", "--trigger", "--github-repo", "acme/ml", "--github-api", srv.URL, "--state-dir", filepath.Join(dir, "state")}, nil, &out, &errb)
	if code != exitFindings || event != nil || !strings.Contains(out.String(), "already triggered retraining") {
		t.Fatalf("second run: exit %d, event %v\n%s", code, event, out.String())
	}
	// No drift ends the episode; the next drift fires again (the churn
	// spec's cooldown is 6h, so a state file from 7h ago is used).
	code = Main([]string{"monitor", "--reference", ref, "--current", ref, "--dir", filepath.Join("..", "..", "examples", "churn"),
		"--share", "0.1", "--trigger", "--github-repo", "acme/ml", "--github-api", srv.URL, "--state-dir", filepath.Join(dir, "state")}, nil, &out, &errb)
	if code != 0 || event != nil {
		t.Fatalf("clean run: exit %d, event %v", code, event)
	}
	st := filepath.Join(dir, "state", "monitor", "churn.json")
	b, err := os.ReadFile(st)
	if err != nil {
		t.Fatal(err)
	}
	var state map[string]any
	_ = json.Unmarshal(b, &state)
	if state["drifted"] != false || state["episodes"] != 1.0 {
		t.Fatalf("state after the clean run: %s", b)
	}
	state["lastFired"] = time.Now().Add(-7 * time.Hour).UTC().Format(time.RFC3339)
	b, _ = json.Marshal(state)
	_ = os.WriteFile(st, b, 0o644)
	code = Main([]string{"monitor", "--reference", ref, "--current", cur, "--dir", filepath.Join("..", "..", "examples", "churn"),
		"--share", "0.1", "--trigger", "--github-repo", "acme/ml", "--github-api", srv.URL, "--state-dir", filepath.Join(dir, "state")}, nil, &out, &errb)
	if code != exitFindings || event == nil {
		t.Fatalf("new episode: exit %d, event %v", code, event)
	}
}

// TestMonitorModelReferenceLocalRetrain uses a trained model as the
// reference (its artifact's training sample) and retrains locally on
// drift, as a spec with retraining.via "local" declares.
func TestMonitorModelReferenceLocalRetrain(t *testing.T) {
	dir := copyExample(t, "churn")
	via := "package churn\n\npipelines: churn: monitoring: retraining: via: \"local\"\n"
	if err := os.WriteFile(filepath.Join(dir, "via.cue"), []byte(via), 0o644); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "state")
	var out, errb bytes.Buffer
	if code := Main([]string{"run", dir, "--state-dir", state}, nil, &out, &errb); code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	data, err := os.ReadFile(filepath.Join(dir, "data", "churn.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var churners []string
	for _, l := range lines[1:] {
		if strings.HasSuffix(l, `"yes"`) {
			churners = append(churners, l)
		}
	}
	cur := filepath.Join(t.TempDir(), "cur.csv")
	_ = os.WriteFile(cur, []byte(lines[0]+"\n"+strings.Join(churners, "\n")+"\n"), 0o644)

	// No such model: a clear error.
	out.Reset()
	errb.Reset()
	code := Main([]string{"monitor", "--reference", "nosuch", "--current", cur, "--state-dir", state}, nil, &out, &errb)
	if code != exitFindings || !strings.Contains(errb.String(), "--reference nosuch: no such file, and as a model") {
		t.Fatalf("missing model: exit %d\n%s", code, errb.String())
	}
	out.Reset()
	errb.Reset()
	code = Main([]string{"monitor", "--reference", "churn", "--current", cur, "--dir", dir, "--share", "0.1",
		"--trigger", "--state-dir", state, "-o", "json"}, nil, &out, &errb)
	if code != exitFindings {
		t.Fatalf("monitor: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	if !strings.Contains(errb.String(), "retraining ran locally") || !strings.Contains(errb.String(), "retraining triggered via local") {
		t.Fatalf("no local retraining:\n%s\n%s", out.String(), errb.String())
	}
	if !strings.Contains(out.String(), `"rowsReference": 3600`) {
		t.Errorf("the reference is not the model's 3,600 training rows:\n%.600s", out.String())
	}
}
