package apply

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/slipway-ml/slipway/backends/output"
	"github.com/slipway-ml/slipway/compiler"
	"github.com/slipway-ml/slipway/compiler/ir"
	"github.com/slipway-ml/slipway/compiler/lock"
	"github.com/slipway-ml/slipway/runners/artifact"
	"github.com/slipway-ml/slipway/runners/artifact/store"
	"github.com/slipway-ml/slipway/runners/local"
	"github.com/slipway-ml/slipway/runners/pipeline"
	"github.com/slipway-ml/slipway/runners/steps"
)

// Release is a deploy step's output, release.json.
type Release struct {
	// Environment is where the model now serves; Model its digest.
	Environment string `json:"environment"`
	Model       string `json:"model"`
}

// DeployStep runs a deploy step by itself (`slipway step PIPELINE
// deploy-ENV`, what the GitHub Actions and Argo targets run once the
// environment's approval and promoteAfter order are met): it makes the
// packaged model the environment's champion in slipway.lock and delivers
// the charts as the spec's deploy.delivery says.
type DeployStep struct {
	// Options are apply's (state directory, Helm and GitOps overrides).
	Options Options
	// Compiled is the compiled package.
	Compiled *compiler.Result
}

// Execute promotes and delivers.
func (d *DeployStep) Execute(ctx context.Context, sc *local.StepContext) error {
	env := sc.Step.Environment
	dir, ok := sc.Inputs["package"]
	if !ok {
		return fmt.Errorf("step %s has no package input", sc.Step.ID)
	}
	var pkg steps.Package
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		return fmt.Errorf("read package.json: %w", err)
	}
	var metrics map[string]float64
	if st, err := store.Open(filepath.Join(d.Options.StateDir, "oci")); err == nil {
		if art, err := st.Get(pkg.Name + "@" + pkg.Digest); err == nil {
			if mf, err := art.ManifestOf(); err == nil {
				metrics, _ = artifact.ParseMetrics(mf.Annotations[artifact.AnnotationMetrics])
			}
		}
	}
	lockPath := filepath.Join(d.Compiled.Dir, lock.Filename)
	l, err := pipeline.ReadLockFile(lockPath)
	if err != nil {
		return err
	}
	old, _ := l.Champion(sc.Pipeline.Name, env)
	pr := &PipelineResult{Name: sc.Pipeline.Name, Model: pkg.Digest}
	if l.Promote(sc.Pipeline.Name, env, lock.Champion{Digest: pkg.Digest, Metrics: metrics}) {
		if err := pipeline.WriteLockFile(lockPath, l); err != nil {
			return err
		}
		pr.Promotions = []Promotion{{Environment: env, From: old.Digest, To: pkg.Digest}}
		sc.Logf("%s now serves %s (was %q)", env, pkg.Digest, old.Digest)
		o := d.Options
		o.Log = func(format string, args ...any) { sc.Logf(format, args...) }
		if pr.Delivered, err = o.deliver(ctx, d.Compiled, sc.Pipeline.Name, pr); err != nil {
			return err
		}
	} else {
		sc.Logf("%s already serves %s", env, pkg.Digest)
	}
	out, ok := sc.Outputs["release/"+env]
	if !ok {
		return fmt.Errorf("step %s has no release/%s output", sc.Step.ID, env)
	}
	rb, err := json.MarshalIndent(Release{Environment: env, Model: pkg.Digest}, "", "  ")
	if err != nil {
		return err
	}
	return output.WriteFile(filepath.Join(out, "release.json"), append(rb, '\n'))
}

// Executors returns the deploy step's executor, for `slipway step`.
func Executors(o Options, res *compiler.Result) map[ir.Kind]local.Executor {
	if o.StateDir == "" {
		o.StateDir = ".slipway"
	}
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	return map[ir.Kind]local.Executor{ir.KindDeploy: &DeployStep{Options: o, Compiled: res}}
}
