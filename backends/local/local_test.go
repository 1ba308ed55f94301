package local_test

import (
	"encoding/json"
	"flag"
	"path/filepath"
	"slices"
	"testing"

	"github.com/slipway-ml/slipway/backends/backendtest"
	"github.com/slipway-ml/slipway/backends/local"
	"github.com/slipway-ml/slipway/compiler/compilertest"
	"github.com/slipway-ml/slipway/compiler/ir"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestGoldenPlans(t *testing.T) {
	for _, dir := range compilertest.Examples(t, "../../examples") {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			prog := compilertest.Compile(t, dir).Program
			files, err := local.New().Render(prog)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]byte{}
			for _, f := range files {
				got[f.Path] = f.Data
			}
			compilertest.Golden(t, filepath.Join("testdata", name+".txtar"),
				"Local execution plans of examples/"+name+"; rewrite with `make golden`.", got, *update)
		})
	}
}

func TestConformance(t *testing.T) {
	for _, dir := range compilertest.Examples(t, "../../examples") {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			backendtest.Run(t, local.New(), compilertest.Compile(t, dir).Program)
		})
	}
}

// TestPlanOrder checks that the plan's stages respect every dependency and
// hold every step once.
func TestPlanOrder(t *testing.T) {
	prog := compilertest.Compile(t, "../../examples/churn").Program
	files, err := local.New().Render(prog)
	if err != nil {
		t.Fatal(err)
	}
	var plan struct {
		Stages [][]string `json:"stages"`
		Steps  []ir.Step  `json:"steps"`
	}
	if err := json.Unmarshal(files[0].Data, &plan); err != nil {
		t.Fatal(err)
	}
	stageOf := map[string]int{}
	for i, st := range plan.Stages {
		for _, id := range st {
			if _, dup := stageOf[id]; dup {
				t.Fatalf("%s in two stages", id)
			}
			stageOf[id] = i
		}
	}
	if len(stageOf) != len(plan.Steps) {
		t.Fatalf("stages hold %d steps, plan has %d", len(stageOf), len(plan.Steps))
	}
	for _, s := range plan.Steps {
		for _, d := range s.DependsOn {
			if stageOf[d] >= stageOf[s.ID] {
				t.Errorf("%s (stage %d) depends on %s (stage %d)", s.ID, stageOf[s.ID], d, stageOf[d])
			}
		}
	}
	// Training comes after features, and deployment to production after staging.
	for _, pair := range [][2]string{{"churn/features", "churn/train"}, {"churn/deploy-staging", "churn/deploy-production"}, {"churn/evaluate", "churn/package"}} {
		if stageOf[pair[0]] >= stageOf[pair[1]] {
			t.Errorf("%s should run before %s", pair[0], pair[1])
		}
	}
	if !slices.Equal(plan.Stages[0], []string{"churn/fetch-customers"}) {
		t.Errorf("first stage = %v", plan.Stages[0])
	}
}
