package argosubmit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"

	"github.com/slipway-ml/slipway/backends/argo"
	"github.com/slipway-ml/slipway/compiler"
)

// The rendered churn example, compiled once.
var churn = sync.OnceValues(func() (map[string][]byte, error) {
	abs, err := filepath.Abs(filepath.Join("..", "..", "examples", "churn"))
	if err != nil {
		return nil, err
	}
	res, ds := compiler.Compile(context.Background(), compiler.Options{FS: os.DirFS(abs), Root: abs, Path: "examples/churn"})
	if ds.HasErrors() || res == nil {
		return nil, fmt.Errorf("compile examples/churn: %v", ds)
	}
	files, err := argo.New().Render(res.Program)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, f := range files {
		out[f.Path] = f.Data
	}
	return out, nil
})

// churnFile returns one rendered file of the churn pipeline.
func churnFile(t *testing.T, name string) []byte {
	t.Helper()
	files, err := churn()
	if err != nil {
		t.Fatal(err)
	}
	data, ok := files["argo/churn/"+name]
	if !ok {
		t.Fatalf("argo backend rendered no argo/churn/%s", name)
	}
	return data
}

// churnTasks lists the DAG task names of the churn WorkflowTemplate's
// entrypoint, in template order.
func churnTasks(t *testing.T) []string {
	t.Helper()
	var tmpl struct {
		Spec struct {
			Entrypoint string `json:"entrypoint"`
			Templates  []struct {
				Name string `json:"name"`
				DAG  *struct {
					Tasks []struct {
						Name string `json:"name"`
					} `json:"tasks"`
				} `json:"dag"`
			} `json:"templates"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(churnFile(t, argo.FileWorkflowTemplate), &tmpl); err != nil {
		t.Fatal(err)
	}
	var tasks []string
	for _, tp := range tmpl.Spec.Templates {
		if tp.Name == tmpl.Spec.Entrypoint && tp.DAG != nil {
			for _, task := range tp.DAG.Tasks {
				tasks = append(tasks, task.Name)
			}
		}
	}
	if len(tasks) < 2 {
		t.Fatalf("churn entrypoint has %d DAG tasks, want at least 2", len(tasks))
	}
	return tasks
}

// workflowSchema is the Argo JSON schema's Workflow definition, as
// backends/argo's tests load it.
var workflowSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	f, err := os.Open(filepath.Join("..", "..", "backends", "argo", "testdata", "argo-workflows.schema.json"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	id, _ := doc.(map[string]any)["$id"].(string)
	c := jsonschema.NewCompiler()
	if err := c.AddResource(id, doc); err != nil {
		return nil, err
	}
	return c.Compile(id + "#/definitions/io.argoproj.workflow.v1alpha1.Workflow")
})

// stage is the status the fake server reports for one GET.
type stage struct {
	phase, message string
	// nodes maps task names to phases; the workflow's own node takes the
	// workflow's phase when any task is listed.
	nodes    map[string]string
	messages map[string]string
}

// fakeArgo is an Argo Server API: it validates created workflows against
// the Argo schema, names them from generateName and steps each through
// script, one stage per GET (the last stage repeats).
type fakeArgo struct {
	t      *testing.T
	token  string
	script []stage

	mu        sync.Mutex
	created   int
	submitted []map[string]any
	auth      []string
	gets      map[string]int
}

func newFake(t *testing.T, token string, script []stage) *fakeArgo {
	return &fakeArgo{t: t, token: token, script: script, gets: map[string]int{}}
}

func (f *fakeArgo) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/workflows/{namespace}", f.create)
	mux.HandleFunc("GET /api/v1/workflows/{namespace}/{name}", f.get)
	return f.authorize(mux)
}

// argoError writes Argo's (grpc-gateway's) error shape.
func argoError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg, "details": []any{}})
}

func (f *fakeArgo) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		f.mu.Unlock()
		if f.token != "" && r.Header.Get("Authorization") != "Bearer "+f.token {
			argoError(w, http.StatusUnauthorized, 16, "token not valid. see https://argo-workflows.readthedocs.io/en/latest/faq/")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (f *fakeArgo) create(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Workflow map[string]any `json:"workflow"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Workflow == nil {
		argoError(w, http.StatusBadRequest, 3, fmt.Sprintf("invalid request body: %v", err))
		return
	}
	sch, err := workflowSchema()
	if err != nil {
		f.t.Errorf("load argo schema: %v", err)
		argoError(w, http.StatusInternalServerError, 13, err.Error())
		return
	}
	// Validate a JSON round trip, as jsonschema wants its own number types.
	js, _ := json.Marshal(req.Workflow)
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(string(js)))
	if err == nil {
		err = sch.Validate(inst)
	}
	if err != nil {
		argoError(w, http.StatusBadRequest, 3, "workflow is invalid: "+strings.ReplaceAll(err.Error(), "\n", " "))
		return
	}
	meta, _ := req.Workflow["metadata"].(map[string]any)
	gen, _ := meta["generateName"].(string)
	if gen == "" {
		argoError(w, http.StatusBadRequest, 3, "workflow has no metadata.generateName")
		return
	}
	if ns, _ := meta["namespace"].(string); ns != r.PathValue("namespace") {
		argoError(w, http.StatusBadRequest, 3, fmt.Sprintf("workflow namespace %q does not match request namespace %q", ns, r.PathValue("namespace")))
		return
	}
	f.mu.Lock()
	f.created++
	meta["name"] = fmt.Sprintf("%s%05d", gen, f.created)
	f.submitted = append(f.submitted, req.Workflow)
	f.mu.Unlock()
	meta["uid"] = "7c0d4c1e-0000-4000-8000-000000000001"
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(req.Workflow)
}

func (f *fakeArgo) get(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := r.PathValue("name")
	var wf map[string]any
	for _, s := range f.submitted {
		if s["metadata"].(map[string]any)["name"] == name {
			wf = s
		}
	}
	if wf == nil {
		argoError(w, http.StatusNotFound, 5, fmt.Sprintf("workflows.argoproj.io %q not found", name))
		return
	}
	i := min(f.gets[name], len(f.script)-1)
	f.gets[name]++
	out := map[string]any{"metadata": wf["metadata"], "spec": wf["spec"], "status": statusOf(name, f.script[i])}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// statusOf builds an Argo status object for the workflow named wf.
func statusOf(wf string, s stage) map[string]any {
	st := map[string]any{"phase": s.phase}
	if s.message != "" {
		st["message"] = s.message
	}
	if len(s.nodes) == 0 {
		return st
	}
	nodes := map[string]any{wf: map[string]any{"id": wf, "name": wf, "displayName": wf, "type": "DAG", "phase": s.phase, "message": s.message}}
	for task, phase := range s.nodes {
		id := fmt.Sprintf("%s-%d", wf, crc32.ChecksumIEEE([]byte(task)))
		nodes[id] = map[string]any{
			"id": id, "name": wf + "." + task, "displayName": task, "type": "Pod",
			"phase": phase, "message": s.messages[task],
		}
	}
	st["nodes"] = nodes
	return st
}
