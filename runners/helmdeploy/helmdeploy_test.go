package helmdeploy_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/kube"
	kubefake "helm.sh/helm/v3/pkg/kube/fake"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"

	"github.com/slipway-ml/slipway/backends/helm"
	"github.com/slipway-ml/slipway/compiler"
	"github.com/slipway-ml/slipway/runners/helmdeploy"
)

var (
	churnOnce  sync.Once
	churnFiles []helmdeploy.File
	churnErr   error
)

// churn renders the chart of the churn example's deploying pipeline, with
// paths relative to the chart root.
func churn(t *testing.T) []helmdeploy.File {
	t.Helper()
	churnOnce.Do(func() {
		dir, err := filepath.Abs(filepath.Join("..", "..", "examples", "churn"))
		if err != nil {
			churnErr = err
			return
		}
		res, ds := compiler.Compile(context.Background(), compiler.Options{FS: os.DirFS(dir), Dir: ".", Root: dir})
		if res == nil {
			churnErr = ds.Err()
			return
		}
		for _, p := range res.Program.Pipelines {
			files, err := helm.Chart(res.Program, p)
			if err != nil {
				churnErr = err
				return
			}
			prefix := "helm/" + p.Name + "/"
			for _, f := range files {
				rel, ok := strings.CutPrefix(f.Path, prefix)
				if !ok {
					churnErr = errors.New("chart file outside " + prefix + ": " + f.Path)
					return
				}
				churnFiles = append(churnFiles, helmdeploy.File{Path: rel, Data: f.Data})
			}
		}
		if len(churnFiles) == 0 {
			churnErr = errors.New("the churn example renders no chart")
		}
	})
	if churnErr != nil {
		t.Fatal(churnErr)
	}
	return clone(churnFiles)
}

func clone(fs []helmdeploy.File) []helmdeploy.File {
	out := make([]helmdeploy.File, len(fs))
	for i, f := range fs {
		out[i] = helmdeploy.File{Path: f.Path, Data: bytes.Clone(f.Data)}
	}
	return out
}

// config is a Helm configuration with in-memory releases, kc as the
// cluster, and a Kubernetes version the chart supports.
func config(kc kube.Interface) *action.Configuration {
	caps := chartutil.DefaultCapabilities.Copy()
	caps.KubeVersion = chartutil.KubeVersion{Version: "v1.30.0", Major: "1", Minor: "30"}
	return &action.Configuration{
		Releases:     storage.Init(driver.NewMemory()),
		KubeClient:   kc,
		Capabilities: caps,
	}
}

func printing() *kubefake.PrintingKubeClient {
	return &kubefake.PrintingKubeClient{Out: io.Discard, LogOutput: io.Discard}
}

func opts(cfg *action.Configuration, files []helmdeploy.File) helmdeploy.Options {
	return helmdeploy.Options{Files: files, Release: "churn", Namespace: "ml-staging",
		ValuesFile: "values-staging.yaml", Config: cfg}
}

func status(t *testing.T, cfg *action.Configuration, rev int) release.Status {
	t.Helper()
	r, err := cfg.Releases.Get("churn", rev)
	if err != nil {
		t.Fatalf("revision %d: %v", rev, err)
	}
	return r.Info.Status
}

