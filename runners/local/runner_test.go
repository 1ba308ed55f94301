package local

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slipway-ml/slipway/compiler/ir"
)

// program is a small DAG: a → b, a → c, (b, c) → d. Each step writes its
// params' "value" and the content of its inputs to its output.
func program(params map[string]string) *ir.Program {
	step := func(name string, deps ...string) *ir.Step {
		s := &ir.Step{ID: "p/" + name, Name: name, Kind: ir.Kind("k"), Params: map[string]string{"value": params[name]},
			Outputs: []string{"out/" + name}, CacheKey: "sha256:" + name + params[name], DependsOn: []string{}}
		for _, d := range deps {
			s.Inputs = append(s.Inputs, ir.Input{Name: "out/" + d, From: "p/" + d, Digest: "x", Pinned: true})
			s.DependsOn = append(s.DependsOn, "p/"+d)
		}
		return s
	}
	return &ir.Program{SlipwayVersion: "test", Pipelines: []*ir.Pipeline{{Name: "p", Steps: []*ir.Step{
		step("a"), step("b", "a"), step("c", "a"), step("d", "b", "c"),
	}}}}
}

// writer is an executor that concatenates its inputs and its value.
type writer struct {
	mu     sync.Mutex
	runs   map[string]int
	fail   map[string]int // fail this many times first
	block  chan struct{}  // when set, step "b" waits on it
	blockC bool           // and step "c" too
	live   atomic.Int32
	peak   atomic.Int32
}

