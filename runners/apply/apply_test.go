package apply

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	kubefake "helm.sh/helm/v3/pkg/kube/fake"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"

	"github.com/slipway-ml/slipway/compiler"
	"github.com/slipway-ml/slipway/compiler/lock"
	"github.com/slipway-ml/slipway/compiler/plan"
	"github.com/slipway-ml/slipway/runners/argosubmit"
	"github.com/slipway-ml/slipway/runners/artifact/registry"
	"github.com/slipway-ml/slipway/runners/pipeline"
	"github.com/slipway-ml/slipway/runners/plans"
	"github.com/slipway-ml/slipway/runners/signing"
)

// repo makes a Git repository holding examples/churn as churn/, committed.
func repo(t *testing.T) (string, string) {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "churn")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "examples", "churn"))); err != nil {
		t.Fatal(err)
	}
	r, err := git.PlainInit(root, false)
	if err != nil {
		t.Fatal(err)
	}
	commit(t, r, "base")
	return root, dir
}

func commit(t *testing.T, r *git.Repository, msg string) {
	t.Helper()
	wt, err := r.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.AddGlob("churn"); err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Commit(msg, &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example.com", When: time.Unix(1e9, 0)}}); err != nil {
		t.Fatal(err)
	}
}

func edit(t *testing.T, dir, old, new string) {
	t.Helper()
	name := filepath.Join(dir, "churn.cue")
	b, _ := os.ReadFile(name)
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("churn.cue has no %q", old)
	}
	if err := os.WriteFile(name, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

// delivered records what a Deliverer got.
type delivered struct {
	mu    sync.Mutex
	calls []string
	files map[string][]byte
}

func (d *delivered) deliver(_ context.Context, p string, files []File, msg string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, msg)
	d.files = map[string][]byte{}
	for _, f := range files {
		d.files[f.Path] = f.Data
	}
	return true, nil
}

func keyEnv(t *testing.T) func(string) string {
	t.Helper()
	priv, pub, err := signing.GenerateKeyPair([]byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	kp, _, err := signing.WriteKeyPair(t.TempDir(), priv, pub)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"COSIGN_KEY": kp, "COSIGN_PASSWORD": "pw"}
	return func(k string) string { return env[k] }
}

func champion(t *testing.T, dir, env string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "slipway.lock"))
	if err != nil {
		return ""
	}
	l, err := lock.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := l.Champion("churn", env)
	return c.Digest
}

