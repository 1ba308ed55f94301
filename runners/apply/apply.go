// Package apply carries out a plan: it refuses a plan whose inputs changed
// since it was made, runs the pipelines the plan changes (the local
// runner: train, evaluate and gate against the champion, pack, sign and
// push), promotes the new model through the environments in their
// promoteAfter order by recording it as the champion in slipway.lock, and
// delivers the rendered Helm charts to a GitOps folder or repository. A
// lock per pipeline keeps two applies from interleaving, and an apply of a
// state already applied changes nothing.
package apply

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/slipway-ml/slipway/backends/argo"
	"github.com/slipway-ml/slipway/backends/helm"
	"github.com/slipway-ml/slipway/compiler"
	"github.com/slipway-ml/slipway/compiler/lock"
	"github.com/slipway-ml/slipway/compiler/plan"
	"github.com/slipway-ml/slipway/compiler/spec"
	"github.com/slipway-ml/slipway/runners/argosubmit"
	"github.com/slipway-ml/slipway/runners/artifact"
	"github.com/slipway-ml/slipway/runners/artifact/remote"
	"github.com/slipway-ml/slipway/runners/local"
	"github.com/slipway-ml/slipway/runners/pipeline"
	"github.com/slipway-ml/slipway/runners/plans"
	"github.com/slipway-ml/slipway/runners/steps"
)

// File is a rendered file to deliver.
type File struct {
	// Path is slash-separated, relative to the delivery folder.
	Path string
	// Data is the content.
	Data []byte
}

// Deliverer commits rendered files for one pipeline; it reports whether
// anything changed. package gitops provides one.
type Deliverer func(ctx context.Context, pipeline string, files []File, message string) (changed bool, err error)

// Options configure an apply.
type Options struct {
	// Plan is the saved plan; nil makes a fresh one from Dir, Base and
	// Head.
	Plan *plan.Plan
	// Dir is the package directory, Base and Head the revisions, when
	// there is no saved plan.
	Dir, Base, Head string
	// StateDir is the runner's state directory. Default ".slipway".
	StateDir string
	// Approve lists the environments whose approval: true is given.
	Approve []string
	// Push and Registry are the runner's publishing options.
	Push     bool
	Registry string
	// Getenv reads secrets; default os.Getenv.
	Getenv func(string) string
	// Deliver, when set, receives each changed pipeline's rendered charts.
	Deliver Deliverer
	// Log receives progress lines.
	Log func(format string, args ...any)
	// Helm, when set, installs each promoted environment's release with
	// Helm's SDK (`helm upgrade --install`); the spec's
	// deploy.delivery.helm turns it on too.
	Helm *HelmOptions
	// Argo, when set, runs the changed pipelines on Argo Workflows instead
	// of this machine: the rendered Workflow is submitted to Argo.Server
	// (its WorkflowTemplate already applied) and followed to the end.
	Argo *argosubmit.Options
}

// Result is what an apply did.
type Result struct {
	// NoOp is true when the plan has no changes.
	NoOp bool `json:"noOp"`
	// Pipelines are the pipelines applied.
	Pipelines []*PipelineResult `json:"pipelines"`
}

// PipelineResult is one pipeline's apply.
type PipelineResult struct {
	Name string `json:"name"`
	// RunID is the local run that trained (or reused) the model.
	RunID string `json:"runId"`
	// Model is the packed model's digest.
	Model string `json:"model"`
	// Promotions are the environments whose champion changed.
	Promotions []Promotion `json:"promotions"`
	// Waiting lists environments left for approval or for a promotion
	// they come after.
	Waiting []string `json:"waiting,omitempty"`
	// Delivered reports a GitOps commit.
	Delivered bool `json:"delivered"`
}

// Promotion is one environment's champion change.
type Promotion struct {
	Environment string `json:"environment"`
	From        string `json:"from,omitempty"`
	To          string `json:"to"`
}

