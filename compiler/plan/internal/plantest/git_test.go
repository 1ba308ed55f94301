package plantest_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/slipway-ml/slipway/backends/all"
	"github.com/slipway-ml/slipway/compiler"
	"github.com/slipway-ml/slipway/compiler/compilertest"
	"github.com/slipway-ml/slipway/compiler/diag"
	"github.com/slipway-ml/slipway/compiler/gitfs"
	"github.com/slipway-ml/slipway/compiler/ir"
	"github.com/slipway-ml/slipway/compiler/plan"
	"github.com/slipway-ml/slipway/compiler/plan/internal/plantest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGoldenJSON pins the plan's JSON form.
func TestGoldenJSON(t *testing.T) {
	data, err := plantest.Big(t).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	compilertest.Golden(t, filepath.Join("testdata", "big.txtar"), "The JSON of plantest.Big (go test -update rewrites this file).",
		map[string][]byte{"plan.json": data}, *update)
}

// repo is a Git repository holding examples/churn.
type repo struct {
	t   *testing.T
	dir string
	r   *git.Repository
	n   int
}

func newRepo(t *testing.T, src string, data []byte) *repo {
	dir := t.TempDir()
	r, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	rp := &repo{t: t, dir: dir, r: r}
	rp.write("examples/churn/data/churn.csv", data)
	rp.write("examples/churn/churn.cue", []byte(src))
	return rp
}

func (rp *repo) write(name string, data []byte) {
	p := filepath.Join(rp.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		rp.t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		rp.t.Fatal(err)
	}
}

func (rp *repo) commit(msg string) string {
	wt, err := rp.r.Worktree()
	if err != nil {
		rp.t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		rp.t.Fatal(err)
	}
	rp.n++
	h, err := wt.Commit(msg, &git.CommitOptions{Author: &object.Signature{Name: "T", Email: "t@example.com", When: time.Date(2024, 1, 1, 0, rp.n, 0, 0, time.UTC)}})
	if err != nil {
		rp.t.Fatal(err)
	}
	return h.String()
}

// revision compiles the package at a revision, read from Git, and
// renders it with every backend.
func revision(t *testing.T, g *gitfs.Repo, rev, dir string) (*ir.Program, []plan.File, plan.Revision) {
	t.Helper()
	fsys, commit, err := g.FS(rev)
	if err != nil {
		t.Fatal(err)
	}
	res, ds := compiler.Compile(context.Background(), compiler.Options{FS: fsys, Dir: dir, Root: "/" + commit[:12], Path: dir})
	if ds.HasErrors() {
		t.Fatalf("compile %s: %s", rev, (&diag.ListError{List: ds}).Error())
	}
	var files []plan.File
	for _, b := range all.Backends() {
		out, err := b.Render(res.Program)
		if err != nil {
			t.Fatalf("render %s: %v", b.Name(), err)
		}
		for _, f := range out {
			files = append(files, plan.File{Path: b.Name() + "/" + f.Path, Data: f.Data})
		}
	}
	ld, err := plan.LockDigest(res.Lock)
	if err != nil {
		t.Fatal(err)
	}
	return res.Program, files, plan.Revision{Ref: rev, Commit: commit, LockDigest: ld}
}

// TestPlanFromGit plans a pull request the way CI does: both revisions are
// read straight from a real Git repository and rendered by the real
// backends, and a later commit makes the plan stale.
func TestPlanFromGit(t *testing.T) {
	src, data := plantest.Churn(t)
	rp := newRepo(t, src, data)
	baseCommit := rp.commit("churn")
	rp.write("examples/churn/churn.cue", []byte(plantest.Edited(t, src, plantest.LearningRate, plantest.Schedule)))
	headCommit := rp.commit("lower the learning rate, retrain daily")

	g, err := gitfs.Open(filepath.Join(rp.dir, "examples", "churn"))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := g.Rel(filepath.Join(rp.dir, "examples", "churn"))
	if err != nil || dir != "examples/churn" {
		t.Fatalf("Rel = %q, %v", dir, err)
	}
	makePlan := func() *plan.Plan {
		bp, bf, br := revision(t, g, "HEAD~1", dir)
		hp, hf, hr := revision(t, g, "HEAD", dir)
		return plan.Diff(bp, hp, bf, hf, plan.Inputs{Base: br, Head: hr})
	}
	p := makePlan()
	if p.Inputs.Base.Commit != baseCommit || p.Inputs.Head.Commit != headCommit {
		t.Errorf("inputs name commits %s and %s, want %s and %s", p.Inputs.Base.Commit, p.Inputs.Head.Commit, baseCommit, headCommit)
	}
	if p.Inputs.Head.Path != "examples/churn" || p.Inputs.Head.SpecDigests["churn"] == "" || p.Inputs.Head.FilesDigest == "" {
		t.Errorf("head inputs = %+v", p.Inputs.Head)
	}
	churn := p.Pipelines[0]
	if want := []plan.Effect{plan.Retrain, plan.Redeploy, plan.Schedule}; !equalEffects(churn.Effects, want) {
		t.Errorf("effects = %v, want %v", churn.Effects, want)
	}
	// The schedule reaches the rendered targets: the GitHub Actions
	// workflow's cron line changes.
	var cron bool
	for _, f := range p.Files {
		if strings.HasPrefix(f.Path, "github-actions/") && strings.Contains(f.Diff, "\n+") && strings.Contains(f.Diff, "0 4 * * *") {
			cron = true
		}
	}
	if !cron {
		paths := []string{}
		for _, f := range p.Files {
			paths = append(paths, f.Path)
		}
		t.Errorf("no GitHub Actions workflow diff shows the new schedule; files: %v", paths)
	}
	if err := p.Verify(makePlan().Inputs); err != nil {
		t.Errorf("a plan made twice from the same commits is stale: %v", err)
	}
	again, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if other, _ := makePlan().Marshal(); !bytes.Equal(again, other) {
		t.Error("two plans of the same commits differ")
	}

	rp.write("examples/churn/churn.cue", []byte(plantest.Edited(t, src, plantest.LearningRate, plantest.Schedule, plantest.CanaryWeight)))
	rp.commit("canary")
	err = p.Verify(makePlan().Inputs)
	var stale *plan.StaleError
	if !errors.As(err, &stale) || !strings.Contains(err.Error(), "the head commit was "+headCommit) {
		t.Errorf("after a new commit Verify = %v, want a stale head commit", err)
	}
}

func equalEffects(a, b []plan.Effect) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
