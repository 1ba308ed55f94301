package compiler_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/slipway-ml/slipway/compiler"
	"github.com/slipway-ml/slipway/compiler/ir"
	"github.com/slipway-ml/slipway/compiler/policy"
)

// readExample returns the files of an example as a MapFS.
func readExample(t testing.TB, name string) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	root := filepath.Join("..", "examples", name)
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fsys[filepath.ToSlash(rel)] = &fstest.MapFile{Data: data}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

func compileFS(t testing.TB, fsys fstest.MapFS) *compiler.Result {
	t.Helper()
	res, ds := compiler.Compile(context.Background(), compiler.Options{FS: fsys, Root: "/x"})
	if res == nil {
		t.Fatalf("compile: %v", ds)
	}
	return res
}

func keys(res *compiler.Result) map[string]string {
	m := map[string]string{}
	for _, p := range res.Program.Pipelines {
		for _, s := range p.Steps {
			m[s.ID] = s.CacheKey
		}
	}
	return m
}

// TestCacheKeys checks that a change invalidates exactly the steps
// downstream of it.
func TestCacheKeys(t *testing.T) {
	base := readExample(t, "churn")
	before := keys(compileFS(t, base))

	edit := func(old, new string) fstest.MapFS {
		fsys := fstest.MapFS{}
		for k, v := range base {
			fsys[k] = &fstest.MapFile{Data: v.Data}
		}
		src := string(fsys["churn.cue"].Data)
		if !strings.Contains(src, old) {
			t.Fatalf("example has no %q", old)
		}
		fsys["churn.cue"].Data = []byte(strings.Replace(src, old, new, 1))
		return fsys
	}
	tests := []struct {
		name         string
		old, new     string
		changed      []string
		unchangedAny []string
	}{
		{"learning rate", "learningRate:        0.1", "learningRate:        0.05",
			[]string{"churn/train", "churn/evaluate", "churn/package", "churn/deploy-staging", "churn/deploy-production"},
			[]string{"churn/fetch-customers", "churn/validate-customers", "churn/features"}},
		{"gate threshold", "min: 0.85", "min: 0.80",
			[]string{"churn/evaluate", "churn/package"},
			[]string{"churn/fetch-customers", "churn/features", "churn/train"}},
		{"canary", "weight: 10,", "weight: 25,",
			[]string{"churn/deploy-production"},
			[]string{"churn/train", "churn/evaluate", "churn/deploy-staging", "churn/package"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			after := keys(compileFS(t, edit(tt.old, tt.new)))
			for _, id := range tt.changed {
				if before[id] == after[id] {
					t.Errorf("%s: cache key unchanged", id)
				}
			}
			for _, id := range tt.unchangedAny {
				if before[id] != after[id] {
					t.Errorf("%s: cache key changed", id)
				}
			}
		})
	}

	// Changing the data changes every step that reads it.
	data := fstest.MapFS{}
	for k, v := range base {
		data[k] = &fstest.MapFile{Data: v.Data}
	}
	data["data/churn.csv"].Data = append(append([]byte(nil), base["data/churn.csv"].Data...), []byte(`"KS",1,"area_code_415","no","no",0,1,1,1,1,1,1,1,1,1,1,1,1,1,"no"`+"\n")...)
	after := keys(compileFS(t, data))
	for id, k := range before {
		if after[id] == k && !strings.Contains(id, "retrain") {
			t.Errorf("%s: cache key unchanged after the data changed", id)
		}
	}
}

// TestTopologicalOrder checks every step comes after its dependencies.
func TestTopologicalOrder(t *testing.T) {
	for _, name := range []string{"churn", "churn-gpu", "minimal"} {
		res := compileFS(t, readExample(t, name))
		for _, p := range res.Program.Pipelines {
			seen := map[string]bool{}
			for _, s := range p.Steps {
				for _, d := range s.DependsOn {
					if !seen[d] {
						t.Errorf("%s: %s runs before its dependency %s", name, s.ID, d)
					}
				}
				seen[s.ID] = true
			}
		}
	}
}

// TestGPUStep checks that the GPU example's request reaches the IR.
func TestGPUStep(t *testing.T) {
	res := compileFS(t, readExample(t, "churn-gpu"))
	var train *ir.Step
	for _, s := range res.Program.Pipelines[0].Steps {
		if s.Kind == ir.KindTrain {
			train = s
		}
	}
	if train == nil || train.Resources.GPU == nil || train.Resources.GPU.Count != 1 || train.Resources.GPU.Type != "nvidia-h100" {
		t.Fatalf("train step resources = %+v", train)
	}
	if p := train.Params.(ir.TrainParams); p.Device != "gpu" || p.MLP == nil || p.MLP.HiddenUnits[0] != 256 {
		t.Fatalf("train params = %+v", p)
	}
}

