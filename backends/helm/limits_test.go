package helm

import (
	"strings"
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

func TestServiceURL(t *testing.T) {
	for _, tc := range []struct{ pipeline, release, namespace, want string }{
		{"churn", "churn-staging", "ml-staging", "http://churn-staging.ml-staging.svc"},
		{"churn", "prod", "ml", "http://churn-prod.ml.svc"},
		{"churn", "churn", "", "http://churn.default.svc"},
		{"churn", strings.Repeat("r", 60), "ml", "http://churn-" + strings.Repeat("r", 50) + ".ml.svc"},
	} {
		if got := ServiceURL(tc.pipeline, tc.release, tc.namespace); got != tc.want {
			t.Errorf("ServiceURL(%q, %q, %q) = %q, want %q", tc.pipeline, tc.release, tc.namespace, got, tc.want)
		}
	}
}
