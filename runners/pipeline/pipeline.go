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
	"math"
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
}

// Outcome is a finished run.
type Outcome struct {
	// Run is the runner's result.
	Run *local.Result
	// Report is the run's report, also written to the run directory.
	Report *report.Report
	// ReportHTML and ReportJSON are the report files' paths.
	ReportHTML, ReportJSON string
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
	execs := steps.Executors(steps.Config{StateDir: o.StateDir, Lock: o.Compiled.Lock, Getenv: o.Getenv, FetchOptions: o.FetchOptions})
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
	return &Outcome{Run: res, Report: rep, ReportHTML: filepath.Join(res.RunDir, "report.html"),
		ReportJSON: filepath.Join(res.RunDir, "report.json")}, nil
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
	rows := map[string]int{}
	for _, s := range res.Steps {
		r.Steps = append(r.Steps, report.Step{ID: s.ID, Kind: string(s.Kind), Status: string(s.Status), CacheKey: s.Key,
			Reason: s.Reason, Seconds: s.Seconds, Attempts: s.Attempts, Log: s.Log})
	}
	// Data checks are written to the run directory whether they pass or
	// not (a failed check fails its step, which keeps no outputs).
	for _, s := range res.Steps {
		if s.Kind != ir.KindValidate {
			continue
		}
		var dc report.DataChecks
		if readJSON(filepath.Join(res.RunDir, "checks-"+datasetOf(s.Name)+".json"), &dc) == nil {
			r.DataChecks = append(r.DataChecks, dc)
			rows[dc.Dataset] = dc.Rows
		}
	}
	for _, s := range res.Steps {
		switch s.Kind {
		case ir.KindFetch:
			var src steps.Source
			for _, d := range s.Outputs {
				if readJSON(filepath.Join(d, "source.json"), &src) == nil {
					r.Lineage.Datasets = append(r.Lineage.Datasets, report.DatasetLineage{Name: src.Dataset, Source: src.Source,
						SHA256: src.SHA256, Rows: rows[src.Dataset]})
				}
			}
		case ir.KindTrain:
			var info steps.TrainInfo
			if d, ok := s.Outputs["model"]; ok && readJSON(filepath.Join(d, "train.json"), &info) == nil {
				r.Model = &report.Model{Kind: info.Model, Task: info.Task, Positive: info.Positive, Rows: info.Rows,
					Features: info.Features, TrainSeconds: s.ProducedSeconds, Params: asMap(info.Params), Device: info.Device}
				for _, imp := range info.Importance[:min(len(info.Importance), 20)] {
					r.Importance = append(r.Importance, report.Importance{Feature: imp.Feature, Value: imp.Value})
				}
				r.CrossValidation = info.CrossValidation
			}
		case ir.KindEvaluate:
			var ev steps.Evaluation
			if d, ok := s.Outputs["evaluation"]; ok && readJSON(filepath.Join(d, "evaluation.json"), &ev) == nil {
				addEvaluation(r, &ev)
			}
		}
	}
	var gates []steps.GateResult
	if readJSON(filepath.Join(res.RunDir, "gates.json"), &gates) == nil {
		for _, g := range gates {
			rg := report.Gate{Name: g.Name, Metric: g.Metric, Min: g.Min, Max: g.Max, MaxRegression: g.MaxRegression,
				Champion: g.Champion, LowerIsBetter: steps.LowerIsBetter(g.Metric), Passed: g.Passed, Message: g.Message}
			rg.Value = math.NaN()
			if g.Value != nil {
				rg.Value = *g.Value
			}
			r.Gates = append(r.Gates, rg)
		}
	}
	slices.SortFunc(r.Lineage.Datasets, func(a, b report.DatasetLineage) int { return compareStrings(a.Name, b.Name) })
	return r
}

func addEvaluation(r *report.Report, ev *steps.Evaluation) {
	se := ev.Splits["test"]
	if se == nil {
		return
	}
	r.Metrics = se.Metrics
	if r.Model != nil {
		r.Model.TestRows = se.Rows
	}
	if len(se.ROC) > 0 || len(se.PR) > 0 {
		r.Curves = &report.Curves{ROC: se.ROC, PR: se.PR}
	}
	if c := se.Confusion; c != nil {
		r.Confusion = &report.Confusion{Threshold: ev.Threshold, TP: c.TP, FP: c.FP, TN: c.TN, FN: c.FN}
	}
	for _, g := range sortedKeys(se.Fairness) {
		r.Fairness = report.NewFairness(g, *se.Fairness[g])
		break
	}
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

// datasetOf names the dataset of a validate step ("validate-customers").
func datasetOf(step string) string {
	const prefix = "validate-"
	if len(step) > len(prefix) && step[:len(prefix)] == prefix {
		return step[len(prefix):]
	}
	return step
}

func asMap(v any) map[string]any {
	m := map[string]any{}
	if v == nil {
		return m
	}
	if mm, ok := v.(map[string]any); ok {
		return mm
	}
	return m
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
