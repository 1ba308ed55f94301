package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/backends/argo"
	"github.com/slipway-ml/slipway/compiler"
	"github.com/slipway-ml/slipway/compiler/spec"
	"github.com/slipway-ml/slipway/runners/argosubmit"
	"github.com/slipway-ml/slipway/runners/monitor"
	"github.com/slipway-ml/slipway/runners/pipeline"
	"github.com/slipway-ml/slipway/runners/steps"
	"github.com/slipway-ml/slipway/runners/trigger"
)

// retrainFlags say where the spec's retraining on drift goes.
type retrainFlags struct {
	on                        bool
	state, stateDir           string
	githubRepo, githubAPI     string
	argoServer, argoNamespace string
	argoInsecure              bool
}

func (f *retrainFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&f.on, "trigger", false, "on dataset drift, fire the spec's retraining (monitoring.retraining.via: github, argo or local) once per drift episode; needs --dir")
	fl.StringVar(&f.state, "trigger-state", "", "drift episode state file (default STATE_DIR/monitor/PIPELINE.json)")
	fl.StringVar(&f.githubRepo, "github-repo", os.Getenv("GITHUB_REPOSITORY"), "via github: repository (owner/name) the repository_dispatch event goes to; token from $GITHUB_TOKEN")
	fl.StringVar(&f.githubAPI, "github-api", "https://api.github.com", "via github: API base URL (GitHub Enterprise, tests)")
	fl.StringVar(&f.argoServer, "argo-server", "", "via argo: Argo Server URL the Workflow is submitted to (token from $SLIPWAY_ARGO_TOKEN)")
	fl.StringVar(&f.argoNamespace, "argo-namespace", "default", "via argo: namespace the Workflow is submitted to")
	fl.BoolVar(&f.argoInsecure, "argo-insecure", false, "via argo: skip TLS verification of the Argo Server (test servers only)")
}

// retrainer fires a pipeline's retraining on drift, debounced per drift
// episode.
type retrainer struct {
	pipeline string
	via      string
	firer    trigger.Firer
	episodes *trigger.Episodes
	log      io.Writer
}

// newRetrainer builds the retrainer the spec of p declares, or nil (with
// the reason printed) when p does not retrain on drift.
func newRetrainer(res *compiler.Result, p *spec.Pipeline, f *retrainFlags, log io.Writer) (*retrainer, error) {
	var r *spec.Retraining
	if p.Monitoring != nil {
		r = p.Monitoring.Retraining
	}
	if r == nil || !r.OnDrift || p.Monitoring.Drift == nil {
		fmt.Fprintf(log, "%s does not retrain on drift (monitoring.retraining.onDrift): --trigger fires nothing\n", p.Name)
		return nil, nil
	}
	cooldown, err := time.ParseDuration(r.Cooldown)
	if err != nil && r.Cooldown != "" {
		return nil, fmt.Errorf("monitoring.retraining.cooldown %q: %w", r.Cooldown, err)
	}
	state := f.state
	if state == "" {
		state = filepath.Join(f.stateDir, "monitor", p.Name+".json")
	}
	rt := &retrainer{pipeline: p.Name, via: r.Via, log: log, episodes: &trigger.Episodes{Path: state, Cooldown: cooldown}}
	if rt.via == "" {
		rt.via = "github"
	}
	if rt.firer, err = buildFirer(res, p.Name, rt.via, f, log); err != nil {
		return nil, err
	}
	return rt, nil
}

// observe records a drift verdict and fires the retraining when it opens
// a drift episode.
func (r *retrainer) observe(ctx context.Context, rep *monitor.Report) error {
	drifted := []string{}
	for _, f := range rep.Features {
		if f.Drifted {
			drifted = append(drifted, f.Feature)
		}
	}
	out, err := r.episodes.Observe(ctx, rep.Drifted, func(ctx context.Context) error {
		return r.firer.Retrain(ctx, r.pipeline, map[string]any{"share_drifted": rep.ShareDrifted, "drifted": drifted,
			"reference": rep.Reference, "current": rep.Current})
	})
	if err != nil {
		return err
	}
	if out.Fired {
		switch r.via {
		case "github":
			fmt.Fprintf(r.log, "retraining triggered: %s event sent\n", trigger.EventType(r.pipeline))
		default:
			fmt.Fprintf(r.log, "retraining triggered via %s\n", r.via)
		}
	} else if rep.Drifted {
		fmt.Fprintf(r.log, "retraining not triggered: %s\n", out.Reason)
	}
	return nil
}

