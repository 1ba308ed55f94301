package gitfs_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/slipway-ml/slipway/compiler/gitfs"
)

// fixture builds a real repository in a temporary directory.
type fixture struct {
	t    testing.TB
	dir  string
	repo *git.Repository
	wt   *git.Worktree
	n    int
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")},
	})
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, dir: dir, repo: repo, wt: wt}
}

func (f *fixture) write(name, content string) {
	f.t.Helper()
	p := filepath.Join(f.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) symlink(name, target string) {
	f.t.Helper()
	p := filepath.Join(f.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) remove(name string) {
	f.t.Helper()
	if err := os.Remove(filepath.Join(f.dir, filepath.FromSlash(name))); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) sig() *object.Signature {
	f.n++
	return &object.Signature{Name: "Test", Email: "test@example.com", When: time.Date(2024, 1, 1, 0, 0, f.n, 0, time.UTC)}
}

// commit stages everything (deletions included) and commits it.
func (f *fixture) commit(msg string, parents ...plumbing.Hash) plumbing.Hash {
	f.t.Helper()
	if err := f.wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		f.t.Fatal(err)
	}
	h, err := f.wt.Commit(msg, &git.CommitOptions{Author: f.sig(), Parents: parents, AllowEmptyCommits: true})
	if err != nil {
		f.t.Fatal(err)
	}
	return h
}

func (f *fixture) checkout(branch string, create bool) {
	f.t.Helper()
	if err := f.wt.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(branch), Create: create, Force: true}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) ref(name string, h plumbing.Hash) {
	f.t.Helper()
	if err := f.repo.Storer.SetReference(plumbing.NewHashReference(plumbing.ReferenceName(name), h)); err != nil {
		f.t.Fatal(err)
	}
}

// history is the repository the tests share:
//
//	c1 (tag v1) ── c2 (tag v2, origin/main) ── c4 (main, merge)
//	  └── c3 (feature) ─────────────────────────┘
type history struct {
	*fixture
	c1, c2, c3, c4 plumbing.Hash
}

func newHistory(t testing.TB) *history {
	f := newFixture(t)
	h := &history{fixture: f}
	f.write("README.md", "v1\n")
	f.write("spec/churn.cue", "a: 1\n")
	f.write("old.txt", "old\n")
	f.symlink("link-in", "spec/churn.cue")
	f.symlink("dirlink", "spec")
	f.symlink("spec/up", "..")
	f.symlink("spec/sibling", "../README.md")
	f.symlink("bad-rel", "../outside.txt")
	f.symlink("bad-abs", "/etc/passwd")
	f.symlink("spec/escape", "../../x")
	f.symlink("via-dirlink-escape", "dirlink/../..")
	f.symlink("loop1", "loop2")
	f.symlink("loop2", "loop1")
	f.symlink("dangling", "nowhere")
	h.c1 = f.commit("c1")
	if _, err := f.repo.CreateTag("v1", h.c1, nil); err != nil {
		t.Fatal(err)
	}

	f.write("spec/churn.cue", "a: 2\n")
	f.remove("old.txt")
	h.c2 = f.commit("c2")
	if _, err := f.repo.CreateTag("v2", h.c2, &git.CreateTagOptions{Tagger: f.sig(), Message: "release 2"}); err != nil {
		t.Fatal(err)
	}
	f.ref("refs/remotes/origin/main", h.c2)

	f.ref("refs/heads/feature", h.c1)
	f.checkout("feature", false)
	f.write("spec/churn.cue", "a: 3\n")
	h.c3 = f.commit("c3")

	f.checkout("main", false)
	f.write("merged.txt", "merged\n")
	h.c4 = f.commit("merge feature", h.c2, h.c3)
	return h
}

func open(t *testing.T, dir string) *gitfs.Repo {
	t.Helper()
	r, err := gitfs.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRevisions(t *testing.T) {
	h := newHistory(t)
	r := open(t, h.dir)
	tests := []struct {
		rev    string
		commit plumbing.Hash
		spec   string
		old    bool // old.txt exists
		merged bool // merged.txt exists
	}{
		{"", h.c4, "a: 2\n", false, true},
		{"HEAD", h.c4, "a: 2\n", false, true},
		{"main", h.c4, "a: 2\n", false, true},
		{"refs/heads/main", h.c4, "a: 2\n", false, true},
		{"HEAD~1", h.c2, "a: 2\n", false, false},
		{"HEAD^1", h.c2, "a: 2\n", false, false},
		{"HEAD^2", h.c3, "a: 3\n", true, false},
		{"HEAD~2", h.c1, "a: 1\n", true, false},
		{"feature", h.c3, "a: 3\n", true, false},
		{"origin/main", h.c2, "a: 2\n", false, false},
		{"v1", h.c1, "a: 1\n", true, false},
		{"v2", h.c2, "a: 2\n", false, false},
		{h.c1.String(), h.c1, "a: 1\n", true, false},
		{h.c3.String()[:10], h.c3, "a: 3\n", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.rev, func(t *testing.T) {
			fsys, commit, err := r.FS(tt.rev)
			if err != nil {
				t.Fatal(err)
			}
			if commit != tt.commit.String() {
				t.Errorf("commit = %s, want %s", commit, tt.commit)
			}
			got, err := fs.ReadFile(fsys, "spec/churn.cue")
			if err != nil || string(got) != tt.spec {
				t.Errorf("spec/churn.cue = %q, %v; want %q", got, err, tt.spec)
			}
			for name, want := range map[string]bool{"old.txt": tt.old, "merged.txt": tt.merged} {
				_, err := fs.Stat(fsys, name)
				if want && err != nil {
					t.Errorf("%s: %v, want it present", name, err)
				}
				if !want && !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s: err = %v, want fs.ErrNotExist", name, err)
				}
			}
		})
	}
}

