// Package gitfs reads the files of a Git revision straight from the
// repository's objects: no checkout, no working tree, no network. A
// revision's tree is an fs.FS, so the compiler loads a package as it was at
// `origin/main` exactly as it loads one from disk.
package gitfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

// Repo is an opened Git repository.
type Repo struct {
	repo *git.Repository
	// root is the absolute path of the working tree, or "" for a bare
	// repository.
	root string
}

// Open opens the repository that holds repoDir: the nearest of repoDir and
// its parents with a .git directory or file, or repoDir itself when it is a
// bare repository. Linked worktrees (`git worktree add`) are supported.
func Open(repoDir string) (*Repo, error) {
	abs, err := filepath.Abs(repoDir)
	if err != nil {
		return nil, fmt.Errorf("open git repository at %s: %w", repoDir, err)
	}
	r, err := git.PlainOpenWithOptions(abs, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		// A bare repository has no .git: the directory is the repository.
		r, err = git.PlainOpenWithOptions(abs, &git.PlainOpenOptions{})
	}
	if err != nil {
		if errors.Is(err, git.ErrRepositoryNotExists) {
			return nil, fmt.Errorf("open git repository: no .git directory in %s or any parent directory (the plan compares Git revisions, so the specs must be in a Git repository)", abs)
		}
		return nil, fmt.Errorf("open git repository at %s: %w", abs, err)
	}
	repo := &Repo{repo: r}
	if wt, err := r.Worktree(); err == nil {
		root := wt.Filesystem.Root()
		if resolved, err := filepath.EvalSymlinks(root); err == nil {
			root = resolved
		}
		repo.root = root
	}
	return repo, nil
}

// Root is the absolute path of the repository's working tree, or "" for a
// bare repository.
func (r *Repo) Root() string { return r.root }

// Rel returns the slash-separated path of dir relative to the root of the
// working tree ("." for the root itself): the directory to pass as the
// package directory inside a revision's FS.
func (r *Repo) Rel(dir string) (string, error) {
	if r.root == "" {
		return "", fmt.Errorf("locate %s in the repository: the repository is bare, so no directory on disk belongs to it", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("locate %s in the repository: %w", dir, err)
	}
	if resolved, err := filepath.EvalSymlinks(abs); err == nil {
		abs = resolved
	}
	rel, err := filepath.Rel(r.root, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("locate %s in the repository: it is outside the working tree %s", dir, r.root)
	}
	return filepath.ToSlash(rel), nil
}

// FS returns the tree of a revision as a read-only file system, and the
// full hash of the commit the revision names. rev is anything `git
// rev-parse` resolves to a commit in the common forms: a branch (`main`), a
// remote branch (`origin/main`), a tag (lightweight or annotated), a full
// or abbreviated commit hash, `HEAD`, and ancestry such as `HEAD~1` or
// `main^2`. An empty rev means HEAD.
//
// Files are read from Git's objects when opened. A symbolic link is
// followed while it stays inside the tree; opening a path through a link
// that leads out of it (an absolute target, or too many `..`) fails with an
// error that wraps ErrOutsideTree. Submodules are not part of the tree:
// they are listed as irregular entries and cannot be opened.
func (r *Repo) FS(rev string) (fs.FS, string, error) {
	if rev == "" {
		rev = "HEAD"
	}
	hash, err := r.repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return nil, "", revisionError(rev, err)
	}
	commit, err := r.repo.CommitObject(*hash)
	if err != nil {
		return nil, "", fmt.Errorf("read commit %s of revision %q: %w", hash, rev, err)
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, "", fmt.Errorf("read the tree of commit %s (revision %q): %w", hash, rev, err)
	}
	return &treeFS{repo: r.repo, root: tree, modTime: commit.Committer.When}, hash.String(), nil
}

// revisionError words a failed resolution for the user.
func revisionError(rev string, err error) error {
	switch {
	case errors.Is(err, plumbing.ErrReferenceNotFound):
		return fmt.Errorf("resolve revision %q: no branch, tag or commit of that name in the repository (expected e.g. main, origin/main, v1.2.0, a commit hash or HEAD~1; in CI, fetch the base branch first, e.g. actions/checkout with fetch-depth: 0)", rev)
	case errors.Is(err, io.EOF):
		return fmt.Errorf("resolve revision %q: it names a parent the commit does not have (before the first commit, or a second parent of a commit that is not a merge), or one that this shallow clone lacks", rev)
	case errors.Is(err, plumbing.ErrObjectNotFound):
		return fmt.Errorf("resolve revision %q: a commit it needs is not in this clone (a shallow clone lacks older commits; fetch more history): %w", rev, err)
	}
	return fmt.Errorf("resolve revision %q: %w", rev, err)
}
