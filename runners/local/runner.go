// Package local executes a compiled pipeline's step DAG on this machine:
// independent steps in parallel, each step's outputs in a
// content-addressed cache under the state directory (.slipway by default),
// a log per step under .slipway/runs/<run-id>/, retries and timeouts from
// the spec, and cancellation that leaves nothing half-written.
//
// The runner knows nothing of what a step kind does: an Executor per kind
// (package steps) does the work, reading its inputs from directories and
// writing its outputs into empty ones. A step whose run key — its cache key
// combined with the digests of the inputs it actually reads — is in the
// cache is not run again; otherwise the runner says why it missed.
package local

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/slipway-ml/slipway/backends/output"
	"github.com/slipway-ml/slipway/compiler/canonical"
	"github.com/slipway-ml/slipway/compiler/ir"
)

// Executor runs steps of one kind.
type Executor interface {
	// Execute does the step's work. It reads inputs from sc.Inputs and
	// writes each output into its (empty) directory in sc.Outputs.
	Execute(ctx context.Context, sc *StepContext) error
}

// Checker is implemented by executors whose step ends with a check that
// is not cached (a gate against the current champion): it runs after the
// step, whether it ran or hit the cache. An error stops the run.
type Checker interface {
	Check(ctx context.Context, sc *StepContext) error
}

// StepContext is what an executor sees of a step.
type StepContext struct {
	// Step is the step to run.
	Step *ir.Step
	// Pipeline is the step's pipeline.
	Pipeline *ir.Pipeline
	// Dir is the pipeline's package directory.
	Dir string
	// RunDir is this run's directory (logs, gates.json, the report).
	RunDir string
	// Inputs maps each produced input's name to the directory holding it.
	Inputs map[string]string
	// Outputs maps each output's name to the directory to write it into
	// (for Check: the directory holding it).
	Outputs map[string]string
	// Log receives the step's log lines.
	Log io.Writer
	// Progress reports advance: done of total units ("B", "trees",
	// "epochs"); total 0 means unknown.
	Progress func(done, total int64, unit string)
	// Threads is how many threads the step may use.
	Threads int
}

// Logf writes one line to the step's log.
func (sc *StepContext) Logf(format string, args ...any) {
	fmt.Fprintf(sc.Log, format+"\n", args...)
}

// Options configure a run.
type Options struct {
	// Program is the compiled package.
	Program *ir.Program
	// Pipeline names the pipeline to run; "" means the only one.
	Pipeline string
	// Dir is the package directory.
	Dir string
	// StateDir holds the cache and the runs. Default ".slipway".
	StateDir string
	// Executors by step kind. Steps of other kinds are not run.
	Executors map[ir.Kind]Executor
	// Only, when set, runs just these step names (their inputs must be in
	// the cache).
	Only []string
	// Jobs is how many steps run at once. Default: the number of cores.
	Jobs int
	// NoCache runs every step even when its outputs are cached.
	NoCache bool
	// Events, when set, receives progress events.
	Events func(Event)
	// RetryDelay is the wait before a retry, doubled each time. Default 1s.
	RetryDelay time.Duration
	// Now returns the time; default time.Now.
	Now func() time.Time
}

// Status of a step in a run.
type Status string

// Step statuses.
const (
	StatusRan     Status = "ran"
	StatusCached  Status = "cached"
	StatusFailed  Status = "failed"
	StatusSkipped Status = "skipped"
	StatusNotRun  Status = "not_run"
)

// StepResult is what happened to one step.
type StepResult struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	Kind     ir.Kind `json:"kind"`
	Status   Status  `json:"status"`
	Reason   string  `json:"reason,omitempty"`
	Key      string  `json:"key,omitempty"`
	Seconds  float64 `json:"seconds"`
	Attempts int     `json:"attempts,omitempty"`
	Error    string  `json:"error,omitempty"`
	Log      string  `json:"log,omitempty"`
	// ProducedSeconds is how long the run that made the outputs took
	// (this run's, or the cached entry's).
	ProducedSeconds float64 `json:"producedSeconds,omitempty"`
	// Outputs maps output names to their directories (for steps that ran
	// or hit the cache).
	Outputs map[string]string `json:"-"`
	// Digests maps output names to their digests.
	Digests map[string]string `json:"outputs,omitempty"`
}

