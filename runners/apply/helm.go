package apply

import (
	"context"
	"fmt"
	"time"

	"helm.sh/helm/v3/pkg/action"

	"github.com/slipway-ml/slipway/compiler"
	"github.com/slipway-ml/slipway/compiler/ir"
	"github.com/slipway-ml/slipway/compiler/spec"
	"github.com/slipway-ml/slipway/runners/helmdeploy"
)

// HelmOptions configure direct installs with Helm's SDK.
type HelmOptions struct {
	// Kubeconfig and KubeContext select the cluster; empty means
	// $KUBECONFIG (or ~/.kube/config) and its current context.
	Kubeconfig, KubeContext string
	// Atomic rolls a failed upgrade back. Timeout bounds the wait.
	Atomic  bool
	Timeout time.Duration
	// Config, when set, gives the Helm configuration of a namespace
	// (tests: in-memory releases and a fake cluster).
	Config func(namespace string) *action.Configuration
}

func fromSpec(h *spec.Helm) *HelmOptions {
	o := &HelmOptions{KubeContext: h.KubeContext, Atomic: h.Atomic}
	if d, err := time.ParseDuration(h.Timeout); err == nil {
		o.Timeout = d
	}
	return o
}

// install runs `helm upgrade --install` for each promoted environment.
func (o Options) install(ctx context.Context, res *compiler.Result, name string, files []File, envs []string, h *HelmOptions) (bool, error) {
	hf := make([]helmdeploy.File, len(files))
	for i, f := range files {
		hf[i] = helmdeploy.File{Path: f.Path, Data: f.Data}
	}
	changed := false
	for _, env := range envs {
		dp, err := deployParams(res.Program, name, env)
		if err != nil {
			return changed, err
		}
		ho := helmdeploy.Options{Files: hf, Release: dp.Release, Namespace: dp.Namespace, ValuesFile: "values-" + env + ".yaml",
			Kubeconfig: h.Kubeconfig, KubeContext: h.KubeContext, Atomic: h.Atomic, Timeout: h.Timeout, Wait: true,
			CreateNamespace: true, Log: o.Log}
		if h.Config != nil {
			ho.Config = h.Config(dp.Namespace)
		}
		r, err := helmdeploy.Install(ctx, ho)
		if err != nil {
			return changed, fmt.Errorf("apply %s: %w", name, err)
		}
		o.Log("%s: helm release %s in %s: revision %d, %s", name, r.Release, r.Namespace, r.Revision, r.Status)
		changed = changed || r.Changed
	}
	return changed, nil
}

// deployParams finds an environment's deploy step parameters.
func deployParams(prog *ir.Program, pipeline, env string) (ir.DeployParams, error) {
	for _, p := range prog.Pipelines {
		if p.Name != pipeline {
			continue
		}
		for _, s := range p.Steps {
			if s.Kind != ir.KindDeploy || s.Environment != env {
				continue
			}
			if dp, ok := s.Params.(ir.DeployParams); ok {
				return dp, nil
			}
		}
	}
	return ir.DeployParams{}, fmt.Errorf("apply %s: no deploy step for environment %s", pipeline, env)
}
