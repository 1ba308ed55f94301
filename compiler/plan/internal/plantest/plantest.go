// Package plantest builds plans from versions of the churn example for the
// tests of package plan and its views: it compiles a spec from memory, as
// the compiler reads a Git revision, and renders it with a stand-in for
// the backends, which compiler/ must not import. Its own tests check
// plan.Diff on compiled examples and on real Git repositories rendered by
// the real backends; they live here, apart from package plan's tests, so
// that the binary package plan fuzzes stays small.
package plantest

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/slipway-ml/slipway/compiler"
	"github.com/slipway-ml/slipway/compiler/canonical"
	"github.com/slipway-ml/slipway/compiler/diag"
	"github.com/slipway-ml/slipway/compiler/ir"
	"github.com/slipway-ml/slipway/compiler/plan"
)

var (
	exampleOnce    sync.Once
	churnSrc, data []byte
	exampleErr     error
)

// ExampleDir is the directory of the churn example.
func ExampleDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "examples", "churn")
}

// Churn returns the churn example's spec and data file.
func Churn(t testing.TB) (string, []byte) {
	t.Helper()
	exampleOnce.Do(func() {
		dir := ExampleDir()
		if churnSrc, exampleErr = os.ReadFile(filepath.Join(dir, "churn.cue")); exampleErr != nil {
			return
		}
		data, exampleErr = os.ReadFile(filepath.Join(dir, "data", "churn.csv"))
	})
	if exampleErr != nil {
		t.Fatal(exampleErr)
	}
	return string(churnSrc), data
}

// Edit replaces Old by New in a spec.
type Edit struct{ Old, New string }

// Edited applies the edits in order; each Old must occur in the spec.
func Edited(t testing.TB, src string, edits ...Edit) string {
	t.Helper()
	for _, e := range edits {
		if !strings.Contains(src, e.Old) {
			t.Fatalf("edit: %q is not in the spec", e.Old)
		}
		src = strings.Replace(src, e.Old, e.New, 1)
	}
	return src
}

// Compiled is one revision, compiled and rendered.
type Compiled struct {
	Program *ir.Program
	Diags   diag.Diagnostics
	Files   []plan.File
}

var (
	cacheMu sync.Mutex
	cache   = map[string]*Compiled{}
)

// Compile compiles a version of the churn package (its spec and data
// file) as examples/churn in a repository, and renders it.
func Compile(t testing.TB, src string, csv []byte) *Compiled {
	t.Helper()
	key := src + "\x00" + string(csv)
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if c, ok := cache[key]; ok {
		return c
	}
	fsys := fstest.MapFS{
		"examples/churn/churn.cue":      {Data: []byte(src)},
		"examples/churn/data/churn.csv": {Data: csv},
	}
	res, ds := compiler.Compile(context.Background(), compiler.Options{FS: fsys, Dir: "examples/churn", Root: "/repo"})
	if ds.HasErrors() || res == nil {
		t.Fatalf("compile:\n%s", (&diag.ListError{List: ds}).Error())
	}
	c := &Compiled{Program: res.Program, Diags: ds, Files: Render(t, res.Program)}
	cache[key] = c
	return c
}

// Render stands in for the backends: one file per pipeline with its
// triggers and steps as canonical JSON, and an index of the pipelines.
func Render(t testing.TB, prog *ir.Program) []plan.File {
	t.Helper()
	var files []plan.File
	var names []string
	for _, p := range prog.Pipelines {
		data, err := canonical.JSON(struct {
			Triggers ir.Triggers `json:"triggers"`
			Steps    []*ir.Step  `json:"steps"`
		}{p.Triggers, p.Steps})
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, plan.File{Path: "pipelines/" + p.Name + ".json", Data: data})
		names = append(names, p.Name)
	}
	files = append(files, plan.File{Path: "index.txt", Data: []byte(strings.Join(names, "\n") + "\n")})
	return files
}

// Inputs are fixed revisions for plans made in tests.
var Inputs = plan.Inputs{
	Base: plan.Revision{Ref: "origin/main", Commit: strings.Repeat("a", 40), LockDigest: "sha256:" + strings.Repeat("1", 64)},
	Head: plan.Revision{Ref: "HEAD", Commit: strings.Repeat("b", 40), LockDigest: "sha256:" + strings.Repeat("1", 64)},
}

// Diff makes the plan between two compiled revisions.
func Diff(base, head *Compiled, opts ...plan.Option) *plan.Plan {
	return plan.Diff(base.Program, head.Program, base.Files, head.Files, Inputs, opts...)
}

// Lite is a second, small pipeline to append to the churn spec.
const Lite = `
pipelines: lite: {
	datasets: customers: {
		source: "data/churn.csv"
		columns: {
			total_day_minutes: {type: "float", min: 0}
			churn: {type: "category", values: ["no", "yes"]}
		}
	}
	features: {dataset: "customers", label: "churn", positive: "yes"}
	training: model: "logistic"
	gates: auc: {metric: "roc_auc", min: 0.7}
}
`

// Common edits of the churn spec.
var (
	LearningRate = Edit{"learningRate:        0.1", "learningRate:        0.05"}
	CanaryWeight = Edit{"weight: 10,", "weight: 25,"}
	Schedule     = Edit{`schedule: "0 3 * * 1"`, `schedule: "0 4 * * *"`}
	GateMin      = Edit{`min: 0.85`, `min: 0.9`}
	Description  = Edit{"Predict which telecom customers will churn.", "Predict churn."}
	NoApproval   = Edit{"approval:     true\n", ""}
)

// Big is a plan that changes much at once: the churn pipeline retrains
// (learning rate), redeploys (canary weight), changes its schedule, a gate
// and gets a policy warning (no approval); pipeline lite is removed and
// lite2 added.
func Big(t testing.TB) *plan.Plan {
	t.Helper()
	src, data := Churn(t)
	base := Compile(t, src+Lite, data)
	lite2 := strings.Replace(Lite, "pipelines: lite:", "pipelines: lite2:", 1)
	head := Compile(t, Edited(t, src, LearningRate, CanaryWeight, Schedule, GateMin, NoApproval)+lite2, data)
	return Diff(base, head, plan.WithDiagnostics(base.Diags, head.Diags))
}