func TestInstallUpgrade(t *testing.T) {
	ctx := context.Background()
	cfg := config(printing())
	files := churn(t)

	res, err := helmdeploy.Install(ctx, opts(cfg, files))
	if err != nil {
		t.Fatal(err)
	}
	want := helmdeploy.Result{Release: "churn", Namespace: "ml-staging", Revision: 1, Status: "deployed", Changed: true}
	if *res != want {
		t.Fatalf("first install: got %+v, want %+v", *res, want)
	}
	rel, err := cfg.Releases.Last("churn")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rel.Manifest, "kind: Deployment") {
		t.Fatalf("revision 1 manifest has no Deployment:\n%s", rel.Manifest)
	}

	res, err = helmdeploy.Install(ctx, opts(cfg, churn(t)))
	if err != nil {
		t.Fatal(err)
	}
	want.Changed = false
	if *res != want {
		t.Fatalf("identical install: got %+v, want %+v", *res, want)
	}
	if _, err := cfg.Releases.Get("churn", 2); err == nil {
		t.Fatal("identical install created revision 2")
	}

	changed := churn(t)
	edited := false
	for i, f := range changed {
		if f.Path == "values-staging.yaml" && bytes.Contains(f.Data, []byte("replicas: 1\n")) {
			changed[i].Data = bytes.Replace(f.Data, []byte("replicas: 1\n"), []byte("replicas: 3\n"), 1)
			edited = true
		}
	}
	if !edited {
		t.Fatal("values-staging.yaml sets no replicas: 1")
	}
	res, err = helmdeploy.Install(ctx, opts(cfg, changed))
	if err != nil {
		t.Fatal(err)
	}
	want = helmdeploy.Result{Release: "churn", Namespace: "ml-staging", Revision: 2, Status: "deployed", Changed: true}
	if *res != want {
		t.Fatalf("changed values: got %+v, want %+v", *res, want)
	}
	if r2, err := cfg.Releases.Get("churn", 2); err != nil || !strings.Contains(r2.Manifest, "replicas: 3") {
		t.Fatalf("revision 2 does not deploy 3 replicas (%v)", err)
	}
	if s := status(t, cfg, 1); s != release.StatusSuperseded {
		t.Fatalf("revision 1 is %s, want superseded", s)
	}

	o := opts(cfg, churn(t))
	o.ValuesFile = "values-production.yaml"
	res, err = helmdeploy.Install(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Revision != 3 || !res.Changed {
		t.Fatalf("production values: got %+v, want revision 3, changed", *res)
	}
	last, err := cfg.Releases.Last("churn")
	if err != nil {
		t.Fatal(err)
	}
	if last.Manifest == rel.Manifest {
		t.Fatal("production values rendered the staging manifest")
	}
}

// flaky fails its first Update calls, as a cluster that drops a connection.
type flaky struct {
	*kubefake.FailingKubeClient
	fails int
}

func (f *flaky) Update(original, target kube.ResourceList, force bool) (*kube.Result, error) {
	if f.fails > 0 {
		f.fails--
		return &kube.Result{}, errors.New("connection refused")
	}
	return f.FailingKubeClient.Update(original, target, force)
}

