package gitops

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-billy/v5/osfs"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	"github.com/go-git/go-git/v5/plumbing/transport/server"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// init replaces go-git's file:// transport, which runs the git-upload-pack
// and git-receive-pack binaries, with go-git's in-process server. It runs at
// program start, before any goroutine can read go-git's protocol table.
func init() {
	client.InstallProtocol("file", server.NewClient(bareLoader{}))
}

// bareLoader opens the bare repository at a file:// endpoint's path.
type bareLoader struct{}

// Load implements server.Loader.
func (bareLoader) Load(ep *transport.Endpoint) (storer.Storer, error) {
	if !isBareRepo(ep.Path) {
		return nil, transport.ErrRepositoryNotFound
	}
	return filesystem.NewStorage(osfs.New(ep.Path, osfs.WithBoundOS()), cache.NewObjectLRUDefault()), nil
}

func isBareRepo(dir string) bool {
	for _, name := range []string{"HEAD", "objects", "refs"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return false
		}
	}
	return true
}

// deliverRemote fetches the branch of t.URL into a temporary repository,
// commits the files on top of it and pushes, starting over from the new
// remote head when the push is rejected because the branch moved.
func deliverRemote(ctx context.Context, t Target, files []File, message string) (*Result, error) {
	shown := redactURL(t.URL)
	if u, err := url.Parse(t.URL); err == nil && u.Scheme == "file" && !isBareRepo(u.Path) {
		return nil, fmt.Errorf("remote %s: %s is not a bare Git repository (expected HEAD, objects and refs in it)", shown, u.Path)
	}
	tmp, err := os.MkdirTemp("", "slipway-gitops-")
	if err != nil {
		return nil, fmt.Errorf("create temporary repository: %w", err)
	}
	defer os.RemoveAll(tmp)
	sto := filesystem.NewStorage(osfs.New(tmp, osfs.WithBoundOS()), cache.NewObjectLRUDefault())
	repo, err := git.Init(sto, nil)
	if err != nil {
		return nil, fmt.Errorf("create temporary repository: %w", err)
	}
	remote, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{t.URL}})
	if err != nil {
		return nil, fmt.Errorf("configure remote %s: %w", shown, err)
	}
	auth := authFor(t.Auth, t.URL)
	branch := plumbing.NewBranchReferenceName(t.Branch)

	for attempt := 1; ; attempt++ {
		base, err := fetchBranch(ctx, remote, sto, t.Branch, auth, t.CABundle)
		if err != nil {
			return nil, fmt.Errorf("fetch branch %q from %s: %w", t.Branch, shown, err)
		}
		ch, err := applyFiles(ctx, sto, base, t.Dir, files, t.Author, message)
		if err != nil {
			return nil, err
		}
		if len(ch.changed) == 0 {
			return &Result{Commit: hashString(base), Attempts: attempt}, nil
		}
		if err := sto.SetReference(plumbing.NewHashReference(branch, ch.commit)); err != nil {
			return nil, fmt.Errorf("record commit %s: %w", ch.commit, err)
		}
		if t.beforePush != nil {
			if err := t.beforePush(ctx, attempt); err != nil {
				return nil, err
			}
		}
		err = remote.PushContext(ctx, &git.PushOptions{
			RemoteName: "origin",
			RefSpecs:   []config.RefSpec{config.RefSpec(branch + ":" + branch)},
			Auth:       auth,
			CABundle:   t.CABundle,
		})
		if err == nil {
			return &Result{Commit: ch.commit.String(), Changed: true, Attempts: attempt, Files: ch.changed}, nil
		}
		// The rejected commit is not on the remote: drop the ref that names
		// it, so the next fetch does not offer it as a common commit.
		if rmErr := sto.RemoveReference(branch); rmErr != nil {
			return nil, fmt.Errorf("drop rejected commit %s: %w", ch.commit, rmErr)
		}
		if !isRejected(err) || ctx.Err() != nil {
			return nil, fmt.Errorf("push branch %q to %s: %w", t.Branch, shown, err)
		}
		if attempt >= t.MaxAttempts {
			return nil, fmt.Errorf("push branch %q to %s: rejected %d times because the branch kept moving (MaxAttempts is %d); last rejection: %w", t.Branch, shown, attempt, t.MaxAttempts, err)
		}
	}
}

// fetchBranch fetches branch from remote into refs/remotes/origin/<branch>
// and returns its head, or the zero hash when the remote has no such branch.
func fetchBranch(ctx context.Context, remote *git.Remote, sto storer.ReferenceStorer, branch string, auth transport.AuthMethod, caBundle []byte) (plumbing.Hash, error) {
	tracking := plumbing.NewRemoteReferenceName("origin", branch)
	spec := config.RefSpec("+" + plumbing.NewBranchReferenceName(branch) + ":" + tracking)
	err := remote.FetchContext(ctx, &git.FetchOptions{
		RemoteName: "origin",
		RefSpecs:   []config.RefSpec{spec},
		Auth:       auth,
		CABundle:   caBundle,
		Tags:       git.NoTags,
	})
	switch {
	case err == nil, errors.Is(err, git.NoErrAlreadyUpToDate):
	case errors.Is(err, transport.ErrEmptyRemoteRepository), errors.Is(err, git.NoMatchingRefSpecError{}):
		if err := sto.RemoveReference(tracking); err != nil {
			return plumbing.ZeroHash, err
		}
		return plumbing.ZeroHash, nil
	default:
		return plumbing.ZeroHash, err
	}
	ref, err := sto.Reference(tracking)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read %s after fetching: %w", tracking, err)
	}
	return ref.Hash(), nil
}

// isRejected reports whether a push failed because the remote branch is not
// where the pusher last saw it: go-git's own fast-forward check, and the
// reasons servers report for a stale old value.
func isRejected(err error) bool {
	if errors.Is(err, git.ErrForceNeeded) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"non-fast-forward", "fetch first", "failed to update ref", "cannot lock ref", "stale info", "failed to lock"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func hashString(h plumbing.Hash) string {
	if h.IsZero() {
		return ""
	}
	return h.String()
}