func TestRevisionErrors(t *testing.T) {
	h := newHistory(t)
	r := open(t, h.dir)
	tests := []struct {
		rev, want string
	}{
		{"nope", "no branch, tag or commit of that name"},
		{"origin/nope", "fetch-depth: 0"},
		{"HEAD~9", "parent the commit does not have"},
		{"HEAD~1^2", "parent the commit does not have"},
		{"HEAD@{", "resolve revision"},
	}
	for _, tt := range tests {
		t.Run(tt.rev, func(t *testing.T) {
			_, _, err := r.FS(tt.rev)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("FS(%q) error = %v, want it to contain %q", tt.rev, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.rev) {
				t.Errorf("error %q does not name the revision", err)
			}
		})
	}
}

func TestSymlinks(t *testing.T) {
	h := newHistory(t)
	r := open(t, h.dir)
	fsys, _, err := r.FS("v1")
	if err != nil {
		t.Fatal(err)
	}
	reads := map[string]string{
		"link-in":                    "a: 1\n",
		"dirlink/churn.cue":          "a: 1\n",
		"spec/up/README.md":          "v1\n",
		"spec/up/dirlink/up/old.txt": "old\n",
		"spec/sibling":               "v1\n",
	}
	for name, want := range reads {
		got, err := fs.ReadFile(fsys, name)
		if err != nil || string(got) != want {
			t.Errorf("ReadFile(%s) = %q, %v; want %q", name, got, err, want)
		}
	}
	for _, name := range []string{"bad-rel", "bad-abs", "spec/escape", "via-dirlink-escape", "via-dirlink-escape/etc"} {
		for op, call := range map[string]func() error{
			"open":     func() error { _, err := fsys.Open(name); return err },
			"readfile": func() error { _, err := fs.ReadFile(fsys, name); return err },
			"stat":     func() error { _, err := fs.Stat(fsys, name); return err },
		} {
			err := call()
			if !errors.Is(err, gitfs.ErrOutsideTree) {
				t.Errorf("%s %s: err = %v, want ErrOutsideTree", op, name, err)
				continue
			}
			var pe *fs.PathError
			if !errors.As(err, &pe) || pe.Path != name {
				t.Errorf("%s %s: err = %#v, want a *fs.PathError naming the path", op, name, err)
			}
		}
	}
	if _, err := fs.ReadFile(fsys, "loop1"); err == nil || !strings.Contains(err.Error(), "loop") {
		t.Errorf("ReadFile(loop1) error = %v, want a loop error", err)
	}
	if _, err := fs.ReadFile(fsys, "dangling"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile(dangling) error = %v, want fs.ErrNotExist", err)
	}

	// Links themselves can be read and listed without following them.
	if target, err := fs.ReadLink(fsys, "bad-abs"); err != nil || !path.IsAbs(target) || !strings.HasSuffix(target, "/etc/passwd") {
		t.Errorf("ReadLink(bad-abs) = %q, %v", target, err)
	}
	if _, err := fs.ReadLink(fsys, "README.md"); err == nil {
		t.Error("ReadLink of a regular file succeeded")
	}
	fi, err := fs.Lstat(fsys, "bad-rel")
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 || fi.Size() != int64(len("../outside.txt")) {
		t.Errorf("Lstat(bad-rel) = %v, %v; want a symlink of the target's length", fi, err)
	}
	if fi, err := fs.Stat(fsys, "dirlink"); err != nil || !fi.IsDir() || fi.Name() != "dirlink" {
		t.Errorf("Stat(dirlink) = %v, %v; want the directory it points to", fi, err)
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]fs.FileMode{}
	var names []string
	for _, e := range entries {
		types[e.Name()] = e.Type()
		names = append(names, e.Name())
	}
	if !slices.IsSorted(names) {
		t.Errorf("ReadDir is not sorted: %v", names)
	}
	for name, want := range map[string]fs.FileMode{"link-in": fs.ModeSymlink, "dirlink": fs.ModeSymlink, "spec": fs.ModeDir, "README.md": 0} {
		if got := types[name]; got != want {
			t.Errorf("ReadDir type of %s = %v, want %v", name, got, want)
		}
	}
	// Through a directory link, the listing is the target's.
	sub, err := fs.ReadDir(fsys, "dirlink")
	if err != nil || len(sub) == 0 || sub[0].Name() != "churn.cue" {
		t.Errorf("ReadDir(dirlink) = %v, %v", sub, err)
	}
}