// StaleError is the error of a saved plan whose inputs changed.
type StaleError = plan.StaleError

// Apply carries out the plan.
func Apply(ctx context.Context, o Options) (*Result, error) {
	if o.StateDir == "" {
		o.StateDir = ".slipway"
	}
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	popts := plans.Options{Dir: o.Dir, Base: o.Base, Head: o.Head}
	if o.Plan != nil {
		popts = fromPlan(o.Plan, o.Dir)
	}
	current, _, head, err := plans.Make(ctx, popts)
	if err != nil {
		return nil, err
	}
	p := o.Plan
	if p == nil {
		p = current
	} else if err := p.Verify(current.Inputs); err != nil {
		return nil, fmt.Errorf("apply: %w: make a new plan", err)
	}
	res := &Result{}
	if head.Result == nil {
		return nil, errors.New("apply: the package does not exist at head")
	}
	for _, pp := range p.Pipelines {
		if pp.Action == plan.Delete {
			o.Log("%s: removed from the specs; its deployments stay until removed from the GitOps repository", pp.Name)
			continue
		}
		if pp.Action == plan.NoOp {
			continue
		}
		pr, err := o.pipeline(ctx, head.Result, pp.Name)
		if err != nil {
			return res, err
		}
		res.Pipelines = append(res.Pipelines, pr)
	}
	res.NoOp = !p.Changed()
	return res, nil
}

// fromPlan rebuilds the plan options of a saved plan: the same commits
// (or the working tree) and the same package path.
func fromPlan(p *plan.Plan, dir string) plans.Options {
	o := plans.Options{Dir: dir, Base: p.Inputs.Base.Commit, Head: p.Inputs.Head.Commit}
	if o.Base == "" {
		o.Base = p.Inputs.Base.Ref
	}
	return o
}

