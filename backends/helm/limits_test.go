package helm

import (
	"testing"

	"github.com/slipway-ml/slipway/compiler/ir"
	"github.com/slipway-ml/slipway/compiler/spec"
)

func TestLimitations(t *testing.T) {
	env := func(name, strategy string) *ir.Step {
		e := spec.Environment{Name: name, Rollout: spec.Rollout{Strategy: strategy}}
		return &ir.Step{ID: "p/deploy-" + name, Name: "deploy-" + name, Kind: ir.KindDeploy, Environment: name,
			Params: ir.DeployParams{Environment: e, Release: "p-" + name}}
	}
	prog := &ir.Program{Pipelines: []*ir.Pipeline{{Name: "p", Steps: []*ir.Step{env("staging", "rolling"), env("shadowed", "shadow"), env("production", "canary")}}}}
	got := New().Limitations(prog)
	if len(got) != 1 {
		t.Fatalf("limitations = %+v, want one for the shadow environment", got)
	}
	want := []string{"pipelines", "p", "deploy", "environments", "shadowed", "rollout", "strategy"}
	for i, l := range want {
		if got[0].Path[i] != l {
			t.Fatalf("path = %v, want %v", got[0].Path, want)
		}
	}
}
