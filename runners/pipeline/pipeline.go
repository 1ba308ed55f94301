// Package pipeline runs a compiled pipeline locally, end to end on the
// training side — fetch, check, features, train, evaluate, gate — and
// writes the run's report. It is the library under `slipway run` and
// `slipway step`: the local runner (package local) executes the DAG with
// the step kinds of package steps, and this package turns the run's
// outputs into report.json and report.html.
package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/go-git/go-git/v5"

	"github.com/slipway-ml/slipway/compiler"
	"github.com/slipway-ml/slipway/compiler/ir"
	"github.com/slipway-ml/slipway/runners/local"
	"github.com/slipway-ml/slipway/runners/report"
	"github.com/slipway-ml/slipway/runners/steps"
)

// Options configure a run.
type Options struct {
	// Compiled is the compiled package.
	Compiled *compiler.Result
	// Pipeline names the pipeline; "" means the only one.
	Pipeline string
	// StateDir holds the cache and the runs. Default ".slipway".
	StateDir string
	// Jobs is how many steps run at once. Default: the number of cores.
	Jobs int
	// NoCache runs every step even when its outputs are cached.
	NoCache bool
	// Only runs just these steps, reading their inputs from the cache
	// (`slipway step`).
	Only []string
	// Events receives progress events.
	Events func(local.Event)
	// Getenv reads secrets; default os.Getenv.
	Getenv func(string) string
	// FetchOptions are extra fetcher options (tests).
	FetchOptions []steps.FetchOption
	// RetryDelay is the first wait before a retry. Default 1s.
	RetryDelay time.Duration
	// Extra are executors for more step kinds (`slipway step` adds the
	// deploy step's).
	Extra map[ir.Kind]local.Executor
	// Push publishes packed models and their signatures to the spec's
	// artifact.repository; Registry replaces its host (a local registry).
	Push     bool
	Registry string
	// Retrain fires the retraining a monitor step asks for on drift
	// (`slipway step P monitor-ENV`); nil makes it fail with the reason.
	Retrain steps.Retrainer
}

// Outcome is a finished run.
type Outcome struct {
	// Run is the runner's result.
	Run *local.Result
	// Report is the run's report, also written to the run directory.
	Report *report.Report
	// ReportHTML and ReportJSON are the report files' paths.
	ReportHTML, ReportJSON string
	// Published says what the package step packed, signed and pushed; nil
	// when it did not run.
	Published *steps.Published
}

// Err is the run's failure, or nil.
func (o *Outcome) Err() error { return o.Run.Err }

// GateFailed reports a run stopped by failing gates.
func (o *Outcome) GateFailed() bool {
	var ge *steps.GateError
	return errors.As(o.Run.Err, &ge)
}

// Run runs the pipeline and writes its report. The error is for failures
// of the runner itself; a failed step or gate is in Outcome.Err.
func Run(ctx context.Context, o Options) (*Outcome, error) {
	if o.Compiled == nil || o.Compiled.Program == nil {
		return nil, errors.New("run: nothing compiled")
	}
	if o.StateDir == "" {
		o.StateDir = ".slipway"
	}
	commit, dirty := gitState(o.Compiled.Dir)
	if dirty {
		commit = "" // a model from uncommitted files names no revision
	}
	execs := steps.Executors(steps.Config{StateDir: o.StateDir, Lock: o.Compiled.Lock, Getenv: o.Getenv, FetchOptions: o.FetchOptions,
		Version: o.Compiled.Program.SlipwayVersion, Revision: commit, Push: o.Push || o.Registry != "", Registry: o.Registry, Retrain: o.Retrain})
	for k, e := range o.Extra {
		execs[k] = e
	}
	res, err := local.Run(ctx, local.Options{Program: o.Compiled.Program, Pipeline: o.Pipeline, Dir: o.Compiled.Dir,
		StateDir: o.StateDir, Executors: execs, Only: o.Only, Jobs: o.Jobs, NoCache: o.NoCache, Events: o.Events,
		RetryDelay: o.RetryDelay})
	if err != nil {
		return nil, err
	}
	var p *ir.Pipeline
	for _, q := range o.Compiled.Program.Pipelines {
		if q.Name == res.Pipeline {
			p = q
		}
	}
	rep := Build(res, p, o.Compiled.Program.SlipwayVersion, o.Compiled.Dir)
	if err := report.Write(res.RunDir, rep); err != nil {
		return nil, fmt.Errorf("run: write report: %w", err)
	}
	out := &Outcome{Run: res, Report: rep, ReportHTML: filepath.Join(res.RunDir, "report.html"),
		ReportJSON: filepath.Join(res.RunDir, "report.json")}
	var pub steps.Published
	if readJSON(filepath.Join(res.RunDir, "package.json"), &pub) == nil {
		out.Published = &pub
	}
	return out, nil
}

// Build assembles the report of a run from its steps' outputs.
func Build(res *local.Result, p *ir.Pipeline, version, dir string) *report.Report {
	r := &report.Report{APIVersion: report.APIVersion, RunID: res.RunID, Pipeline: res.Pipeline, Status: res.Status,
		Error: res.Error, StartedAt: res.Started, FinishedAt: res.Finished, Gates: []report.Gate{}}
	if res.Status == "cancelled" {
		r.Status = report.StatusFailed
	}
	r.Lineage = report.Lineage{SlipwayVersion: version, Datasets: []report.DatasetLineage{}}
	if p != nil {
		r.Lineage.SpecDigest = p.SpecDigest
	}
	r.Lineage.GitCommit, r.Lineage.GitDirty = gitState(dir)
	for _, s := range res.Steps {
		r.Steps = append(r.Steps, report.Step{ID: s.ID, Kind: string(s.Kind), Status: string(s.Status), CacheKey: s.Key,
			Reason: s.Reason, Seconds: s.Seconds, Attempts: s.Attempts, Log: s.Log})
	}
	d := steps.Dirs{Run: res.RunDir}
	var train *local.StepResult
	for _, s := range res.Steps {
		switch s.Kind {
		case ir.KindTrain:
			d.Model, train = s.Outputs["model"], s
		case ir.KindEvaluate:
			d.Evaluation = s.Outputs["evaluation"]
		}
	}
	steps.FillReport(r, d)
	if r.Model != nil && train != nil {
		r.Model.TrainSeconds = train.ProducedSeconds
	}
	rows := map[string]int{}
	for _, dc := range r.DataChecks {
		rows[dc.Dataset] = dc.Rows
	}
	for _, s := range res.Steps {
		if s.Kind != ir.KindFetch {
			continue
		}
		var src steps.Source
		for _, dir := range s.Outputs {
			if readJSON(filepath.Join(dir, "source.json"), &src) == nil {
				r.Lineage.Datasets = append(r.Lineage.Datasets, report.DatasetLineage{Name: src.Dataset, Source: src.Source,
					SHA256: src.SHA256, Rows: rows[src.Dataset]})
			}
		}
	}
	slices.SortFunc(r.Lineage.Datasets, func(a, b report.DatasetLineage) int { return compareStrings(a.Name, b.Name) })
	return r
}

// gitState returns the commit checked out in the repository holding dir
// and whether the working tree has changes, or "" outside a repository.
func gitState(dir string) (string, bool) {
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return "", false
	}
	head, err := repo.Head()
	if err != nil {
		return "", false
	}
	dirty := false
	if wt, err := repo.Worktree(); err == nil {
		if st, err := wt.Status(); err == nil {
			dirty = !st.IsClean()
		}
	}
	return head.Hash().String(), dirty
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
