package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/compiler"
	"github.com/slipway-ml/slipway/compiler/ir"
	"github.com/slipway-ml/slipway/runners/apply"
	"github.com/slipway-ml/slipway/runners/local"
	"github.com/slipway-ml/slipway/runners/pipeline"
)

// runFlags are the flags `run` and `step` share.
type runFlags struct {
	pipeline string
	stateDir string
	jobs     int
	noCache  bool
	push     bool
	registry string
	pf       policyFlag
}

func (f *runFlags) add(cmd *cobra.Command, withPipeline bool) {
	if withPipeline {
		cmd.Flags().StringVarP(&f.pipeline, "pipeline", "p", "", "pipeline to run (default: the package's only pipeline)")
	}
	cmd.Flags().StringVar(&f.stateDir, "state-dir", ".slipway", "directory of the cache, the run logs and the reports")
	cmd.Flags().IntVarP(&f.jobs, "jobs", "j", 0, "steps to run at once (default: the number of cores)")
	cmd.Flags().BoolVar(&f.noCache, "no-cache", false, "run every step even when its outputs are cached")
	cmd.Flags().BoolVar(&f.push, "push", false, "push the packed model and its signature to the spec's artifact.repository")
	cmd.Flags().StringVar(&f.registry, "registry", "", "push to this registry host instead of the repository's (implies --push), e.g. 127.0.0.1:5000")
	cmd.Flags().StringSliceVar(&f.pf.names, "policy", f.pf.names, f.pf.usage())
}

func (a *app) runCommand() *cobra.Command {
	f := &runFlags{pf: policyFlag{names: []string{"default"}}}
	cmd := &cobra.Command{
		Use:   "run [DIR]",
		Short: "Run a pipeline's training side on this machine",
		Long: `Run fetches and checks the data, fits the features, trains, evaluates and
gates the model of the pipeline in DIR (default "."), with independent steps
in parallel. Step outputs are cached under --state-dir by content: a step
whose inputs and parameters are unchanged is not run again, and the run says
why each other step ran. Logs and report.html/report.json go to
<state-dir>/runs/<run-id>/.

Exit codes: 0 every gate passed, 1 a step or a gate failed (or the spec is
invalid), 2 bad usage, 3 internal failure.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			return a.run(cmd.Context(), dir, f, nil)
		},
	}
	f.add(cmd, true)
	return cmd
}

func (a *app) stepCommand() *cobra.Command {
	f := &runFlags{pf: policyFlag{names: []string{"default"}}}
	var dir string
	cmd := &cobra.Command{
		Use:   "step PIPELINE STEP",
		Short: "Run one step of a pipeline by itself",
		Long: `Step runs one step of a pipeline in the package directory --dir (default
"."), reading its inputs by digest from the cache under --state-dir, where an
earlier step or run put them. It is what the GitHub Actions and Argo targets
run in each job. The step is skipped when its outputs are already cached.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			f.pipeline = args[0]
			return a.run(cmd.Context(), dir, f, []string{args[1]})
		},
	}
	cmd.Flags().StringVar(&dir, "dir", ".", "the pipeline's package directory")
	f.add(cmd, false)
	return cmd
}

// run compiles dir and runs its pipeline (or only the named steps).
func (a *app) run(ctx context.Context, dir string, f *runFlags, only []string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if f.jobs < 0 {
		return usagef("--jobs must be positive")
	}
	res, ds, err := a.compileDir(ctx, dir, &f.pf)
	if err != nil {
		return err
	}
	if res == nil {
		if a.json {
			_ = a.writeJSON(map[string]any{"dir": dir, "valid": false, "diagnostics": ds.Rel(a.cwd)})
		} else {
			a.printDiagnostics(ds)
			fmt.Fprintf(a.stderr, "%s: invalid (%s); nothing run\n", dir, summary(ds))
		}
		return findingsError{"invalid"}
	}
	if !a.json {
		a.printDiagnostics(ds)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	pr := newProgress(a.stderr, a.json)
	var extra map[ir.Kind]local.Executor
	if only != nil {
		// A deploy step by itself (the remote targets' deploy jobs):
		// promote the packaged model and deliver, as apply does.
		extra = apply.Executors(apply.Options{StateDir: f.stateDir, Push: f.push, Registry: f.registry}, res)
	}
	// A local retraining a monitor step fires runs after this run, which
	// holds the state directory's lock.
	var later []func(context.Context) error
	out, err := pipeline.Run(ctx, pipeline.Options{Compiled: res, Pipeline: f.pipeline, StateDir: f.stateDir,
		Jobs: f.jobs, NoCache: f.noCache, Only: only, Events: pr.event, Push: f.push, Registry: f.registry, Extra: extra,
		Retrain: stepRetrainer(res, f.stateDir, a.stderr, func(run func(context.Context) error) { later = append(later, run) })})
	pr.close()
	if err != nil {
		return runnerError(err)
	}
	status := a.printRun(res, out)
	for _, run := range later {
		if err := run(ctx); err != nil {
			return err
		}
	}
	return status
}

// runnerError classifies a failure of the runner itself.
func runnerError(err error) error {
	msg := err.Error()
	if strings.Contains(msg, "no pipeline") || strings.Contains(msg, "has no step") || strings.Contains(msg, "pipelines (") ||
		strings.Contains(msg, "does not run") {
		return usageError{err}
	}
	return err
}

// printRun prints a finished run and returns its exit status.
func (a *app) printRun(res *compiler.Result, out *pipeline.Outcome) error {
	rel := func(p string) string {
		if r, err := filepath.Rel(a.cwd, p); err == nil && !strings.HasPrefix(r, "..") {
			return r
		}
		return p
	}
	run := out.Run
	if a.json {
		_ = a.writeJSON(map[string]any{"runId": run.RunID, "pipeline": run.Pipeline, "status": run.Status, "error": run.Error,
			"steps": run.Steps, "gates": out.Report.Gates, "metrics": out.Report.Metrics, "model": out.Published,
			"report": map[string]string{"html": rel(out.ReportHTML), "json": rel(out.ReportJSON)}})
	} else {
		fmt.Fprintf(a.stdout, "run %s of %s: %s\n", run.RunID, run.Pipeline, strings.ReplaceAll(run.Status, "_", " "))
		for _, g := range out.Report.Gates {
			mark := "pass"
			if !g.Passed {
				mark = "FAIL"
			}
			fmt.Fprintf(a.stdout, "  gate %-24s %s  %s\n", g.Name, mark, g.Message)
		}
		if p := out.Published; p != nil {
			signed := "signed"
			if !p.Signed {
				signed = "NOT signed: " + p.Note
			}
			fmt.Fprintf(a.stdout, "  model %s@%s (%s)\n", p.Name, p.Digest, signed)
			if p.Pushed != "" {
				fmt.Fprintf(a.stdout, "  pushed %s\n", p.Pushed)
			}
		}
		var later []string
		for _, st := range run.Steps {
			if st.Status == local.StatusNotRun && st.Reason != "not selected" {
				later = append(later, st.Name)
			}
		}
		if len(later) > 0 {
			fmt.Fprintf(a.stdout, "  not run here: %s (deployment runs in `slipway apply`, monitoring beside the deployed model)\n", strings.Join(later, ", "))
		}
		if run.Err != nil {
			fmt.Fprintf(a.stdout, "error: %s\n", run.Error)
		}
		fmt.Fprintf(a.stdout, "report: %s\n", rel(out.ReportHTML))
	}
	if run.Err != nil {
		if errors.Is(run.Err, context.Canceled) {
			return findingsError{"cancelled"}
		}
		return findingsError{run.Status}
	}
	return nil
}