func TestFileOperations(t *testing.T) {
	h := newHistory(t)
	r := open(t, h.dir)
	fsys, _, err := r.FS("v1")
	if err != nil {
		t.Fatal(err)
	}
	f, err := fsys.Open("spec/churn.cue")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := f.Stat()
	if err != nil || fi.Size() != 5 || fi.Mode() != 0o644 || fi.Name() != "churn.cue" {
		t.Errorf("Stat = %v, %v", fi, err)
	}
	if want := time.Date(2024, 1, 1, 0, 0, 1, 0, time.UTC); !fi.ModTime().Equal(want) {
		t.Errorf("ModTime = %v, want the commit time %v", fi.ModTime(), want)
	}
	data, err := io.ReadAll(f)
	if err != nil || string(data) != "a: 1\n" {
		t.Errorf("read = %q, %v", data, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("second Close = %v, want fs.ErrClosed", err)
	}
	if _, err := f.Read(make([]byte, 1)); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Read after Close = %v, want fs.ErrClosed", err)
	}
	for _, name := range []string{"/abs", "../x", "spec/", "a//b", ""} {
		if _, err := fsys.Open(name); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("Open(%q) = %v, want fs.ErrInvalid", name, err)
		}
	}
	if _, err := fsys.Open("README.md/x"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open through a file = %v, want fs.ErrNotExist", err)
	}
	if _, err := fs.ReadFile(fsys, "spec"); err == nil {
		t.Error("ReadFile of a directory succeeded")
	}
	if _, err := fs.ReadDir(fsys, "README.md"); err == nil {
		t.Error("ReadDir of a file succeeded")
	}
	d, err := fsys.Open("spec")
	if err != nil {
		t.Fatal(err)
	}
	rd := d.(fs.ReadDirFile)
	first, err := rd.ReadDir(1)
	if err != nil || len(first) != 1 || first[0].Name() != "churn.cue" {
		t.Errorf("ReadDir(1) = %v, %v", first, err)
	}
	rest, err := rd.ReadDir(-1)
	if err != nil || len(rest) != 3 || rest[2].Name() != "up" {
		t.Errorf("ReadDir(-1) = %v, %v; want the 3 remaining entries", rest, err)
	}
	if _, err := rd.ReadDir(1); err != io.EOF {
		t.Errorf("ReadDir at the end = %v, want io.EOF", err)
	}
}

