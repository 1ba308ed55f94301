// Package plans makes the plan of a change to a pipeline package: it
// reads the package at two revisions straight from Git objects (the head
// may be the working tree), compiles both, renders every target for both,
// and diffs them with compiler/plan. It is the library under
// `slipway plan`, and what `slipway apply` uses to tell whether a saved
// plan is stale.
package plans

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/slipway-ml/slipway/backends"
	"github.com/slipway-ml/slipway/backends/all"
	"github.com/slipway-ml/slipway/compiler"
	"github.com/slipway-ml/slipway/compiler/diag"
	"github.com/slipway-ml/slipway/compiler/gitfs"
	"github.com/slipway-ml/slipway/compiler/ir"
	"github.com/slipway-ml/slipway/compiler/plan"
	"github.com/slipway-ml/slipway/compiler/policy"
	"github.com/slipway-ml/slipway/compiler/version"
)

// Options say what to plan.
type Options struct {
	// Dir is the package directory, inside a Git repository.
	Dir string
	// Base is the revision to compare with ("origin/main").
	Base string
	// Head is the revision planned; "" means the working tree.
	Head string
	// Policies are the policy packs (nil: the default pack).
	Policies []policy.Pack
}

// Side is one revision, compiled.
type Side struct {
	// Revision is what the plan records of it.
	Revision plan.Revision
	// Result is the compilation, nil when the package does not exist at
	// the revision.
	Result *compiler.Result
	// Diagnostics are the compiler's findings.
	Diagnostics diag.Diagnostics
}

// ErrInvalid is the error of a plan whose head does not compile.
var ErrInvalid = errors.New("the spec at head is invalid")

// Make compiles both revisions and diffs them. When head does not compile,
// the error wraps ErrInvalid and Side.Diagnostics of head say why.
func Make(ctx context.Context, o Options) (*plan.Plan, *Side, *Side, error) {
	abs, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, nil, nil, err
	}
	repo, err := gitfs.Open(abs)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("plan: %s is not in a Git repository: %w", o.Dir, err)
	}
	rel, err := repo.Rel(abs)
	if err != nil {
		return nil, nil, nil, err
	}
	if o.Base == "" {
		return nil, nil, nil, errors.New("plan: give the base revision (--base origin/main)")
	}
	base, err := side(ctx, repo, rel, o.Base, o.Policies)
	if err != nil {
		return nil, nil, nil, err
	}
	head, err := side(ctx, repo, rel, o.Head, o.Policies)
	if err != nil {
		return nil, nil, nil, err
	}
	if head.Result == nil && head.Diagnostics.HasErrors() {
		return nil, base, head, fmt.Errorf("plan: %w", ErrInvalid)
	}
	bp, hp := program(base), program(head)
	bf, err := render(bp)
	if err != nil {
		return nil, nil, nil, err
	}
	hf, err := render(hp)
	if err != nil {
		return nil, nil, nil, err
	}
	base.Revision = plan.NewRevision(base.Revision, bp, bf)
	head.Revision = plan.NewRevision(head.Revision, hp, hf)
	in := plan.Inputs{SlipwayVersion: version.Version, Base: base.Revision, Head: head.Revision}
	p := plan.Diff(bp, hp, bf, hf, in, plan.WithDiagnostics(base.Diagnostics, head.Diagnostics))
	return p, base, head, nil
}

func program(s *Side) *ir.Program {
	if s.Result == nil {
		return nil
	}
	return s.Result.Program
}

// side compiles the package at a revision ("" = the working tree). A
// package that does not exist there compiles to nothing.
func side(ctx context.Context, repo *gitfs.Repo, rel, rev string, packs []policy.Pack) (*Side, error) {
	s := &Side{Revision: plan.Revision{Ref: rev, Path: rel}}
	var fsys fs.FS
	if rev == "" {
		fsys = os.DirFS(repo.Root())
		s.Revision.Ref = "working tree"
	} else {
		f, commit, err := repo.FS(rev)
		if err != nil {
			return nil, fmt.Errorf("plan: revision %s: %w", rev, err)
		}
		fsys, s.Revision.Commit = f, commit
	}
	if _, err := fs.Stat(fsys, rel); errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	res, ds := compiler.Compile(ctx, compiler.Options{FS: fsys, Dir: rel, Root: repo.Root(), Policies: packs, Path: path.Clean(rel)})
	s.Result, s.Diagnostics = res, ds
	if res != nil {
		d, err := plan.LockDigest(res.Lock)
		if err != nil {
			return nil, err
		}
		s.Revision.LockDigest = d
	} else if rev != "" && ds.HasErrors() {
		// An invalid base plans as if the package were absent there;
		// its findings are kept.
		return s, nil
	}
	return s, nil
}

// render renders every target of a program.
func render(prog *ir.Program) ([]plan.File, error) {
	if prog == nil {
		return nil, nil
	}
	var out []plan.File
	for _, b := range all.Backends() {
		// A target that cannot express the spec renders nothing, as in
		// `slipway compile`; the plan then shows no files of it.
		if lim, ok := b.(backends.Limiter); ok && len(lim.Limitations(prog)) > 0 {
			continue
		}
		files, err := b.Render(prog)
		if err != nil {
			return nil, fmt.Errorf("plan: render %s: %w", b.Name(), err)
		}
		for _, f := range files {
			out = append(out, plan.File{Path: f.Path, Data: f.Data})
		}
	}
	return out, nil
}

// Current returns what a plan's inputs are now, for apply's staleness
// check: the same revisions compiled again.
func Current(ctx context.Context, o Options) (plan.Inputs, error) {
	p, _, _, err := Make(ctx, o)
	if err != nil {
		return plan.Inputs{}, err
	}
	return p.Inputs, nil
}