// pipeline runs, promotes and delivers one pipeline under its lock.
func (o Options) pipeline(ctx context.Context, res *compiler.Result, name string) (*PipelineResult, error) {
	unlock, err := local.LockFile(ctx, filepath.Join(o.StateDir, "locks", name+".lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()
	if o.Argo != nil {
		return o.runArgo(ctx, res, name)
	}
	o.Log("%s: running", name)
	out, err := pipeline.Run(ctx, pipeline.Options{Compiled: res, Pipeline: name, StateDir: o.StateDir, Getenv: o.Getenv,
		Push: o.Push, Registry: o.Registry})
	if err != nil {
		return nil, err
	}
	pr := &PipelineResult{Name: name, RunID: out.Run.RunID}
	if out.Err() != nil {
		return pr, fmt.Errorf("apply %s: %w (report: %s)", name, out.Err(), out.ReportHTML)
	}
	if out.Published == nil {
		o.Log("%s: no artifact section: nothing to promote", name)
		return pr, nil
	}
	pr.Model = out.Published.Digest
	return pr, o.promote(ctx, res, name, pr, out.Report.Metrics)
}

// promote makes pr.Model the champion through the environments, in the
// order of promoteAfter, and delivers. The lock is re-read under the
// pipeline's lock so that a concurrent apply's promotions are kept.
func (o Options) promote(ctx context.Context, res *compiler.Result, name string, pr *PipelineResult, metrics map[string]float64) error {
	lockPath := filepath.Join(res.Dir, lock.Filename)
	l, err := pipeline.ReadLockFile(lockPath)
	if err != nil {
		return err
	}
	sp := res.Spec.Pipelines[name]
	for _, env := range promotionOrder(sp) {
		e := sp.Deploy.Environments[env]
		if e.PromoteAfter != "" {
			if c, ok := l.Champion(name, e.PromoteAfter); !ok || c.Digest != pr.Model {
				pr.Waiting = append(pr.Waiting, fmt.Sprintf("%s (after %s)", env, e.PromoteAfter))
				continue
			}
		}
		if e.Approval && !slices.Contains(o.Approve, env) {
			if c, ok := l.Champion(name, env); !ok || c.Digest != pr.Model {
				pr.Waiting = append(pr.Waiting, fmt.Sprintf("%s (needs --approve %s)", env, env))
			}
			continue
		}
		old, _ := l.Champion(name, env)
		if l.Promote(name, env, lock.Champion{Digest: pr.Model, Metrics: metrics}) {
			pr.Promotions = append(pr.Promotions, Promotion{Environment: env, From: old.Digest, To: pr.Model})
			o.Log("%s: %s now serves %s", name, env, pr.Model)
		}
	}
	if len(pr.Promotions) == 0 {
		o.Log("%s: every environment already serves %s; nothing to promote", name, pr.Model)
		return nil
	}
	if err := pipeline.WriteLockFile(lockPath, l); err != nil {
		return err
	}
	pr.Delivered, err = o.deliver(ctx, res, name, pr)
	return err
}

// runArgo submits the pipeline's Workflow to Argo and follows it; on
// success it reads back the model the run's package step pushed (tagged
// run-<workflow name>) and promotes it as a local run's.
func (o Options) runArgo(ctx context.Context, res *compiler.Result, name string) (*PipelineResult, error) {
	files, err := argo.New().Render(res.Program)
	if err != nil {
		return nil, fmt.Errorf("apply %s: render the Argo workflow: %w", name, err)
	}
	want := "argo/" + name + "/" + argo.FileWorkflow
	var wf []byte
	for _, f := range files {
		if f.Path == want {
			wf = f.Data
		}
	}
	if wf == nil {
		return nil, fmt.Errorf("apply %s: the Argo target rendered no %s", name, want)
	}
	ao := *o.Argo
	ao.Workflow = wf
	ao.Progress = func(node, phase string) { o.Log("%s: %s %s", name, node, phase) }
	r, err := argosubmit.Submit(ctx, ao)
	pr := &PipelineResult{Name: name}
	if r != nil {
		pr.RunID = r.Name
	}
	if err != nil {
		return pr, fmt.Errorf("apply %s on Argo: %w", name, err)
	}
	o.Log("%s: Argo workflow %s %s", name, r.Name, r.Phase)
	sp := res.Spec.Pipelines[name]
	if sp == nil || sp.Artifact == nil {
		return pr, nil
	}
	// The package step tagged the model it pushed with the run's name.
	repo, err := steps.Repository(sp.Artifact.Repository, o.Registry)
	if err != nil {
		return pr, fmt.Errorf("apply %s: %w", name, err)
	}
	tag := repo + ":run-" + r.Name
	var ropts []remote.Option
	if o.Registry != "" && remote.IsLoopback(o.Registry) {
		ropts = append(ropts, remote.Insecure())
	}
	art, err := remote.Pull(ctx, tag, ropts...)
	if err != nil {
		return pr, fmt.Errorf("apply %s: the model of Argo run %s: %w", name, r.Name, err)
	}
	pr.Model = art.Digest()
	var metrics map[string]float64
	if mf, err := art.ManifestOf(); err == nil {
		metrics, _ = artifact.ParseMetrics(mf.Annotations[artifact.AnnotationMetrics])
	}
	return pr, o.promote(ctx, res, name, pr, metrics)
}

// deliver renders the pipeline's charts with the new champions and hands
// them to the Deliverer.
func (o Options) deliver(ctx context.Context, res *compiler.Result, name string, pr *PipelineResult) (bool, error) {
	deliver := o.Deliver
	if deliver == nil {
		var err error
		if sp := res.Spec.Pipelines[name]; sp != nil && sp.Deploy != nil {
			if deliver, err = o.specDeliverer(sp.Deploy.Delivery, res.Dir); err != nil {
				return false, fmt.Errorf("apply %s: %w", name, err)
			}
		}
	}
	var hopts *HelmOptions
	if sp := res.Spec.Pipelines[name]; sp != nil && sp.Deploy != nil && sp.Deploy.Delivery != nil && sp.Deploy.Delivery.Helm != nil {
		hopts = fromSpec(sp.Deploy.Delivery.Helm)
	}
	if o.Helm != nil {
		hopts = o.Helm
	}
	if deliver == nil && hopts == nil {
		return false, nil
	}
	again, ds := compiler.Compile(ctx, compiler.Options{FS: os.DirFS(res.Dir), Dir: ".", Root: res.Dir, Path: res.Program.Path})
	if again == nil {
		return false, fmt.Errorf("apply %s: recompile after promotion: %v", name, ds)
	}
	var files []File
	for _, p := range again.Program.Pipelines {
		if p.Name != name {
			continue
		}
		chart, err := helm.Chart(again.Program, p)
		if err != nil {
			return false, fmt.Errorf("apply %s: %w", name, err)
		}
		for _, f := range chart {
			files = append(files, File{Path: strings.TrimPrefix(f.Path, "helm/"+name+"/"), Data: f.Data})
		}
	}
	var envs []string
	for _, p := range pr.Promotions {
		envs = append(envs, p.Environment)
	}
	msg := fmt.Sprintf("slipway apply: %s %s → %s", name, strings.Join(envs, ", "), pr.Model)
	changed := false
	if deliver != nil {
		c, err := deliver(ctx, name, files, msg)
		if err != nil {
			return false, err
		}
		changed = c
	}
	if hopts != nil {
		c, err := o.install(ctx, again, name, files, envs, hopts)
		if err != nil {
			return changed, err
		}
		changed = changed || c
	}
	return changed, nil
}

// promotionOrder lists a pipeline's environments so that each comes after
// the one it is promoted after; ties by name.
func promotionOrder(p *spec.Pipeline) []string {
	if p == nil || p.Deploy == nil {
		return nil
	}
	var names []string
	for n := range p.Deploy.Environments {
		names = append(names, n)
	}
	slices.Sort(names)
	depth := func(n string) int {
		d := 0
		for seen := map[string]bool{}; p.Deploy.Environments[n] != nil && p.Deploy.Environments[n].PromoteAfter != "" && !seen[n]; d++ {
			seen[n] = true
			n = p.Deploy.Environments[n].PromoteAfter
		}
		return d
	}
	slices.SortStableFunc(names, func(a, b string) int { return depth(a) - depth(b) })
	return names
}

// Rollback restores the previous champion of a pipeline in an environment
// and delivers the charts that serve it.
func Rollback(ctx context.Context, dir, pipelineName, env, stateDir string, deliver Deliverer) (*Promotion, error) {
	if stateDir == "" {
		stateDir = ".slipway"
	}
	unlock, err := local.LockFile(ctx, filepath.Join(stateDir, "locks", pipelineName+".lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	lockPath := filepath.Join(abs, lock.Filename)
	l, err := pipeline.ReadLockFile(lockPath)
	if err != nil {
		return nil, err
	}
	cur, ok := l.Champion(pipelineName, env)
	if !ok {
		return nil, fmt.Errorf("rollback: %s has no champion in %s", pipelineName, env)
	}
	prev, err := l.Rollback(pipelineName, env)
	if err != nil {
		return nil, err
	}
	if err := pipeline.WriteLockFile(lockPath, l); err != nil {
		return nil, err
	}
	pr := &Promotion{Environment: env, From: cur.Digest, To: prev.Digest}
	if deliver != nil {
		res, ds := compiler.Compile(ctx, compiler.Options{FS: os.DirFS(abs), Dir: ".", Root: abs})
		if res == nil {
			return pr, fmt.Errorf("rollback: compile: %v", ds)
		}
		o := Options{Deliver: deliver}
		if _, err := o.deliver(ctx, res, pipelineName, &PipelineResult{Name: pipelineName, Model: prev.Digest, Promotions: []Promotion{*pr}}); err != nil {
			return pr, err
		}
	}
	return pr, nil
}
