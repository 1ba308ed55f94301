package gitops

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-git/go-billy/v5"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/index"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// deliverLocal commits the files under t.Dir of the working tree at
// t.LocalRepo. It holds Git's index lock throughout, changes only index
// entries and worktree files under Dir, and moves the branch with a
// compare-and-swap so a concurrent commit is never overwritten.
func deliverLocal(ctx context.Context, t Target, files []File, message string) (*Result, error) {
	repo, err := git.PlainOpenWithOptions(t.LocalRepo, &git.PlainOpenOptions{EnableDotGitCommonDir: true})
	if err != nil {
		return nil, fmt.Errorf("open Git working tree %s: %w", t.LocalRepo, err)
	}
	sto, ok := repo.Storer.(*filesystem.Storage)
	if !ok {
		return nil, fmt.Errorf("open Git working tree %s: unsupported storage %T", t.LocalRepo, repo.Storer)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return nil, fmt.Errorf("open Git working tree %s: %w", t.LocalRepo, err)
	}
	root := wt.Filesystem.Root()

	branch := plumbing.NewBranchReferenceName(t.Branch)
	head, err := sto.Reference(plumbing.HEAD)
	if err != nil {
		return nil, fmt.Errorf("read HEAD of %s: %w", root, err)
	}
	if head.Type() != plumbing.SymbolicReference || head.Target() != branch {
		return nil, fmt.Errorf("%s has %s checked out; expected branch %q (check it out, or set Target.Branch)", root, describeHead(head), t.Branch)
	}

	unlock, err := lockIndex(sto.Filesystem())
	if err != nil {
		return nil, fmt.Errorf("lock the index of %s: %w", root, err)
	}
	locked := true
	defer func() {
		if locked {
			unlock()
		}
	}()

	var base plumbing.Hash
	oldRef, err := sto.Reference(branch)
	switch {
	case err == nil:
		base = oldRef.Hash()
	case errors.Is(err, plumbing.ErrReferenceNotFound):
		oldRef = nil
	default:
		return nil, fmt.Errorf("read branch %q of %s: %w", t.Branch, root, err)
	}

	idx, err := sto.Index()
	if err != nil {
		return nil, fmt.Errorf("read the index of %s: %w", root, err)
	}
	if err := checkNoSymlinks(root, t.Dir); err != nil {
		return nil, err
	}
	if err := checkClean(wt, idx, t.Dir); err != nil {
		return nil, fmt.Errorf("%s: %w", root, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	ch, err := applyFiles(ctx, sto, base, t.Dir, files, t.Author, message)
	if err != nil {
		return nil, err
	}
	res := &Result{Commit: hashString(base), Attempts: 1}
	if len(ch.changed) == 0 {
		return res, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := sto.CheckAndSetReference(plumbing.NewHashReference(branch, ch.commit), oldRef); err != nil {
		return nil, fmt.Errorf("move branch %q of %s to %s (did another commit land meanwhile?): %w", t.Branch, root, ch.commit, err)
	}
	res = &Result{Commit: ch.commit.String(), Changed: true, Attempts: 1, Files: ch.changed}

	if err := writeWorktree(root, t.Dir, files, ch.changed); err != nil {
		return res, fmt.Errorf("commit %s made, but updating the worktree under %s failed: %w", ch.commit, t.Dir, err)
	}
	if err := updateIndex(idx, t.Dir, files, ch.newDir, root); err != nil {
		return res, fmt.Errorf("commit %s made, but updating the index failed: %w", ch.commit, err)
	}
	if err := writeIndex(sto.Filesystem(), idx); err != nil {
		return res, fmt.Errorf("commit %s made, but writing the index failed: %w", ch.commit, err)
	}
	locked = false

	if !t.Push {
		return res, nil
	}
	if err := pushLocal(ctx, repo, t); err != nil {
		return res, err
	}
	return res, nil
}

func describeHead(head *plumbing.Reference) string {
	if head.Type() == plumbing.SymbolicReference {
		return fmt.Sprintf("branch %q", head.Target().Short())
	}
	return fmt.Sprintf("a detached HEAD at %s", head.Hash())
}

// lockIndex takes Git's index lock, as git does before changing the index.
// The returned function releases it without writing.
func lockIndex(dotGit billy.Filesystem) (func(), error) {
	f, err := dotGit.OpenFile("index.lock", os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, errors.New("index.lock exists: another Git process is running in this repository, or one crashed (remove .git/index.lock once none runs)")
		}
		return nil, err
	}
	_ = f.Close()
	return func() { _ = dotGit.Remove("index.lock") }, nil
}

// writeIndex writes idx into the held index.lock and renames it into place,
// so the index is never half-written. On failure the lock stays for its
// holder to release.
func writeIndex(dotGit billy.Filesystem, idx *index.Index) error {
	f, err := dotGit.OpenFile("index.lock", os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if err := index.NewEncoder(f).Encode(idx); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return dotGit.Rename("index.lock", "index")
}

// checkClean refuses when anything under dir differs between HEAD, the index
// and the worktree, or is untracked and not ignored, naming the paths.
func checkClean(wt *git.Worktree, idx *index.Index, dir string) error {
	var dirty []string
	for _, e := range idx.Entries {
		// Stage 0 is a merged entry (go-git's index.Merged constant is 1).
		if e.Stage != 0 && under(dir, e.Name) {
			dirty = append(dirty, e.Name+" (unmerged)")
		}
	}
	st, err := wt.Status()
	if err != nil {
		return fmt.Errorf("read status: %w", err)
	}
	for p, s := range st {
		if !under(dir, p) || (s.Staging == git.Unmodified && s.Worktree == git.Unmodified) {
			continue
		}
		dirty = append(dirty, fmt.Sprintf("%s (%s)", p, statusWord(s)))
	}
	if len(dirty) == 0 {
		return nil
	}
	sort.Strings(dirty)
	return fmt.Errorf("uncommitted changes under %s would be overwritten: %s; commit or discard them first", dir, strings.Join(dirty, ", "))
}

func statusWord(s *git.FileStatus) string {
	switch {
	case s.Worktree == git.Untracked:
		return "untracked"
	case s.Staging != git.Unmodified:
		return "staged"
	default:
		return "modified"
	}
}

// checkNoSymlinks refuses when dir or a folder above it in the worktree is a
// symbolic link, which would make writes land outside the repository.
func checkNoSymlinks(root, dir string) error {
	p := root
	for _, c := range strings.Split(dir, "/") {
		p = filepath.Join(p, c)
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s is a symbolic link in the worktree; refusing to write through it", p)
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s exists in the worktree and is not a folder", p)
		}
	}
	return nil
}

// writeWorktree writes the changed files under dir (each to a temporary
// file renamed into place) and removes the ones no longer delivered,
// pruning folders left empty.
func writeWorktree(root, dir string, files []File, changed []string) error {
	byPath := make(map[string][]byte, len(files))
	for _, f := range files {
		byPath[path.Join(dir, f.Path)] = f.Data
	}
	// Removals first, so that a file may take the place of a folder that
	// held only removed files.
	for _, p := range changed {
		if _, keep := byPath[p]; keep {
			continue
		}
		if err := os.Remove(filepath.Join(root, filepath.FromSlash(p))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		pruneEmpty(root, dir, path.Dir(p))
	}
	for _, p := range changed {
		data, keep := byPath[p]
		if !keep {
			continue
		}
		if err := mkdirNoSymlinks(root, path.Dir(p)); err != nil {
			return err
		}
		if err := writeFileAtomic(filepath.Join(root, filepath.FromSlash(p)), data); err != nil {
			return err
		}
	}
	return nil
}

// mkdirNoSymlinks creates the folder rel below root, refusing symbolic links
// and files on the way.
func mkdirNoSymlinks(root, rel string) error {
	p := root
	for _, c := range strings.Split(rel, "/") {
		p = filepath.Join(p, c)
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := os.Mkdir(p, 0o755); err != nil {
				return err
			}
		case err != nil:
			return err
		case fi.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("%s is a symbolic link; refusing to write through it", p)
		case !fi.IsDir():
			return fmt.Errorf("%s is a file; expected a folder", p)
		}
	}
	return nil
}

func writeFileAtomic(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), ".slipway-*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		_ = os.Remove(tmp)
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		_ = f.Close()
		_ = os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, name); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

// pruneEmpty removes rel and the folders above it, up to and including
// dir, while they are empty.
func pruneEmpty(root, dir, rel string) {
	for ; rel == dir || under(dir, rel); rel = path.Dir(rel) {
		if os.Remove(filepath.Join(root, filepath.FromSlash(rel))) != nil {
			return
		}
	}
}

// updateIndex replaces the index entries under dir with the delivered files,
// leaving every other entry as it was.
func updateIndex(idx *index.Index, dir string, files []File, blobs map[string]blobInfo, root string) error {
	kept := idx.Entries[:0]
	for _, e := range idx.Entries {
		if !under(dir, e.Name) {
			kept = append(kept, e)
		}
	}
	idx.Entries = kept
	for _, f := range files {
		name := path.Join(dir, f.Path)
		fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(name)))
		if err != nil {
			return err
		}
		idx.Entries = append(idx.Entries, &index.Entry{
			Hash:       blobs[f.Path].hash,
			Name:       name,
			Mode:       filemode.Regular,
			Size:       uint32(fi.Size()),
			ModifiedAt: fi.ModTime(),
			CreatedAt:  fi.ModTime(),
		})
	}
	sort.Slice(idx.Entries, func(i, j int) bool { return idx.Entries[i].Name < idx.Entries[j].Name })
	// The cached-tree extension describes the old entries; Git rebuilds it.
	idx.Cache = nil
	return nil
}

// pushLocal pushes the branch to the remote "origin" of repo.
func pushLocal(ctx context.Context, repo *git.Repository, t Target) error {
	remote, err := repo.Remote("origin")
	if err != nil {
		return fmt.Errorf("push branch %q: read remote \"origin\": %w", t.Branch, err)
	}
	rawURL := ""
	if urls := remote.Config().URLs; len(urls) > 0 {
		rawURL = urls[0]
	}
	shown := redactURL(rawURL)
	branch := plumbing.NewBranchReferenceName(t.Branch)
	err = remote.PushContext(ctx, &git.PushOptions{
		RemoteName: "origin",
		RefSpecs:   []config.RefSpec{config.RefSpec(branch + ":" + branch)},
		Auth:       authFor(t.Auth, rawURL),
		CABundle:   t.CABundle,
	})
	switch {
	case err == nil, errors.Is(err, git.NoErrAlreadyUpToDate):
		return nil
	case isRejected(err):
		return fmt.Errorf("push branch %q to origin (%s): origin has commits the local branch lacks; the commit stays local: pull, then deliver again: %w", t.Branch, shown, err)
	default:
		return fmt.Errorf("push branch %q to origin (%s): %w", t.Branch, shown, err)
	}
}