// TestApplyPromoteRollback plans a learning-rate change, applies it
// (staging promoted, production waiting for approval and then approved),
// refuses the stale plan, re-applies idempotently, and rolls back.
func TestApplyPromoteRollback(t *testing.T) {
	root, dir := repo(t)
	_ = root
	edit(t, dir, "learningRate:        0.1", "learningRate:        0.05")
	ctx := context.Background()
	p, _, _, err := plans.Make(ctx, plans.Options{Dir: dir, Base: "HEAD"})
	if err != nil || !p.Changed() {
		t.Fatalf("plan: %v, changed %v", err, p != nil && p.Changed())
	}
	state := t.TempDir()
	d := &delivered{}
	o := Options{Plan: p, Dir: dir, StateDir: state, Getenv: keyEnv(t), Deliver: d.deliver}
	res, err := Apply(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	pr := res.Pipelines[0]
	if len(pr.Promotions) != 1 || pr.Promotions[0].Environment != "staging" || !pr.Delivered {
		t.Fatalf("first apply: %+v", pr)
	}
	if len(pr.Waiting) != 1 || !strings.Contains(pr.Waiting[0], "needs --approve production") {
		t.Errorf("waiting: %v", pr.Waiting)
	}
	first := pr.Model
	if champion(t, dir, "staging") != first || champion(t, dir, "production") != "" {
		t.Fatalf("lock: staging %s, production %s", champion(t, dir, "staging"), champion(t, dir, "production"))
	}
	if v := d.files["values-staging.yaml"]; !bytes.Contains(v, []byte(strings.TrimPrefix(first, "sha256:"))) {
		t.Errorf("delivered staging values do not name the new model:\n%s", v)
	}

	// The saved plan is stale now: the lock it was made from changed.
	var se *plan.StaleError
	if _, err := Apply(ctx, o); !errors.As(err, &se) {
		t.Fatalf("second apply of the same plan: %v, want a stale plan", err)
	}

	// A fresh apply with approval promotes production; another changes
	// nothing and delivers nothing.
	o.Plan, o.Base, o.Approve = nil, "HEAD", []string{"production"}
	res, err = Apply(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if pr := res.Pipelines[0]; len(pr.Promotions) != 1 || pr.Promotions[0].Environment != "production" || pr.Model != first {
		t.Fatalf("approved apply: %+v", pr)
	}
	calls := len(d.calls)
	res, err = Apply(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if pr := res.Pipelines[0]; len(pr.Promotions) != 0 || pr.Delivered || len(d.calls) != calls {
		t.Fatalf("idempotent apply: %+v, %d deliveries", pr, len(d.calls)-calls)
	}

	// A second model, then a rollback of staging to the first.
	edit(t, dir, "learningRate:        0.05", "learningRate:        0.2")
	o.Approve = nil
	res, err = Apply(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	second := res.Pipelines[0].Model
	if second == first || champion(t, dir, "staging") != second || champion(t, dir, "production") != first {
		t.Fatalf("second model: staging %s production %s", champion(t, dir, "staging"), champion(t, dir, "production"))
	}
	rb, err := Rollback(ctx, dir, "churn", "staging", state, d.deliver)
	if err != nil || rb.To != first || champion(t, dir, "staging") != first {
		t.Fatalf("rollback: %+v %v", rb, err)
	}
	if !strings.Contains(d.calls[len(d.calls)-1], first) {
		t.Errorf("rollback delivery: %s", d.calls[len(d.calls)-1])
	}
	if _, err := Rollback(ctx, dir, "churn", "staging", state, nil); err == nil {
		t.Error("a second rollback with no history left")
	}
}

// TestConcurrentApplies runs two applies of the same change at once: the
// pipeline lock serialises them, and the lock file ends consistent.
func TestConcurrentApplies(t *testing.T) {
	_, dir := repo(t)
	edit(t, dir, "learningRate:        0.1", "learningRate:        0.05")
	state := t.TempDir()
	env := keyEnv(t)
	var wg sync.WaitGroup
	results := make([]*Result, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = Apply(context.Background(), Options{Dir: dir, Base: "HEAD", StateDir: state, Getenv: env, Approve: []string{"production"}})
		}()
	}
	wg.Wait()
	promotions := 0
	for i := range 2 {
		if errs[i] != nil {
			t.Fatalf("apply %d: %v", i, errs[i])
		}
		promotions += len(results[i].Pipelines[0].Promotions)
	}
	if promotions != 2 {
		t.Errorf("%d promotions in all, want 2 (staging and production, once)", promotions)
	}
	if champion(t, dir, "staging") == "" || champion(t, dir, "production") != champion(t, dir, "staging") {
		t.Errorf("lock after concurrent applies: staging %s production %s", champion(t, dir, "staging"), champion(t, dir, "production"))
	}
}

// TestSpecDelivery lets the spec choose the delivery: a folder of this
// repository, committed there.
func TestSpecDelivery(t *testing.T) {
	root, dir := repo(t)
	edit(t, dir, "deploy: environments: {", "deploy: delivery: gitops: path: \"clusters\"\n\tdeploy: environments: {")
	edit(t, dir, "learningRate:        0.1", "learningRate:        0.05")
	res, err := Apply(context.Background(), Options{Dir: dir, Base: "HEAD", StateDir: t.TempDir(), Getenv: keyEnv(t)})
	if err != nil {
		t.Fatal(err)
	}
	if pr := res.Pipelines[0]; !pr.Delivered {
		t.Fatalf("not delivered: %+v", pr)
	}
	r, err := git.PlainOpen(root)
	if err != nil {
		t.Fatal(err)
	}
	head, _ := r.Head()
	c, err := r.CommitObject(head.Hash())
	if err != nil {
		t.Fatal(err)
	}
	stats, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) == 0 {
		t.Fatal("the delivery commit touches nothing")
	}
	for _, s := range stats {
		if !strings.HasPrefix(s.Name, "clusters/churn/") {
			t.Errorf("the delivery commit touches %s", s.Name)
		}
	}
	if !strings.Contains(c.Message, "slipway apply: churn staging") {
		t.Errorf("message %q", c.Message)
	}
}

// TestApplyOnArgo submits the changed pipeline's Workflow to an Argo
// Server (a fake one here) and follows it; the model its package step
// pushed and tagged with the run's name (pushed here by a local run, as the
// Argo step would) is then promoted.
func TestApplyOnArgo(t *testing.T) {
	_, dir := repo(t)
	edit(t, dir, "learningRate:        0.1", "learningRate:        0.05")
	h, err := registry.NewRegistry(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	reg := httptest.NewServer(h)
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	env := keyEnv(t)
	res, ds := compiler.Compile(context.Background(), compiler.Options{FS: os.DirFS(dir), Dir: ".", Root: dir})
	if res == nil {
		t.Fatal(ds)
	}
	out, err := pipeline.Run(context.Background(), pipeline.Options{Compiled: res, StateDir: t.TempDir(), Registry: host,
		Getenv: func(k string) string {
			if k == "SLIPWAY_RUN_NAME" {
				return "churn-abc"
			}
			return env(k)
		}})
	if err != nil || out.Err() != nil {
		t.Fatalf("the run standing in for the Argo steps: %v %v", err, out.Err())
	}
	var submitted []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/api/v1/workflows/ml":
			submitted, _ = io.ReadAll(r.Body)
			_, _ = w.Write([]byte(`{"metadata": {"name": "churn-abc", "namespace": "ml"}, "status": {"phase": "Running"}}`))
		case r.Method == http.MethodGet && r.URL.Path == "/api/v1/workflows/ml/churn-abc":
			_, _ = w.Write([]byte(`{"metadata": {"name": "churn-abc", "namespace": "ml"}, "status": {"phase": "Succeeded", "nodes": {"churn-abc.train": {"displayName": "train", "phase": "Succeeded"}}}}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ar, err := Apply(context.Background(), Options{Dir: dir, Base: "HEAD", StateDir: t.TempDir(), Registry: host,
		Argo: &argosubmit.Options{Server: srv.URL, Namespace: "ml", Poll: time.Millisecond, Parameters: map[string]string{"repo": "https://example.com/ml"}}})
	if err != nil {
		t.Fatal(err)
	}
	pr := ar.Pipelines[0]
	if pr.RunID != "churn-abc" || pr.Model != out.Published.Digest || len(pr.Promotions) != 1 {
		t.Errorf("argo apply: %+v, want model %s promoted to staging", pr, out.Published.Digest)
	}
	if !bytes.Contains(submitted, []byte(`"generateName":"churn-`)) || !bytes.Contains(submitted, []byte(`"workflowTemplateRef":{"name":"churn"}`)) {
		t.Errorf("submitted %s", submitted)
	}
	if champion(t, dir, "staging") != out.Published.Digest {
		t.Errorf("staging champion %q", champion(t, dir, "staging"))
	}
}

// TestApplyHelm installs the promoted release with Helm's SDK (in-memory
// releases, a fake cluster); a second apply leaves the release alone.
func TestApplyHelm(t *testing.T) {
	_, dir := repo(t)
	edit(t, dir, "learningRate:        0.1", "learningRate:        0.05")
	configs := map[string]*action.Configuration{}
	h := &HelmOptions{Atomic: true, Timeout: time.Minute, Config: func(ns string) *action.Configuration {
		if c, ok := configs[ns]; ok {
			return c
		}
		caps := chartutil.DefaultCapabilities.Copy()
		caps.KubeVersion = chartutil.KubeVersion{Version: "v1.30.0", Major: "1", Minor: "30"}
		c := &action.Configuration{Releases: storage.Init(driver.NewMemory()), Capabilities: caps,
			KubeClient: &kubefake.PrintingKubeClient{Out: io.Discard, LogOutput: io.Discard}}
		configs[ns] = c
		return c
	}}
	o := Options{Dir: dir, Base: "HEAD", StateDir: t.TempDir(), Getenv: keyEnv(t), Helm: h}
	res, err := Apply(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Pipelines[0].Delivered {
		t.Fatalf("not installed: %+v", res.Pipelines[0])
	}
	cfg := configs["ml-staging"]
	if cfg == nil {
		t.Fatal("nothing installed in ml-staging")
	}
	rel, err := cfg.Releases.Last("churn-staging")
	if err != nil || rel.Version != 1 || rel.Info.Status.String() != "deployed" {
		t.Fatalf("release: %v %v", rel, err)
	}
	if !strings.Contains(rel.Manifest, strings.TrimPrefix(res.Pipelines[0].Model, "sha256:")) {
		t.Error("the installed manifest does not name the promoted model")
	}
	if _, ok := configs["ml"]; ok {
		t.Error("production was installed without approval")
	}
}
