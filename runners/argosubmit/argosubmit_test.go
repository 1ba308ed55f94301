package argosubmit_test

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ml/slipway/backends/argo"
	"github.com/slipway-ml/slipway/runners/argosubmit"
)

const (
	testToken = "s3cr3t-token-value"
	repoURL   = "https://git.example/ml/churn.git"
	wfName    = "churn-00001"
)

// event is one Progress call.
type event struct{ node, phase string }

func all(tasks []string, phase string) map[string]string {
	m := map[string]string{}
	for _, t := range tasks {
		m[t] = phase
	}
	return m
}

func TestSubmit(t *testing.T) {
	tasks := churnTasks(t)
	first, second := tasks[0], tasks[1]
	running := stage{phase: "Running", nodes: map[string]string{first: "Running"}}
	tests := []struct {
		name      string
		token     string
		script    []stage
		wantPhase string
		wantNodes map[string]string
		// wantEvents are the first Progress calls, in order.
		wantEvents []event
		wantErr    []string
	}{{
		name:  "succeeded",
		token: testToken,
		script: []stage{
			{phase: "Pending"},
			running,
			{phase: "Succeeded", nodes: all(tasks, "Succeeded")},
		},
		wantPhase:  "Succeeded",
		wantNodes:  with(all(tasks, "Succeeded"), wfName, "Succeeded"),
		wantEvents: sortedEvents(map[string]string{wfName: "Running", first: "Running"}),
	}, {
		name:  "succeeded without a token",
		token: "",
		script: []stage{
			{phase: "Pending"},
			{phase: "Succeeded", nodes: all(tasks, "Succeeded")},
		},
		wantPhase:  "Succeeded",
		wantNodes:  with(all(tasks, "Succeeded"), wfName, "Succeeded"),
		wantEvents: sortedEvents(with(all(tasks, "Succeeded"), wfName, "Succeeded")),
	}, {
		name:  "failed",
		token: testToken,
		script: []stage{
			{phase: "Pending"},
			running,
			{
				phase: "Failed", message: "child '" + wfName + "." + second + "' failed",
				nodes:    map[string]string{first: "Succeeded", second: "Failed"},
				messages: map[string]string{second: "Error (exit code 1): loss is NaN"},
			},
		},
		wantPhase:  "Failed",
		wantNodes:  map[string]string{wfName: "Failed", first: "Succeeded", second: "Failed"},
		wantEvents: sortedEvents(map[string]string{wfName: "Running", first: "Running"}),
		wantErr: []string{
			"workflow " + wfName + " ended Failed",
			"failed nodes: " + second + " failed: Error (exit code 1): loss is NaN",
		},
	}, {
		name:  "error",
		token: testToken,
		script: []stage{
			{phase: "Running", nodes: map[string]string{first: "Running"}},
			{phase: "Error", message: "pod deleted", nodes: map[string]string{first: "Error"}},
		},
		wantPhase: "Error",
		wantNodes: map[string]string{wfName: "Error", first: "Error"},
		wantErr:   []string{"ended Error: pod deleted", first + " error: no message"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake(t, tc.token, tc.script)
			srv := httptest.NewServer(fake.handler())
			defer srv.Close()
			var events []event
			res, err := argosubmit.Submit(context.Background(), argosubmit.Options{
				Server:     srv.URL + "/",
				Namespace:  "ml",
				Workflow:   churnFile(t, argo.FileWorkflow),
				Parameters: map[string]string{"repo": repoURL},
				Token:      tc.token,
				Poll:       time.Millisecond,
				Progress:   func(node, phase string) { events = append(events, event{node, phase}) },
			})
			if len(tc.wantErr) == 0 && err != nil {
				t.Fatalf("Submit: %v", err)
			}
			for _, want := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error = %v, want it to contain %q", err, want)
				}
			}
			if err != nil && strings.Contains(err.Error(), testToken) {
				t.Errorf("error reveals the token: %v", err)
			}
			if res == nil {
				t.Fatal("no result")
			}
			if res.Name != wfName || res.Phase != tc.wantPhase {
				t.Errorf("result = %s %s, want %s %s", res.Name, res.Phase, wfName, tc.wantPhase)
			}
			if !reflect.DeepEqual(res.Nodes, tc.wantNodes) {
				t.Errorf("nodes = %v, want %v", res.Nodes, tc.wantNodes)
			}
			if len(events) < len(tc.wantEvents) || !slices.Equal(events[:len(tc.wantEvents)], tc.wantEvents) {
				t.Errorf("progress = %v, want it to start with %v", events, tc.wantEvents)
			}
			// Every node's last reported phase is its final phase.
			last := map[string]string{}
			for _, e := range events {
				last[e.node] = e.phase
			}
			if !reflect.DeepEqual(last, tc.wantNodes) {
				t.Errorf("last reported phases = %v, want %v", last, tc.wantNodes)
			}
			checkRequests(t, fake, tc.token, len(tc.script))
		})
	}
}

