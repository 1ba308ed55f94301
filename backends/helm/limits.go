package helm

import (
	"github.com/slipway-ml/slipway/backends"
	"github.com/slipway-ml/slipway/compiler/ir"
)

// Limitations reports what the chart cannot express: a shadow rollout
// mirrors live traffic to the new model, which needs a service mesh or an
// ingress that can mirror; plain Deployments and a Service cannot.
func (*Backend) Limitations(prog *ir.Program) []backends.Limitation {
	var out []backends.Limitation
	for _, p := range prog.Pipelines {
		for _, s := range p.Steps {
			dp, ok := s.Params.(ir.DeployParams)
			if !ok || dp.Rollout.Strategy != "shadow" {
				continue
			}
			out = append(out, backends.Limitation{
				Path:    []string{"pipelines", p.Name, "deploy", "environments", s.Environment, "rollout", "strategy"},
				Message: "the helm target cannot mirror traffic for a shadow rollout (it needs a service mesh); use \"canary\" or \"rolling\" for this environment",
			})
		}
	}
	return out
}
