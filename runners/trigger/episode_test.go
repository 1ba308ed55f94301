package trigger

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-ml/slipway/runners/argosubmit"
)

// step is one observation: the verdict, the minutes since the start, and
// whether the firing should fail.
type step struct {
	drifted bool
	minute  int
	fail    bool
	// want is whether fire is called, and fired whether Observe reports
	// a firing.
	want, fired bool
	reason      string
}

func TestEpisodes(t *testing.T) {
	start := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		cooldown time.Duration
		steps    []step
		episodes int
	}{
		{"once per episode", 0, []step{
			{drifted: false, reason: "no drift"},
			{drifted: true, minute: 1, want: true, fired: true, reason: "new drift episode"},
			{drifted: true, minute: 2, reason: "already triggered"},
			{drifted: true, minute: 3, reason: "already triggered"},
			{drifted: false, minute: 4, reason: "episode ended"},
			{drifted: true, minute: 5, want: true, fired: true, reason: "new drift episode"},
		}, 2},
		{"cooldown spans episodes", time.Hour, []step{
			{drifted: true, want: true, fired: true},
			{drifted: false, minute: 10},
			{drifted: true, minute: 20, reason: "cooldown until 2026-11-26T01:00:00Z"},
			{drifted: true, minute: 61, want: true, fired: true},
			{drifted: true, minute: 62, reason: "already triggered"},
		}, 2},
		{"a failed firing is retried in the episode", 0, []step{
			{drifted: true, want: true, fail: true, reason: "failed"},
			{drifted: true, minute: 1, want: true, fired: true},
			{drifted: true, minute: 2},
		}, 1},
	}
	for _, tc := range tests {
		for _, path := range []string{"", "state.json"} {
			name := tc.name + "/memory"
			if path != "" {
				name = tc.name + "/file"
				path = filepath.Join(t.TempDir(), "monitor", path)
			}
			t.Run(name, func(t *testing.T) {
				now := start
				e := &Episodes{Path: path, Cooldown: tc.cooldown, Now: func() time.Time { return now }}
				var last Outcome
				for i, s := range tc.steps {
					if path != "" && i > 0 {
						// A new process each time: the state comes from the file.
						e = &Episodes{Path: path, Cooldown: tc.cooldown, Now: func() time.Time { return now }}
					}
					now = start.Add(time.Duration(s.minute) * time.Minute)
					called := false
					out, err := e.Observe(context.Background(), s.drifted, func(context.Context) error {
						called = true
						if s.fail {
							return errors.New("boom")
						}
						return nil
					})
					if (err != nil) != s.fail {
						t.Fatalf("step %d: err = %v", i, err)
					}
					if called != s.want || out.Fired != s.fired {
						t.Errorf("step %d: fire called %v, fired %v; want %v, %v (%s)", i, called, out.Fired, s.want, s.fired, out.Reason)
					}
					if !strings.Contains(out.Reason, s.reason) {
						t.Errorf("step %d: reason %q, want %q", i, out.Reason, s.reason)
					}
					last = out
				}
				if last.State.Episodes != tc.episodes {
					t.Errorf("episodes = %d, want %d", last.State.Episodes, tc.episodes)
				}
			})
		}
	}
}

// TestEpisodesConcurrent fires once when many observers see the same
// drift at once, in one process and across state-file users.
func TestEpisodesConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	var mu sync.Mutex
	fired := 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := &Episodes{Path: path}
			if _, err := e.Observe(context.Background(), true, func(context.Context) error {
				mu.Lock()
				fired++
				mu.Unlock()
				return nil
			}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if fired != 1 {
		t.Errorf("fired %d times, want 1", fired)
	}
}

func TestEpisodesBadState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	e := &Episodes{Path: path}
	if _, err := e.Observe(context.Background(), true, func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(path, "{not json"); err != nil {
		t.Fatal(err)
	}
	_, err := (&Episodes{Path: path}).Observe(context.Background(), true, func(context.Context) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "delete it") {
		t.Errorf("err = %v", err)
	}
}

func TestArgoFirer(t *testing.T) {
	var body map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/workflows/ml" {
			t.Errorf("%s %s: want only the create call", r.Method, r.URL.Path)
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		_ = json.NewEncoder(w).Encode(map[string]any{"metadata": map[string]any{"name": "churn-abc12"}})
	}))
	defer srv.Close()
	wf := []byte("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  generateName: churn-\nspec:\n  entrypoint: main\n")
	var name string
	a := Argo{Options: argoOptions(srv.URL, wf), Submitted: func(n string) { name = n }}
	if err := a.Retrain(context.Background(), "churn", nil); err != nil {
		t.Fatal(err)
	}
	if name != "churn-abc12" || body["workflow"] == nil {
		t.Errorf("submitted %q, body %v", name, body)
	}
	if err := (Local{}).Retrain(context.Background(), "churn", nil); err == nil {
		t.Error("a Local firer without a runner fired")
	}
	ran := ""
	if err := (Local{Run: func(_ context.Context, p string) error { ran = p; return nil }}).Retrain(context.Background(), "churn", nil); err != nil || ran != "churn" {
		t.Errorf("local: %v, ran %q", err, ran)
	}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }

func argoOptions(server string, wf []byte) argosubmit.Options {
	return argosubmit.Options{Server: server, Namespace: "ml", Workflow: wf}
}