// checkRequests checks what the fake server received: one workflow in
// namespace ml with the repo parameter, the bearer token on every request,
// and one GET per stage.
func checkRequests(t *testing.T, fake *fakeArgo, token string, stages int) {
	t.Helper()
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.submitted) != 1 {
		t.Fatalf("server received %d workflows, want 1", len(fake.submitted))
	}
	wf := fake.submitted[0]
	if ns := wf["metadata"].(map[string]any)["namespace"]; ns != "ml" {
		t.Errorf("namespace = %v, want ml", ns)
	}
	params, _ := wf["spec"].(map[string]any)["arguments"].(map[string]any)["parameters"].([]any)
	want := []any{map[string]any{"name": "repo", "value": repoURL}}
	if !reflect.DeepEqual(params, want) {
		t.Errorf("parameters = %v, want %v", params, want)
	}
	wantAuth := ""
	if token != "" {
		wantAuth = "Bearer " + token
	}
	for i, a := range fake.auth {
		if a != wantAuth {
			t.Errorf("request %d: Authorization = %q, want %q", i, a, wantAuth)
		}
	}
	if got := fake.gets[wfName]; got != stages {
		t.Errorf("server answered %d status reads, want %d (one per stage)", got, stages)
	}
}

func with(m map[string]string, k, v string) map[string]string {
	m[k] = v
	return m
}

// sortedEvents lists m's entries as events in node order, as Submit
// reports the changes of one status read.
func sortedEvents(m map[string]string) []event {
	var out []event
	for k, v := range m {
		out = append(out, event{k, v})
	}
	slices.SortFunc(out, func(a, b event) int { return strings.Compare(a.node, b.node) })
	return out
}

func TestSubmitRefused(t *testing.T) {
	valid := string(churnFile(t, argo.FileWorkflow))
	tests := []struct {
		name       string
		workflow   string
		token      string
		wantStatus int
		wantMsg    string
	}{{
		name:       "schema violation",
		workflow:   strings.Replace(valid, "spec:\n", "spec:\n  parallelism: many\n", 1),
		token:      testToken,
		wantStatus: http.StatusBadRequest,
		wantMsg:    "workflow is invalid: ",
	}, {
		name:       "no generateName",
		workflow:   strings.Replace(valid, "generateName:", "annotations: {}\n  x-generateName:", 1),
		token:      testToken,
		wantStatus: http.StatusBadRequest,
		wantMsg:    "workflow has no metadata.generateName",
	}, {
		name:       "wrong token",
		workflow:   valid,
		token:      "not-" + testToken,
		wantStatus: http.StatusUnauthorized,
		wantMsg:    "token not valid",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake(t, testToken, []stage{{phase: "Succeeded"}})
			srv := httptest.NewServer(fake.handler())
			defer srv.Close()
			res, err := argosubmit.Submit(context.Background(), argosubmit.Options{
				Server: srv.URL, Workflow: []byte(tc.workflow), Token: tc.token, Poll: time.Millisecond,
			})
			var se *argosubmit.StatusError
			if !errors.As(err, &se) {
				t.Fatalf("error = %v, want a *StatusError", err)
			}
			if se.StatusCode != tc.wantStatus || !strings.HasPrefix(se.Message, tc.wantMsg) {
				t.Errorf("status error = %d %q, want %d %q...", se.StatusCode, se.Message, tc.wantStatus, tc.wantMsg)
			}
			if !strings.Contains(err.Error(), http.StatusText(tc.wantStatus)) {
				t.Errorf("error %q does not name the HTTP status", err)
			}
			if strings.Contains(err.Error(), testToken) && tc.token == testToken {
				t.Errorf("error reveals the token: %v", err)
			}
			if res != nil {
				t.Errorf("result = %+v for a refused workflow, want nil", res)
			}
			if len(fake.submitted) != 0 || len(fake.gets) != 0 {
				t.Errorf("server stored %d workflows and answered %d reads, want none", len(fake.submitted), len(fake.gets))
			}
		})
	}
}

func TestSubmitWaitEnds(t *testing.T) {
	forever := []stage{{phase: "Pending"}, {phase: "Running", nodes: map[string]string{"ingest": "Running"}}}
	tests := []struct {
		name    string
		timeout time.Duration
		cancel  bool
		want    error
	}{
		{name: "timeout", timeout: 50 * time.Millisecond, want: context.DeadlineExceeded},
		{name: "cancelled", cancel: true, want: context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(newFake(t, "", forever).handler())
			defer srv.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			start := time.Now()
			res, err := argosubmit.Submit(ctx, argosubmit.Options{
				Server: srv.URL, Workflow: churnFile(t, argo.FileWorkflow), Poll: 5 * time.Millisecond, Timeout: tc.timeout,
				Progress: func(node, phase string) {
					if tc.cancel && phase == "Running" {
						cancel()
					}
				},
			})
			if !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), "still Running") {
				t.Errorf("error %q does not give the last phase", err)
			}
			if res == nil || res.Name != wfName || res.Phase != "Running" {
				t.Errorf("result = %+v, want %s Running", res, wfName)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("Submit returned after %v", d)
			}
		})
	}
}