// buildFirer makes the firer of a retraining via github, argo or local.
func buildFirer(res *compiler.Result, name, via string, f *retrainFlags, log io.Writer) (trigger.Firer, error) {
	switch via {
	case "", "github":
		if f.githubRepo == "" {
			return nil, usagef("retraining via github needs --github-repo owner/name (or $GITHUB_REPOSITORY)")
		}
		return trigger.GitHub{Repository: f.githubRepo, Token: os.Getenv("GITHUB_TOKEN"), API: f.githubAPI}, nil
	case "argo":
		if f.argoServer == "" {
			return nil, usagef("retraining via argo needs --argo-server URL (or $SLIPWAY_ARGO_SERVER)")
		}
		files, err := argo.New().Render(res.Program)
		if err != nil {
			return nil, fmt.Errorf("render the Argo workflow: %w", err)
		}
		var wf []byte
		for _, fl := range files {
			if fl.Path == "argo/"+name+"/"+argo.FileWorkflow {
				wf = fl.Data
			}
		}
		if wf == nil {
			return nil, fmt.Errorf("the Argo target rendered no workflow for %s", name)
		}
		return trigger.Argo{Options: argosubmit.Options{Server: f.argoServer, Namespace: f.argoNamespace,
			Token: os.Getenv("SLIPWAY_ARGO_TOKEN"), Insecure: f.argoInsecure, Workflow: wf},
			Submitted: func(n string) { fmt.Fprintf(log, "retraining submitted to Argo as workflow %s\n", n) }}, nil
	case "local":
		return trigger.Local{Run: func(ctx context.Context, name string) error {
			out, err := pipeline.Run(ctx, pipeline.Options{Compiled: res, Pipeline: name, StateDir: f.stateDir})
			if err != nil {
				return err
			}
			if err := out.Err(); err != nil {
				return err
			}
			fmt.Fprintf(log, "retraining ran locally: run %s %s\n", out.Run.RunID, out.Run.Status)
			return nil
		}}, nil
	}
	return nil, fmt.Errorf("monitoring.retraining.via %q: want github, argo or local", via)
}

// stepRetrainer fires the retraining a monitor step asks for, configured
// from the environment of the job it runs in: $GITHUB_REPOSITORY,
// $GITHUB_TOKEN and $GITHUB_API_URL (GitHub Actions sets them), or
// $SLIPWAY_ARGO_SERVER, $SLIPWAY_ARGO_NAMESPACE and $SLIPWAY_ARGO_TOKEN.
//
// A local retraining cannot run inside the run that holds the state
// directory: it is handed to defer, which runs it after that run.
func stepRetrainer(res *compiler.Result, stateDir string, log io.Writer, deferRun func(func(context.Context) error)) steps.Retrainer {
	return func(ctx context.Context, name, via string, payload map[string]any) error {
		f := &retrainFlags{stateDir: stateDir, githubRepo: os.Getenv("GITHUB_REPOSITORY"), githubAPI: os.Getenv("GITHUB_API_URL"),
			argoServer: os.Getenv("SLIPWAY_ARGO_SERVER"), argoNamespace: os.Getenv("SLIPWAY_ARGO_NAMESPACE")}
		if f.githubAPI == "" {
			f.githubAPI = "https://api.github.com"
		}
		if f.argoNamespace == "" {
			f.argoNamespace = argosubmit.DefaultNamespace
		}
		firer, err := buildFirer(res, name, via, f, log)
		if err != nil {
			return err
		}
		if via == "local" {
			deferRun(func(ctx context.Context) error { return firer.Retrain(ctx, name, payload) })
			fmt.Fprintf(log, "retraining of %s runs locally after this run\n", name)
			return nil
		}
		return firer.Retrain(ctx, name, payload)
	}
}