// Result is a finished run.
type Result struct {
	RunID    string        `json:"runId"`
	Pipeline string        `json:"pipeline"`
	RunDir   string        `json:"runDir"`
	Status   string        `json:"status"`
	Error    string        `json:"error,omitempty"`
	Started  time.Time     `json:"started"`
	Finished time.Time     `json:"finished"`
	Steps    []*StepResult `json:"steps"`
	// Err is the first failure, or nil.
	Err error `json:"-"`
}

// Step returns the result of the named step, or nil.
func (r *Result) Step(name string) *StepResult {
	for _, s := range r.Steps {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Event is a progress event.
type Event struct {
	// Step is the step id.
	Step string
	// Type is "start", "progress" or "done".
	Type string
	// Done, Total and Unit describe progress.
	Done, Total int64
	Unit        string
	// Result is set on "done".
	Result *StepResult
}

// Run runs a pipeline's steps that have an executor.
func Run(ctx context.Context, o Options) (*Result, error) {
	p, err := pickPipeline(o.Program, o.Pipeline)
	if err != nil {
		return nil, err
	}
	for _, n := range o.Only {
		s := stepByName(p, n)
		if s == nil {
			return nil, fmt.Errorf("run: pipeline %s has no step %q", p.Name, n)
		}
		if _, ok := o.Executors[s.Kind]; !ok {
			return nil, fmt.Errorf("run: step %s is a %s step, which the local runner does not run (%s)", s.ID, s.Kind, notRunReason(s.Kind))
		}
	}
	if o.StateDir == "" {
		o.StateDir = ".slipway"
	}
	if o.Jobs <= 0 {
		o.Jobs = runtime.NumCPU()
	}
	if o.RetryDelay == 0 {
		o.RetryDelay = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Events == nil {
		o.Events = func(Event) {}
	}
	if err := os.MkdirAll(o.StateDir, 0o755); err != nil {
		return nil, fmt.Errorf("run: state directory: %w", err)
	}
	unlock, err := lockState(ctx, o.StateDir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	cache, err := OpenCache(o.StateDir)
	if err != nil {
		return nil, err
	}
	if err := cache.CleanTmp(); err != nil {
		return nil, err
	}
	started := o.Now().UTC()
	runID := started.Format("20060102-150405") + "-" + randHex(3)
	runDir := filepath.Join(o.StateDir, "runs", runID)
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	r := &runner{o: o, p: p, cache: cache, idx: index{dir: filepath.Join(cache.Dir(), "index")}, runID: runID, runDir: runDir,
		results: map[string]*StepResult{}}
	res := r.run(ctx)
	res.Started, res.Finished = started, o.Now().UTC()
	if err := writeJSON(filepath.Join(runDir, "run.json"), res); err != nil {
		return res, fmt.Errorf("run: %w", err)
	}
	return res, nil
}

func pickPipeline(prog *ir.Program, name string) (*ir.Pipeline, error) {
	if prog == nil || len(prog.Pipelines) == 0 {
		return nil, errors.New("run: the package has no pipeline")
	}
	if name == "" {
		if len(prog.Pipelines) > 1 {
			var names []string
			for _, p := range prog.Pipelines {
				names = append(names, p.Name)
			}
			return nil, fmt.Errorf("run: the package has %d pipelines (%s): name one", len(names), strings.Join(names, ", "))
		}
		return prog.Pipelines[0], nil
	}
	for _, p := range prog.Pipelines {
		if p.Name == name {
			return p, nil
		}
	}
	return nil, fmt.Errorf("run: no pipeline %q in the package", name)
}

type runner struct {
	o       Options
	p       *ir.Pipeline
	cache   *Cache
	idx     index
	runID   string
	runDir  string
	mu      sync.Mutex
	results map[string]*StepResult
	entries sync.Map // step id → *Entry
}

// plan decides which steps run: those with an executor (or named by Only)
// whose inputs can all be had.
func (r *runner) plan() (map[string]bool, map[string]string, error) {
	run := map[string]bool{}
	why := map[string]string{}
	only := map[string]bool{}
	for _, n := range r.o.Only {
		only[n] = true
		if stepByName(r.p, n) == nil {
			return nil, nil, fmt.Errorf("run: pipeline %s has no step %q", r.p.Name, n)
		}
	}
	for _, s := range r.p.Steps {
		if len(only) > 0 && !only[s.Name] {
			why[s.ID] = "not selected"
			continue
		}
		if _, ok := r.o.Executors[s.Kind]; !ok {
			why[s.ID] = notRunReason(s.Kind)
			if len(only) > 0 {
				return nil, nil, fmt.Errorf("run: step %s is a %s step, which the local runner does not run (%s)", s.ID, s.Kind, why[s.ID])
			}
			continue
		}
		blocked := ""
		for _, d := range s.DependsOn {
			if len(only) == 0 && !run[d] {
				blocked = d
				break
			}
		}
		if blocked != "" {
			why[s.ID] = "needs " + blocked + ", which is not run locally"
			continue
		}
		run[s.ID] = true
	}
	return run, why, nil
}

func notRunReason(k ir.Kind) string {
	switch k {
	case ir.KindPackage:
		return "packaging and signing run in `slipway apply`"
	case ir.KindDeploy:
		return "deployment runs in `slipway apply`"
	case ir.KindMonitor, ir.KindRetrain:
		return "monitoring runs beside the deployed model"
	case ir.KindCustom:
		return "custom container steps need a container runtime; they run on the remote targets"
	}
	return "no local executor for " + string(k) + " steps"
}

func stepByName(p *ir.Pipeline, name string) *ir.Step {
	for _, s := range p.Steps {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func (r *runner) run(ctx context.Context) *Result {
	res := &Result{RunID: r.runID, Pipeline: r.p.Name, RunDir: r.runDir, Status: "succeeded"}
	selected, why, err := r.plan()
	if err != nil {
		res.Status, res.Error, res.Err = "failed", err.Error(), err
		return res
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type done struct {
		id  string
		res *StepResult
		err error
	}
	finished := map[string]bool{}
	failed := map[string]bool{}
	running := 0
	doneCh := make(chan done)
	var firstErr error
	launch := func() {
		for _, s := range r.p.Steps {
			if running >= r.o.Jobs || firstErr != nil || ctx.Err() != nil {
				return
			}
			if !selected[s.ID] || finished[s.ID] || r.results[s.ID] != nil {
				continue
			}
			ready := true
			for _, d := range s.DependsOn {
				if selected[d] && !finished[d] {
					ready = false
				}
			}
			if !ready {
				continue
			}
			sr := &StepResult{ID: s.ID, Name: s.Name, Kind: s.Kind}
			r.results[s.ID] = sr
			running++
			go func(s *ir.Step) {
				err := r.step(ctx, s, sr)
				doneCh <- done{s.ID, sr, err}
			}(s)
		}
	}
	launch()
	for running > 0 {
		d := <-doneCh
		running--
		finished[d.id] = true
		if d.err != nil {
			failed[d.id] = true
			if firstErr == nil {
				firstErr = d.err
			}
		}
		launch()
	}
	for _, s := range r.p.Steps {
		sr := r.results[s.ID]
		if sr == nil {
			sr = &StepResult{ID: s.ID, Name: s.Name, Kind: s.Kind, Status: StatusNotRun, Reason: why[s.ID]}
			if selected[s.ID] {
				sr.Status, sr.Reason = StatusSkipped, "an earlier step failed"
				if ctx.Err() != nil && firstErr == nil {
					sr.Reason = "cancelled"
				}
			}
		}
		res.Steps = append(res.Steps, sr)
	}
	switch {
	case firstErr != nil:
		res.Status, res.Error, res.Err = "failed", firstErr.Error(), firstErr
		var ge interface{ GateFailure() bool }
		if errors.As(firstErr, &ge) && ge.GateFailure() {
			res.Status = "gate_failed"
		}
	case ctx.Err() != nil:
		res.Status, res.Error, res.Err = "cancelled", ctx.Err().Error(), ctx.Err()
	}
	return res
}

// runKey combines a step's cache key with the digests of its inputs.
func runKey(s *ir.Step, inputs map[string]string) (string, error) {
	b, err := canonical.JSON(map[string]any{"cacheKey": s.CacheKey, "inputs": inputs})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// step runs (or reuses) one step.
func (r *runner) step(ctx context.Context, s *ir.Step, sr *StepResult) (err error) {
	start := time.Now()
	r.o.Events(Event{Step: s.ID, Type: "start"})
	defer func() {
		sr.Seconds = time.Since(start).Seconds()
		if err != nil {
			sr.Status, sr.Error = StatusFailed, err.Error()
			if sr.Reason == "" {
				sr.Reason = "failed"
			}
		}
		r.o.Events(Event{Step: s.ID, Type: "done", Result: sr})
	}()
	sc := &StepContext{Step: s, Pipeline: r.p, Dir: r.o.Dir, RunDir: r.runDir, Inputs: map[string]string{}, Outputs: map[string]string{},
		Threads: max(1, runtime.NumCPU()/max(1, min(r.o.Jobs, parallelWidth(r.p)))),
		Progress: func(done, total int64, unit string) {
			r.o.Events(Event{Step: s.ID, Type: "progress", Done: done, Total: total, Unit: unit})
		}}
	digests := map[string]string{}
	for _, in := range s.Inputs {
		if in.From == "" {
			digests[in.Name] = in.Digest
			continue
		}
		v, ok := r.entries.Load(in.From)
		if !ok {
			e, found := r.lastEntry(in.From)
			if !found {
				return fmt.Errorf("step %s: input %s from %s is not in the cache: run %s first", s.ID, in.Name, in.From, in.From)
			}
			v = e
		}
		e := v.(*Entry)
		a, ok := e.Manifest.Outputs[in.Name]
		if !ok {
			return fmt.Errorf("step %s: %s did not produce %s", s.ID, in.From, in.Name)
		}
		sc.Inputs[in.Name] = e.OutputDir(in.Name)
		digests[in.Name] = a.Digest
	}
	key, err := runKey(s, digests)
	if err != nil {
		return fmt.Errorf("step %s: %w", s.ID, err)
	}
	sr.Key = key
	rec, err := newRecord(key, r.o.Program.SlipwayVersion, s.Params, digests)
	if err != nil {
		return fmt.Errorf("step %s: %w", s.ID, err)
	}
	rec.RunID = r.runID
	logName := strings.ReplaceAll(s.Name, "/", "_") + ".log"
	logPath := filepath.Join(r.runDir, logName)
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("step %s: log: %w", s.ID, err)
	}
	defer lf.Close()
	sr.Log = logName
	sc.Log = lf
	exec := r.o.Executors[s.Kind]
	prev, _ := r.idx.load(s.ID)
	if e, ok := r.cache.Lookup(key); ok && !r.o.NoCache {
		sr.Status, sr.Reason = StatusCached, "cache hit"
		if prev != nil && prev.RunID != "" {
			sr.Reason = "cache hit: inputs and parameters unchanged since run " + prev.RunID
		}
		if e.Manifest.RunID == r.runID {
			sr.Reason = "cache hit"
		}
		fmt.Fprintf(lf, "%s: %s (entry %s)\n", s.ID, sr.Reason, short(key))
		r.use(s, sr, e)
		if prev == nil || prev.Key != key {
			_ = r.idx.save(s.ID, rec)
		}
		return r.check(ctx, exec, sc, e)
	}
	sr.Reason = missReason(prev, rec)
	if r.o.NoCache {
		sr.Reason = "cache disabled (--no-cache)"
	}
	fmt.Fprintf(lf, "%s: run: %s\n", s.ID, sr.Reason)
	var lastErr error
	for attempt := 1; attempt <= 1+s.Retries; attempt++ {
		sr.Attempts = attempt
		if attempt > 1 {
			delay := r.o.RetryDelay << (attempt - 2)
			fmt.Fprintf(lf, "--- attempt %d of %d in %s (last error: %v)\n", attempt, 1+s.Retries, delay, lastErr)
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return fmt.Errorf("step %s: %w", s.ID, ctx.Err())
			}
		}
		var e *Entry
		e, lastErr = r.attempt(ctx, exec, sc, s, key, start)
		if lastErr == nil {
			sr.Status = StatusRan
			r.use(s, sr, e)
			if err := r.idx.save(s.ID, rec); err != nil {
				return fmt.Errorf("step %s: record: %w", s.ID, err)
			}
			return r.check(ctx, exec, sc, e)
		}
		fmt.Fprintf(lf, "error: %v\n", lastErr)
		if ctx.Err() != nil || errors.Is(lastErr, ErrPermanent) {
			break
		}
	}
	return lastErr
}

// ErrPermanent marks errors that a retry cannot fix (bad data, a checksum
// mismatch); executors wrap it so the runner does not try again.
var ErrPermanent = errors.New("permanent failure")

func (r *runner) attempt(ctx context.Context, exec Executor, sc *StepContext, s *ir.Step, key string, start time.Time) (*Entry, error) {
	pend, err := r.cache.Begin(s.Outputs)
	if err != nil {
		return nil, err
	}
	for _, o := range s.Outputs {
		sc.Outputs[o] = pend.OutputDir(o)
	}
	sctx := ctx
	if s.TimeoutSeconds > 0 {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeout(ctx, time.Duration(s.TimeoutSeconds)*time.Second)
		defer cancel()
	}
	if err := runExecutor(sctx, exec, sc); err != nil {
		pend.Abort()
		if errors.Is(sctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			return nil, fmt.Errorf("step %s: timed out after %s: %w", s.ID, time.Duration(s.TimeoutSeconds)*time.Second, err)
		}
		return nil, fmt.Errorf("step %s: %w", s.ID, err)
	}
	if ctx.Err() != nil {
		pend.Abort()
		return nil, fmt.Errorf("step %s: %w", s.ID, ctx.Err())
	}
	return pend.Commit(Manifest{Step: s.ID, Key: key, CacheKey: s.CacheKey, RunID: r.runID,
		Seconds: time.Since(start).Seconds(), Created: r.o.Now().UTC()})
}

// runExecutor calls the executor, turning a panic into an error.
func runExecutor(ctx context.Context, exec Executor, sc *StepContext) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("internal error: %v", v)
		}
	}()
	return exec.Execute(ctx, sc)
}

func (r *runner) use(s *ir.Step, sr *StepResult, e *Entry) {
	r.entries.Store(s.ID, e)
	sr.Outputs, sr.Digests = map[string]string{}, map[string]string{}
	sr.ProducedSeconds = e.Manifest.Seconds
	for name, a := range e.Manifest.Outputs {
		sr.Outputs[name] = e.OutputDir(name)
		sr.Digests[name] = a.Digest
	}
}

func (r *runner) check(ctx context.Context, exec Executor, sc *StepContext, e *Entry) error {
	c, ok := exec.(Checker)
	if !ok {
		return nil
	}
	for name := range e.Manifest.Outputs {
		sc.Outputs[name] = e.OutputDir(name)
	}
	if err := c.Check(ctx, sc); err != nil {
		fmt.Fprintf(sc.Log, "check failed: %v\n", err)
		return err
	}
	return nil
}

// lastEntry finds the cached outputs of the last successful run of a step
// (for Only runs, whose inputs come from earlier runs).
func (r *runner) lastEntry(stepID string) (*Entry, bool) {
	rec, ok := r.idx.load(stepID)
	if !ok {
		return nil, false
	}
	return r.cache.Lookup(rec.Key)
}

// parallelWidth is the most steps of p that could run at once.
func parallelWidth(p *ir.Pipeline) int {
	level := map[string]int{}
	count := map[int]int{}
	best := 1
	for _, s := range p.Steps {
		l := 0
		for _, d := range s.DependsOn {
			l = max(l, level[d]+1)
		}
		level[s.ID] = l
		count[l]++
		best = max(best, count[l])
	}
	return best
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// writeJSON writes v as indented JSON, atomically.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return output.WriteFile(path, append(b, '\n'))
}