func TestAtomicUpgradeRollsBack(t *testing.T) {
	ctx := context.Background()
	kc := &flaky{FailingKubeClient: &kubefake.FailingKubeClient{PrintingKubeClient: *printing()}}
	cfg := config(kc)
	if _, err := helmdeploy.Install(ctx, opts(cfg, churn(t))); err != nil {
		t.Fatal(err)
	}
	o := opts(cfg, churn(t))
	o.ValuesFile = "values-production.yaml"
	o.Atomic = true
	kc.fails = 1
	res, err := helmdeploy.Install(ctx, o)
	if err == nil {
		t.Fatalf("failing upgrade succeeded: %+v", res)
	}
	for _, s := range []string{`release "churn"`, `namespace "ml-staging"`, "connection refused", "rolled back"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
	for rev, want := range map[int]release.Status{1: release.StatusSuperseded, 2: release.StatusFailed, 3: release.StatusDeployed} {
		if s := status(t, cfg, rev); s != want {
			t.Errorf("revision %d is %s, want %s", rev, s, want)
		}
	}
	r1, _ := cfg.Releases.Get("churn", 1)
	r3, _ := cfg.Releases.Get("churn", 3)
	if r3.Manifest != r1.Manifest {
		t.Error("the rollback did not restore revision 1's manifest")
	}
}

func TestFailures(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("the API server refused the request")
	tests := []struct {
		name   string
		atomic bool
		want   []string
		left   release.Status // the status of revision 1 left behind, "" for none
	}{
		{"wait fails", false, []string{"install", boom.Error()}, release.StatusFailed},
		{"atomic install is uninstalled", true, []string{"uninstalled due to atomic", boom.Error()}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config(&kubefake.FailingKubeClient{PrintingKubeClient: *printing(), WaitError: boom})
			o := opts(cfg, churn(t))
			o.Wait = true
			o.Atomic = tc.atomic
			res, err := helmdeploy.Install(ctx, o)
			if err == nil {
				t.Fatalf("succeeded: %+v", res)
			}
			for _, s := range append(tc.want, `release "churn" in namespace "ml-staging"`) {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			var left release.Status
			if r, err := cfg.Releases.Last("churn"); err == nil {
				left = r.Info.Status
			}
			if left != tc.left {
				t.Errorf("release left with status %q, want %q", left, tc.left)
			}
		})
	}
}

func TestRefused(t *testing.T) {
	ctx := context.Background()
	without := func(name string) []helmdeploy.File {
		var out []helmdeploy.File
		for _, f := range churn(t) {
			if f.Path != name {
				out = append(out, f)
			}
		}
		return out
	}
	prefixed := churn(t)
	for i := range prefixed {
		prefixed[i].Path = "helm/churn/" + prefixed[i].Path
	}
	badMeta := churn(t)
	for i, f := range badMeta {
		if f.Path == "Chart.yaml" {
			badMeta[i].Data = []byte("apiVersion: v2\nname: churn\n")
		}
	}
	tests := []struct {
		name string
		edit func(*helmdeploy.Options)
		want string
	}{
		{"missing Chart.yaml", func(o *helmdeploy.Options) { o.Files = without("Chart.yaml") }, "no Chart.yaml"},
		{"prefixed paths", func(o *helmdeploy.Options) { o.Files = prefixed }, "relative to the chart root"},
		{"chart without version", func(o *helmdeploy.Options) { o.Files = badMeta }, "version"},
		{"escaping path", func(o *helmdeploy.Options) {
			o.Files = append(o.Files, helmdeploy.File{Path: "../x.yaml", Data: []byte("a: 1")})
		}, "clean path inside"},
		{"absolute path", func(o *helmdeploy.Options) {
			o.Files = append(o.Files, helmdeploy.File{Path: "/x.yaml"})
		}, "absolute"},
		{"duplicate file", func(o *helmdeploy.Options) {
			o.Files = append(o.Files, helmdeploy.File{Path: "Chart.yaml"})
		}, "given twice"},
		{"missing values file", func(o *helmdeploy.Options) { o.ValuesFile = "values-qa.yaml" }, "not among"},
		{"bad values", func(o *helmdeploy.Options) {
			o.Files = append(without("values-staging.yaml"), helmdeploy.File{Path: "values-staging.yaml", Data: []byte("- a\n- b\n")})
		}, "values-staging.yaml"},
		{"bad release name", func(o *helmdeploy.Options) { o.Release = "Churn_Model" }, "release name"},
		{"no namespace", func(o *helmdeploy.Options) { o.Namespace = "" }, "no namespace"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config(printing())
			o := opts(cfg, churn(t))
			tc.edit(&o)
			res, err := helmdeploy.Install(ctx, o)
			if err == nil {
				t.Fatalf("accepted: %+v", res)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			if rs, _ := cfg.Releases.ListReleases(); len(rs) != 0 {
				t.Errorf("a refused chart left %d releases", len(rs))
			}
		})
	}
}

func TestReinstallAfterUninstall(t *testing.T) {
	ctx := context.Background()
	cfg := config(printing())
	if _, err := helmdeploy.Install(ctx, opts(cfg, churn(t))); err != nil {
		t.Fatal(err)
	}
	un := action.NewUninstall(cfg)
	un.KeepHistory = true
	if _, err := un.Run("churn"); err != nil {
		t.Fatal(err)
	}
	res, err := helmdeploy.Install(ctx, opts(cfg, churn(t)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Revision != 2 || res.Status != "deployed" || !res.Changed {
		t.Fatalf("reinstall: got %+v, want revision 2 deployed, changed", *res)
	}
}

func FuzzLoad(f *testing.F) {
	f.Add("Chart.yaml", []byte("apiVersion: v2\nname: x\nversion: 0.1.0\n"), "values.yaml", []byte("a: 1\n"))
	f.Add("../Chart.yaml", []byte("name: x"), "values.yaml", []byte("- 1"))
	f.Add("templates/a.yaml", []byte("{{ .Values.a }}"), "/abs", []byte(":"))
	f.Fuzz(func(t *testing.T, p1 string, d1 []byte, p2 string, d2 []byte) {
		files := []helmdeploy.File{{Path: p1, Data: d1}, {Path: p2, Data: d2}}
		ch, vals, err := helmdeploy.Load(files, p2)
		if err != nil {
			if ch != nil || vals != nil {
				t.Fatalf("error %v with a result", err)
			}
			return
		}
		if ch == nil || ch.Metadata == nil || vals == nil {
			t.Fatal("no error and no chart")
		}
		if p1 != "Chart.yaml" && p2 != "Chart.yaml" {
			t.Fatalf("loaded without Chart.yaml: %q %q", p1, p2)
		}
	})
}