// TestFSConformance runs the standard library's fs.FS checks on a tree
// with files, directories, an executable and a link inside the tree.
func TestFSConformance(t *testing.T) {
	f := newFixture(t)
	f.write("a.txt", "a\n")
	f.write("dir/b.txt", "bb\n")
	f.write("dir/sub/c.cue", "c: 1\n")
	f.write("bin/run.sh", "#!/bin/sh\n")
	if err := os.Chmod(filepath.Join(f.dir, "bin/run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	f.symlink("dir/link", "../a.txt")
	f.commit("one")
	fsys, _, err := open(t, f.dir).FS("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(fsys, "a.txt", "dir/b.txt", "dir/sub/c.cue", "bin/run.sh", "dir/link"); err != nil {
		t.Fatal(err)
	}
	if fi, err := fs.Stat(fsys, "bin/run.sh"); err != nil || fi.Mode() != 0o755 {
		t.Errorf("Stat(bin/run.sh) = %v, %v; want mode 0755", fi, err)
	}
}

func TestSubmodule(t *testing.T) {
	f := newFixture(t)
	f.write("a.txt", "a\n")
	base := f.commit("base")
	// A tree holding a submodule entry, as `git submodule add` records it.
	baseCommit, err := f.repo.CommitObject(base)
	if err != nil {
		t.Fatal(err)
	}
	baseTree, err := baseCommit.Tree()
	if err != nil {
		t.Fatal(err)
	}
	tree := &object.Tree{Entries: append(slices.Clone(baseTree.Entries),
		object.TreeEntry{Name: "vendor", Mode: filemode.Submodule, Hash: plumbing.NewHash("1111111111111111111111111111111111111111")})}
	treeHash := store(t, f.repo, tree)
	commit := &object.Commit{Author: *f.sig(), Committer: *f.sig(), Message: "submodule", TreeHash: treeHash, ParentHashes: []plumbing.Hash{base}}
	ch := store(t, f.repo, commit)
	fsys, got, err := open(t, f.dir).FS(ch.String())
	if err != nil || got != ch.String() {
		t.Fatalf("FS = %s, %v", got, err)
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil || len(entries) != 2 || entries[1].Name() != "vendor" || entries[1].Type() != fs.ModeIrregular {
		t.Fatalf("ReadDir = %v, %v; want vendor listed as irregular", entries, err)
	}
	if _, err := fsys.Open("vendor"); err == nil || !strings.Contains(err.Error(), "submodule") {
		t.Errorf("Open(vendor) = %v, want a submodule error", err)
	}
	if _, err := fsys.Open("vendor/x"); err == nil || !strings.Contains(err.Error(), "submodule") {
		t.Errorf("Open(vendor/x) = %v, want a submodule error", err)
	}
}

func store(t *testing.T, repo *git.Repository, o interface {
	Encode(plumbing.EncodedObject) error
}) plumbing.Hash {
	t.Helper()
	obj := repo.Storer.NewEncodedObject()
	if err := o.Encode(obj); err != nil {
		t.Fatal(err)
	}
	h, err := repo.Storer.SetEncodedObject(obj)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestOpenAndRel(t *testing.T) {
	h := newHistory(t)
	sub := filepath.Join(h.dir, "spec")
	r := open(t, sub)
	root, err := filepath.EvalSymlinks(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Root() != root {
		t.Errorf("Root = %s, want %s", r.Root(), root)
	}
	for dir, want := range map[string]string{h.dir: ".", sub: "spec", filepath.Join(h.dir, "a", "b"): "a/b"} {
		if got, err := r.Rel(dir); err != nil || got != want {
			t.Errorf("Rel(%s) = %q, %v; want %q", dir, got, err, want)
		}
	}
	if _, err := r.Rel(t.TempDir()); err == nil || !strings.Contains(err.Error(), "outside the working tree") {
		t.Errorf("Rel(outside) error = %v", err)
	}
	// The package directory found by Rel reads from the revision.
	fsys, _, err := r.FS("v1")
	if err != nil {
		t.Fatal(err)
	}
	rel, _ := r.Rel(sub)
	if data, err := fs.ReadFile(fsys, rel+"/churn.cue"); err != nil || string(data) != "a: 1\n" {
		t.Errorf("read through Rel = %q, %v", data, err)
	}

	none := t.TempDir()
	if _, err := gitfs.Open(none); err == nil || !strings.Contains(err.Error(), "no .git directory") {
		t.Errorf("Open(no repository) error = %v", err)
	}
}

func TestBare(t *testing.T) {
	dir := t.TempDir()
	if _, err := git.PlainInit(dir, true); err != nil {
		t.Fatal(err)
	}
	r, err := gitfs.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Root() != "" {
		t.Errorf("Root of a bare repository = %q", r.Root())
	}
	if _, err := r.Rel(dir); err == nil || !strings.Contains(err.Error(), "bare") {
		t.Errorf("Rel in a bare repository = %v", err)
	}
	if _, _, err := r.FS("HEAD"); err == nil {
		t.Error("FS(HEAD) of an empty repository succeeded")
	}
}

// FuzzFS opens arbitrary names in a tree full of links: nothing panics,
// every failure is a *fs.PathError, and nothing outside the tree is read.
func FuzzFS(f *testing.F) {
	h := newHistory(f)
	r, err := gitfs.Open(h.dir)
	if err != nil {
		f.Fatal(err)
	}
	fsys, _, err := r.FS("v1")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{".", "spec/churn.cue", "spec/up/spec/up/README.md", "bad-abs", "loop1", "dirlink/../x", "via-dirlink-escape/etc/passwd", "spec/escape/y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		ops := []func() error{
			func() error { _, err := fs.ReadFile(fsys, name); return err },
			func() error { _, err := fs.ReadDir(fsys, name); return err },
			func() error { _, err := fs.Stat(fsys, name); return err },
			func() error { _, err := fs.Lstat(fsys, name); return err },
			func() error { _, err := fs.ReadLink(fsys, name); return err },
		}
		for i, op := range ops {
			err := op()
			var pe *fs.PathError
			if err != nil && !errors.As(err, &pe) {
				t.Errorf("op %d on %q: %v is not a *fs.PathError", i, name, err)
			}
		}
		if data, err := fs.ReadFile(fsys, name); err == nil {
			known := []string{"v1\n", "a: 1\n", "old\n"}
			if !slices.Contains(known, string(data)) {
				t.Errorf("ReadFile(%q) = %q, which is no file of the tree", name, data)
			}
		}
	})
}