func TestSubmitTLS(t *testing.T) {
	fake := newFake(t, testToken, []stage{{phase: "Succeeded"}})
	srv := httptest.NewUnstartedServer(fake.handler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted case's handshake failure
	srv.StartTLS()
	defer srv.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	tests := []struct {
		name     string
		caCert   []byte
		insecure bool
		wantErr  string
	}{
		{name: "trusted CA", caCert: ca},
		{name: "insecure", insecure: true},
		{name: "untrusted", wantErr: "certificate"},
		{name: "bad PEM", caCert: []byte("not a certificate"), wantErr: "want PEM-encoded certificates"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := argosubmit.Submit(context.Background(), argosubmit.Options{
				Server: srv.URL, Workflow: churnFile(t, argo.FileWorkflow), Token: testToken,
				CACert: tc.caCert, Insecure: tc.insecure, Poll: time.Millisecond,
			})
			if tc.wantErr == "" {
				if err != nil || res.Phase != "Succeeded" {
					t.Fatalf("Submit = %+v, %v; want Succeeded", res, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error reveals the token: %v", err)
			}
		})
	}
}

func TestSubmitServerErrors(t *testing.T) {
	wf := `{"metadata":{"name":"churn-x"},"status":{}}`
	tests := []struct {
		name    string
		post    func(w http.ResponseWriter)
		get     func(w http.ResponseWriter)
		wantErr []string
	}{{
		name: "proxy error page",
		post: func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html>bad gateway</html>\n"))
		},
		wantErr: []string{"502 Bad Gateway", "<html>bad gateway</html>"},
	}, {
		name:    "no name",
		post:    func(w http.ResponseWriter) { _, _ = w.Write([]byte(`{"metadata":{}}`)) },
		wantErr: []string{"returned no metadata.name"},
	}, {
		name:    "not JSON",
		post:    func(w http.ResponseWriter) { _, _ = w.Write([]byte(`[1]`)) },
		wantErr: []string{"want a JSON workflow, found a list"},
	}, {
		name: "workflow deleted",
		post: func(w http.ResponseWriter) { _, _ = w.Write([]byte(wf)) },
		get: func(w http.ResponseWriter) {
			argoError(w, http.StatusNotFound, 5, `workflows.argoproj.io "churn-x" not found`)
		},
		wantErr: []string{"read status of workflow churn-x", "404 Not Found", `"churn-x" not found`},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPost {
					tc.post(w)
				} else {
					tc.get(w)
				}
			}))
			defer srv.Close()
			_, err := argosubmit.Submit(context.Background(), argosubmit.Options{
				Server: srv.URL, Workflow: churnFile(t, argo.FileWorkflow), Poll: time.Millisecond,
			})
			for _, want := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error = %v, want it to contain %q", err, want)
				}
			}
		})
	}
}

func TestSubmitOptions(t *testing.T) {
	valid := churnFile(t, argo.FileWorkflow)
	tests := []struct {
		name    string
		o       argosubmit.Options
		wantErr string
	}{
		{name: "no server", o: argosubmit.Options{Workflow: valid}, wantErr: "no Argo Server URL"},
		{name: "no scheme", o: argosubmit.Options{Server: "argo:2746", Workflow: valid}, wantErr: "want http(s)://host[:port]"},
		{name: "no workflow", o: argosubmit.Options{Server: "http://127.0.0.1:1"}, wantErr: "no workflow given"},
		{name: "template", o: argosubmit.Options{Server: "http://127.0.0.1:1", Workflow: churnFile(t, argo.FileWorkflowTemplate)}, wantErr: `want kind Workflow, found "WorkflowTemplate"`},
		{name: "other namespace", o: argosubmit.Options{Server: "http://127.0.0.1:1", Namespace: "ml",
			Workflow: []byte("kind: Workflow\nmetadata:\n  namespace: prod\n")}, wantErr: `names namespace "prod" but is submitted to "ml"`},
		{name: "list", o: argosubmit.Options{Server: "http://127.0.0.1:1", Workflow: []byte("- a\n")}, wantErr: "want a YAML mapping, found a list"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := argosubmit.Submit(context.Background(), tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
			}
			if res != nil {
				t.Errorf("result = %+v, want nil", res)
			}
		})
	}
}

// TestSubmitDetach returns once the workflow exists, reading no status.
func TestSubmitDetach(t *testing.T) {
	fake := newFake(t, "", []stage{{phase: "Running"}})
	srv := httptest.NewServer(fake.handler())
	defer srv.Close()
	res, err := argosubmit.Submit(context.Background(), argosubmit.Options{
		Server: srv.URL, Workflow: churnFile(t, argo.FileWorkflow), Detach: true, Poll: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Name != wfName {
		t.Errorf("name = %q, want %q", res.Name, wfName)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if fake.created != 1 || len(fake.gets) != 0 {
		t.Errorf("created %d, status reads %v; want 1 and none", fake.created, fake.gets)
	}
}