func (w *writer) Execute(ctx context.Context, sc *StepContext) error {
	n := w.live.Add(1)
	defer w.live.Add(-1)
	for {
		p := w.peak.Load()
		if n <= p || w.peak.CompareAndSwap(p, n) {
			break
		}
	}
	w.mu.Lock()
	w.runs[sc.Step.Name]++
	failing := w.fail[sc.Step.Name] > 0
	if failing {
		w.fail[sc.Step.Name]--
	}
	w.mu.Unlock()
	if w.block != nil && (sc.Step.Name == "b" || sc.Step.Name == "c" && w.blockC) {
		select {
		case <-w.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	// Half-write the output, then fail: nothing of it may survive.
	out := sc.Outputs["out/"+sc.Step.Name]
	if err := os.WriteFile(filepath.Join(out, "partial"), []byte("x"), 0o644); err != nil {
		return err
	}
	if failing {
		return errors.New("flaky")
	}
	if err := os.Remove(filepath.Join(out, "partial")); err != nil {
		return err
	}
	var b strings.Builder
	for _, name := range sortedKeys(sc.Inputs) {
		data, err := os.ReadFile(filepath.Join(sc.Inputs[name], "v"))
		if err != nil {
			return err
		}
		b.Write(data)
	}
	b.WriteString(sc.Step.Params.(map[string]string)["value"])
	return os.WriteFile(filepath.Join(out, "v"), []byte(b.String()), 0o644)
}

func newWriter() *writer { return &writer{runs: map[string]int{}, fail: map[string]int{}} }

func run(t *testing.T, state string, prog *ir.Program, w Executor, mod func(*Options)) *Result {
	t.Helper()
	o := Options{Program: prog, StateDir: state, Executors: map[ir.Kind]Executor{"k": w}, RetryDelay: time.Millisecond}
	if mod != nil {
		mod(&o)
	}
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func statuses(res *Result) string {
	var parts []string
	for _, s := range res.Steps {
		parts = append(parts, s.Name+"="+string(s.Status))
	}
	return strings.Join(parts, " ")
}

func TestCacheAndReasons(t *testing.T) {
	state := t.TempDir()
	vals := map[string]string{"a": "1", "b": "2", "c": "3", "d": "4"}
	w := newWriter()
	res := run(t, state, program(vals), w, nil)
	if res.Err != nil || statuses(res) != "a=ran b=ran c=ran d=ran" {
		t.Fatalf("first run: %s %v", statuses(res), res.Err)
	}
	if got := res.Step("a").Reason; got != "never run" {
		t.Errorf("reason = %q, want never run", got)
	}
	d, err := os.ReadFile(filepath.Join(res.Step("d").Outputs["out/d"], "v"))
	if err != nil || string(d) != "12134" {
		t.Fatalf("d = %q, %v; want 12134", d, err)
	}

	res = run(t, state, program(vals), w, nil)
	if statuses(res) != "a=cached b=cached c=cached d=cached" {
		t.Fatalf("second run: %s", statuses(res))
	}
	if w.runs["a"] != 1 {
		t.Errorf("a ran %d times, want 1", w.runs["a"])
	}
	if !strings.Contains(res.Step("a").Reason, "unchanged since run") {
		t.Errorf("hit reason = %q", res.Step("a").Reason)
	}

	// Changing c's parameter reruns c, and d because its input changed;
	// a and b stay cached.
	vals["c"] = "9"
	res = run(t, state, program(vals), w, nil)
	if statuses(res) != "a=cached b=cached c=ran d=ran" {
		t.Fatalf("third run: %s", statuses(res))
	}
	if got := res.Step("c").Reason; !strings.Contains(got, `parameters changed: value "3" → "9"`) {
		t.Errorf("c reason = %q", got)
	}
	if got := res.Step("d").Reason; !strings.HasPrefix(got, "input out/c changed (") {
		t.Errorf("d reason = %q", got)
	}

	// Going back to the old value hits the old entries again.
	vals["c"] = "3"
	res = run(t, state, program(vals), w, nil)
	if statuses(res) != "a=cached b=cached c=cached d=cached" {
		t.Fatalf("fourth run: %s", statuses(res))
	}
	c, err := OpenCache(state)
	if err != nil {
		t.Fatal(err)
	}
	if problems, err := c.Verify(); err != nil || len(problems) > 0 {
		t.Fatalf("verify: %v %v", problems, err)
	}
	res = run(t, state, program(vals), w, func(o *Options) { o.NoCache = true })
	if statuses(res) != "a=ran b=ran c=ran d=ran" {
		t.Fatalf("--no-cache run: %s", statuses(res))
	}
}

func TestRetriesAndFailure(t *testing.T) {
	state := t.TempDir()
	prog := program(map[string]string{})
	prog.Pipelines[0].Steps[1].Retries = 2 // b
	w := newWriter()
	w.fail["b"] = 2
	res := run(t, state, prog, w, nil)
	if res.Err != nil || res.Step("b").Attempts != 3 {
		t.Fatalf("b: attempts %d, err %v", res.Step("b").Attempts, res.Err)
	}
	// c fails for good: d is skipped, the run fails, and nothing of c's
	// attempt is left in the cache.
	w.fail["c"] = 1
	res = run(t, state, prog, w, func(o *Options) { o.NoCache = true })
	if res.Status != "failed" || res.Step("c").Status != StatusFailed || res.Step("d").Status != StatusSkipped {
		t.Fatalf("statuses: %s (%s)", statuses(res), res.Status)
	}
	if !strings.Contains(res.Error, "flaky") {
		t.Errorf("error = %q", res.Error)
	}
	tmp, _ := os.ReadDir(filepath.Join(state, "cache", "tmp"))
	if len(tmp) != 0 {
		t.Errorf("tmp holds %d entries after a failure", len(tmp))
	}
	log, err := os.ReadFile(filepath.Join(res.RunDir, "c.log"))
	if err != nil || !strings.Contains(string(log), "error: step p/c: flaky") {
		t.Errorf("log = %q, %v", log, err)
	}
}

func TestTimeoutAndCancel(t *testing.T) {
	state := t.TempDir()
	prog := program(map[string]string{})
	prog.Pipelines[0].Steps[1].TimeoutSeconds = 1
	w := newWriter()
	w.block = make(chan struct{})
	res := run(t, state, prog, w, nil)
	if res.Step("b").Status != StatusFailed || !strings.Contains(res.Step("b").Error, "timed out after 1s") {
		t.Fatalf("b: %s %q", res.Step("b").Status, res.Step("b").Error)
	}

	ctx, cancel := context.WithCancel(context.Background())
	prog.Pipelines[0].Steps[1].TimeoutSeconds = 0
	go func() {
		for {
			time.Sleep(time.Millisecond)
			w.mu.Lock()
			n := w.runs["b"]
			w.mu.Unlock()
			if n >= 2 {
				break
			}
		}
		cancel()
	}()
	res, err := Run(ctx, Options{Program: prog, StateDir: state, Executors: map[ir.Kind]Executor{"k": w}, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "failed" && res.Status != "cancelled" {
		t.Fatalf("status %s", res.Status)
	}
	if !errors.Is(res.Err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", res.Err)
	}
	if res.Step("d").Status != StatusSkipped {
		t.Errorf("d: %s", res.Step("d").Status)
	}
	tmp, _ := os.ReadDir(filepath.Join(state, "cache", "tmp"))
	if len(tmp) != 0 {
		t.Errorf("tmp holds %d entries after cancelling", len(tmp))
	}
}

func TestParallelAndJobs(t *testing.T) {
	for _, jobs := range []int{1, 2} {
		w := newWriter()
		w.block, w.blockC = make(chan struct{}), true
		go func() {
			// Hold the steps until jobs of them run at once (or long enough
			// that more would have started), then a little longer.
			for deadline := time.Now().Add(5 * time.Second); int(w.peak.Load()) < jobs && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(50 * time.Millisecond)
			close(w.block)
		}()
		res := run(t, t.TempDir(), program(map[string]string{}), w, func(o *Options) { o.Jobs = jobs })
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		if got := int(w.peak.Load()); got != jobs {
			t.Errorf("jobs %d: %d steps ran at once", jobs, got)
		}
	}
}

func TestOnlyAndNotRun(t *testing.T) {
	state := t.TempDir()
	prog := program(map[string]string{})
	prog.Pipelines[0].Steps = append(prog.Pipelines[0].Steps, &ir.Step{ID: "p/e", Name: "e", Kind: ir.KindDeploy, DependsOn: []string{"p/d"}})
	w := newWriter()
	if _, err := Run(context.Background(), Options{Program: prog, StateDir: state, Executors: map[ir.Kind]Executor{"k": w}, Only: []string{"c"}}); err != nil {
		t.Fatal(err)
	}
	res := run(t, state, prog, w, func(o *Options) { o.Only = []string{"c"} })
	if !strings.Contains(res.Error, "input out/a from p/a is not in the cache") {
		t.Fatalf("only c before a ran: %q", res.Error)
	}
	res = run(t, state, prog, w, nil)
	if res.Step("e").Status != StatusNotRun || !strings.Contains(res.Step("e").Reason, "slipway apply") {
		t.Fatalf("e: %s %q", res.Step("e").Status, res.Step("e").Reason)
	}
	res = run(t, state, prog, w, func(o *Options) { o.Only = []string{"c"}; o.NoCache = true })
	if res.Err != nil || res.Step("c").Status != StatusRan || res.Step("a").Status != StatusNotRun {
		t.Fatalf("only c: %s %v", statuses(res), res.Err)
	}
	if _, err := Run(context.Background(), Options{Program: prog, StateDir: state, Executors: map[ir.Kind]Executor{"k": w}, Only: []string{"nope"}}); err == nil {
		t.Error("unknown step: no error")
	}
}

func TestCorruptEntryIsRebuilt(t *testing.T) {
	state := t.TempDir()
	w := newWriter()
	res := run(t, state, program(map[string]string{}), w, nil)
	// Truncate a's output: the entry no longer matches its manifest.
	if err := os.WriteFile(filepath.Join(res.Step("a").Outputs["out/a"], "v"), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	res = run(t, state, program(map[string]string{}), w, nil)
	if res.Step("a").Status != StatusRan || !strings.Contains(res.Step("a").Reason, "cache entry missing") {
		t.Fatalf("a: %s %q", res.Step("a").Status, res.Step("a").Reason)
	}
}