// TestDefaults checks the peers' defaults are applied where the spec is
// silent (XGBoost's for gbdt).
func TestDefaults(t *testing.T) {
	res := compileFS(t, readExample(t, "minimal"))
	p := res.Spec.Pipelines["minimal"]
	g := p.Training.GBDT
	if g == nil || g.Trees != 100 || g.LearningRate != 0.3 || g.MaxDepth != 6 || g.MaxBin != 256 || g.Lambda != 1 || g.MinChildWeight != 1 {
		t.Fatalf("gbdt defaults = %+v", g)
	}
	if s := p.Training.Split; s.Test != 0.2 || s.Validation != 0.1 || !s.Stratified {
		t.Fatalf("split defaults = %+v", s)
	}
}

// TestNoPolicies checks that an empty policy list runs none, while nil runs
// the default pack.
func TestNoPolicies(t *testing.T) {
	fsys := fstest.MapFS{"p.cue": {Data: []byte(`package p
pipelines: p: {
	datasets: d: {source: "d.csv", columns: {x: type: "float", y: type: "bool"}}
	features: {dataset: "d", label: "y"}
	training: model: "logistic"
	gates: g: {metric: "roc_auc", min: 0.5}
	deploy: environments: production: {}
}
`)}}
	if res, _ := compiler.Compile(context.Background(), compiler.Options{FS: fsys, Root: "/x"}); res != nil {
		t.Error("default pack: an unsigned production deployment compiled")
	}
	if res, ds := compiler.Compile(context.Background(), compiler.Options{FS: fsys, Root: "/x", Policies: []policy.Pack{}}); res == nil {
		t.Errorf("no packs: %v", ds)
	}
}

// FuzzCompile feeds arbitrary CUE to the loader, validator and IR builder:
// nothing may panic, and what compiles must render the same twice.
func FuzzCompile(f *testing.F) {
	for _, name := range []string{"churn", "churn-gpu", "minimal"} {
		src, err := os.ReadFile(filepath.Join("..", "examples", name, strings.ReplaceAll(name, "-", "_")+".cue"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(src))
	}
	if cases, err := filepath.Glob(filepath.Join("..", "testdata", "invalid", "*.txtar")); err == nil {
		for _, c := range cases {
			data, err := os.ReadFile(c)
			if err != nil {
				f.Fatal(err)
			}
			if _, after, ok := strings.Cut(string(data), "-- spec.cue --\n"); ok {
				spec, _, _ := strings.Cut(after, "\n-- ")
				f.Add(spec)
			}
		}
	}
	f.Add("package x\npipelines: a: steps: b: inputs: [\"step/b/o\"]")
	f.Fuzz(func(t *testing.T, src string) {
		fsys := fstest.MapFS{"spec.cue": {Data: []byte(src)}}
		res, ds := compiler.Compile(context.Background(), compiler.Options{FS: fsys, Root: "/fuzz"})
		if res == nil && !ds.HasErrors() {
			t.Fatal("no result and no error")
		}
		for _, d := range ds {
			if d.Message == "" {
				t.Fatalf("diagnostic without a message: %+v", d)
			}
		}
	})
}

// TestImageDigest checks that a runtime image the lock records by digest
// is run by digest, and that the digest feeds the cache keys.
func TestImageDigest(t *testing.T) {
	fsys := readExample(t, "minimal")
	before := compileFS(t, fsys)
	d := "sha256:" + strings.Repeat("ab", 32)
	fsys["slipway.lock"] = &fstest.MapFile{Data: []byte(`{"version": 1, "images": {"ghcr.io/slipway-ml/slipway:v0.1.0": "` + d + `"}}`)}
	after := compileFS(t, fsys)
	for i, s := range after.Program.Pipelines[0].Steps {
		if want := "ghcr.io/slipway-ml/slipway:v0.1.0@" + d; s.Image != want {
			t.Errorf("%s runs %s, want %s", s.ID, s.Image, want)
		}
		if old := before.Program.Pipelines[0].Steps[i]; old.Image != "ghcr.io/slipway-ml/slipway:v0.1.0" {
			t.Errorf("without a lock, %s runs %s", old.ID, old.Image)
		}
	}
}
