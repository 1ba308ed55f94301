package apply

import (
	"context"
	"errors"
	"path"

	"github.com/go-git/go-git/v5"

	"github.com/slipway-ml/slipway/compiler/gitfs"
	"github.com/slipway-ml/slipway/compiler/spec"
	"github.com/slipway-ml/slipway/runners/gitops"
)

// GitOps returns a Deliverer that commits each pipeline's charts under
// t.Dir/<pipeline> of the target repository.
func GitOps(t gitops.Target) Deliverer {
	return func(ctx context.Context, pipeline string, files []File, message string) (bool, error) {
		tt := t
		tt.Dir = path.Join(t.Dir, pipeline)
		gf := make([]gitops.File, len(files))
		for i, f := range files {
			gf[i] = gitops.File{Path: f.Path, Data: f.Data}
		}
		res, err := gitops.Deliver(ctx, tt, gf, message)
		if err != nil {
			return false, err
		}
		return res.Changed, nil
	}
}

// LocalTarget is a GitOps target in a folder (relative to the repository
// root) of the repository holding dir, on its checked-out branch.
func LocalTarget(dir, folder string) (gitops.Target, error) {
	repo, err := gitfs.Open(dir)
	if err != nil {
		return gitops.Target{}, err
	}
	t := gitops.Target{LocalRepo: repo.Root(), Dir: folder}
	if r, err := git.PlainOpen(repo.Root()); err == nil {
		if h, err := r.Head(); err == nil && h.Name().IsBranch() {
			t.Branch = h.Name().Short()
		}
	}
	if t.Branch == "" {
		return t, errors.New("gitops: the repository has no branch checked out")
	}
	return t, nil
}

// specDeliverer is the delivery the spec chooses, or nil.
func (o Options) specDeliverer(d *spec.Delivery, pkgDir string) (Deliverer, error) {
	if d == nil || d.GitOps == nil {
		return nil, nil
	}
	g := d.GitOps
	if g.Repository == "" {
		t, err := LocalTarget(pkgDir, g.Path)
		if err != nil {
			return nil, err
		}
		return GitOps(t), nil
	}
	t := gitops.Target{URL: g.Repository, Branch: g.Branch, Dir: g.Path}
	if g.TokenSecret != "" {
		if tok := o.getenv(g.TokenSecret); tok != "" {
			t.Auth = gitops.TokenAuth(tok)
		}
	}
	return GitOps(t), nil
}

func (o Options) getenv(k string) string {
	if o.Getenv != nil {
		return o.Getenv(k)
	}
	return ""
}
