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
		"--share", "0.1", "--trigger", "acme/ml", "--github-api", srv.URL}, nil, &out, &errb)
	if code != exitFindings {
		t.Fatalf("exit %d, want %d (drift)\n%s\n%s", code, exitFindings, out.String(), errb.String())
	}
	if event["event_type"] != "slipway-retrain-churn" || !strings.Contains(out.String(), "retraining triggered") {
		t.Fatalf("event %v\n%s", event, out.String())
	}
	if p, _ := event["client_payload"].(map[string]any); p == nil || p["share_drifted"].(float64) < 0.1 {
		t.Errorf("payload %v", event["client_payload"])
	}
}
