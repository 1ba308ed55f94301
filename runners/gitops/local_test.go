package gitops

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/index"
)

// newLocal returns a working tree on main with files inside and outside
// prodDir committed.
func newLocal(t *testing.T, remoteURL string) *bench {
	t.Helper()
	b := newBench(t, remoteURL)
	b.write("README.md", "readme\n")
	b.write("other.txt", "other v1\n")
	b.write(".gitignore", "*.local\n")
	b.write(prodDir+"/keep.yaml", "keep: 1\n")
	b.write(prodDir+"/change.yaml", "value: old\n")
	b.write(prodDir+"/remove/me.yaml", "gone: soon\n")
	b.commit("initial")
	return b
}

func readFile(t *testing.T, name string) (string, bool) {
	t.Helper()
	data, err := os.ReadFile(name)
	if os.IsNotExist(err) {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(data), true
}

var localFiles = []File{
	{Path: "keep.yaml", Data: []byte("keep: 1\n")},
	{Path: "change.yaml", Data: []byte("value: new\n")},
	{Path: "added/new.yaml", Data: []byte("new: 1\n")},
}

func TestLocalDeliveryTouchesOnlyDir(t *testing.T) {
	b := newLocal(t, "")
	before := b.head()
	// Work in progress outside Dir: a staged change, an unstaged change, an
	// untracked file. None may be committed or disturbed.
	b.write("other.txt", "other v2 staged\n")
	b.add("other.txt")
	b.write("README.md", "readme edited\n")
	b.write("notes.txt", "scratch\n")
	// An ignored file under Dir is neither a reason to refuse nor removed.
	b.write(prodDir+"/cache.local", "ignored\n")

	res, err := Deliver(context.Background(), Target{LocalRepo: b.dir, Dir: prodDir, Author: sig("slipway")}, localFiles, "local delivery")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{prodDir + "/added/new.yaml", prodDir + "/change.yaml", prodDir + "/remove/me.yaml"}
	if !res.Changed || res.Attempts != 1 || !equalStrings(res.Files, want) {
		t.Fatalf("result = %+v; want changed files %v", res, want)
	}
	if h := b.head(); h.String() != res.Commit {
		t.Fatalf("HEAD = %s; want %s", h, res.Commit)
	}
	c := commitOf(t, b.dir, plumbing.NewHash(res.Commit))
	if len(c.ParentHashes) != 1 || c.ParentHashes[0] != before {
		t.Errorf("parents = %v; want %s", c.ParentHashes, before)
	}
	if got := diffPaths(t, commitOf(t, b.dir, before), c); !equalStrings(got, want) {
		t.Errorf("commit touches %v; want %v", got, want)
	}
	if got := treeFiles(t, c)["other.txt"]; got != "other v1\n" {
		t.Errorf("committed other.txt = %q; the staged change outside Dir leaked into the commit", got)
	}

	for p, wantContent := range map[string]string{
		prodDir + "/change.yaml":    "value: new\n",
		prodDir + "/added/new.yaml": "new: 1\n",
		prodDir + "/cache.local":    "ignored\n",
		"other.txt":                 "other v2 staged\n",
		"README.md":                 "readme edited\n",
		"notes.txt":                 "scratch\n",
	} {
		if got, _ := readFile(t, filepath.Join(b.dir, p)); got != wantContent {
			t.Errorf("worktree %s = %q; want %q", p, got, wantContent)
		}
	}
	if _, ok := readFile(t, filepath.Join(b.dir, prodDir, "remove/me.yaml")); ok {
		t.Error("removed file still in the worktree")
	}
	if _, err := os.Stat(filepath.Join(b.dir, prodDir, "remove")); !os.IsNotExist(err) {
		t.Errorf("emptied folder remove/ left behind (stat err %v)", err)
	}
	if _, err := os.Stat(filepath.Join(b.dir, ".git", "index.lock")); !os.IsNotExist(err) {
		t.Error("index.lock left behind")
	}

	// A fresh look at the repository: Dir is clean, the work in progress
	// outside it is exactly as it was.
	repo, err := git.PlainOpen(b.dir)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	st, err := wt.Status()
	if err != nil {
		t.Fatal(err)
	}
	for p, s := range st {
		if under(prodDir, p) {
			t.Errorf("%s is %c%c after delivery; want clean", p, s.Staging, s.Worktree)
		}
	}
	for p, code := range map[string][2]git.StatusCode{
		"other.txt": {git.Modified, git.Unmodified},
		"README.md": {git.Unmodified, git.Modified},
		"notes.txt": {git.Untracked, git.Untracked},
	} {
		s := st.File(p)
		if s.Staging != code[0] || s.Worktree != code[1] {
			t.Errorf("%s status = %c%c; want %c%c", p, s.Staging, s.Worktree, code[0], code[1])
		}
	}

	// Delivering the same files again changes nothing.
	again, err := Deliver(context.Background(), Target{LocalRepo: b.dir, Dir: prodDir, Author: sig("slipway")}, localFiles, "again")
	if err != nil {
		t.Fatal(err)
	}
	if again.Changed || again.Commit != res.Commit {
		t.Errorf("second delivery = %+v; want unchanged at %s", again, res.Commit)
	}
}

func TestLocalDeliveryRefusals(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, b *bench)
		want  string
	}{
		{"modified under Dir", func(t *testing.T, b *bench) {
			b.write(prodDir+"/change.yaml", "hand edit\n")
		}, prodDir + "/change.yaml (modified)"},
		{"staged under Dir", func(t *testing.T, b *bench) {
			b.write(prodDir+"/keep.yaml", "staged edit\n")
			b.add(prodDir + "/keep.yaml")
		}, prodDir + "/keep.yaml (staged)"},
		{"untracked under Dir", func(t *testing.T, b *bench) {
			b.write(prodDir+"/stray.yaml", "stray\n")
		}, prodDir + "/stray.yaml (untracked)"},
		{"deleted under Dir", func(t *testing.T, b *bench) {
			if err := os.Remove(filepath.Join(b.dir, prodDir, "keep.yaml")); err != nil {
				t.Fatal(err)
			}
		}, prodDir + "/keep.yaml (modified)"},
		{"unmerged under Dir", func(t *testing.T, b *bench) {
			idx, err := b.repo.Storer.Index()
			if err != nil {
				t.Fatal(err)
			}
			e, err := idx.Entry(prodDir + "/keep.yaml")
			if err != nil {
				t.Fatal(err)
			}
			ours := *e
			ours.Stage = index.OurMode
			idx.Entries = append(idx.Entries, &ours)
			if err := b.repo.Storer.SetIndex(idx); err != nil {
				t.Fatal(err)
			}
		}, prodDir + "/keep.yaml (unmerged)"},
		{"other branch checked out", func(t *testing.T, b *bench) {
			b.checkout("feature", true)
		}, `has branch "feature" checked out; expected branch "main"`},
		{"index locked", func(t *testing.T, b *bench) {
			if err := os.WriteFile(filepath.Join(b.dir, ".git", "index.lock"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "index.lock exists"},
		{"Dir is a symbolic link", func(t *testing.T, b *bench) {
			if err := os.RemoveAll(filepath.Join(b.dir, "deploy")); err != nil {
				t.Fatal(err)
			}
			outside := t.TempDir()
			if err := os.Symlink(outside, filepath.Join(b.dir, "deploy")); err != nil {
				t.Fatal(err)
			}
		}, "is a symbolic link"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newLocal(t, "")
			tt.setup(t, b)
			headBefore, err := b.repo.Reference(plumbing.HEAD, true)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Deliver(context.Background(), Target{LocalRepo: b.dir, Dir: prodDir, Author: sig("s")}, localFiles, "refused")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v; want it to contain %q", err, tt.want)
			}
			headAfter, err := b.repo.Reference(plumbing.HEAD, true)
			if err != nil {
				t.Fatal(err)
			}
			if headAfter.Hash() != headBefore.Hash() {
				t.Error("a refused delivery moved the branch")
			}
		})
	}
}

func TestLocalDeliveryToUnbornBranch(t *testing.T) {
	b := newBench(t, "")
	b.write("untracked-elsewhere.txt", "x\n")
	res, err := Deliver(context.Background(), Target{LocalRepo: b.dir, Dir: prodDir, Author: sig("s")}, chart("1"), "first")
	if err != nil {
		t.Fatal(err)
	}
	c := commitOf(t, b.dir, plumbing.NewHash(res.Commit))
	if len(c.ParentHashes) != 0 || len(treeFiles(t, c)) != 3 {
		t.Errorf("commit has parents %v and files %v; want a root commit with the chart", c.ParentHashes, treeFiles(t, c))
	}
	if got, _ := readFile(t, filepath.Join(b.dir, prodDir, "templates/deployment.yaml")); got != "kind: Deployment\n" {
		t.Errorf("worktree deployment.yaml = %q", got)
	}
}

func TestLocalDeliveryPush(t *testing.T) {
	remoteDir, url := newRemote(t)
	b := newLocal(t, url)
	b.push("main")

	target := Target{LocalRepo: b.dir, Dir: prodDir, Push: true, Author: sig("s")}
	res, err := Deliver(context.Background(), target, localFiles, "push it")
	if err != nil {
		t.Fatal(err)
	}
	if h := remoteHead(t, remoteDir, "main"); h.String() != res.Commit {
		t.Fatalf("remote main = %s; want the pushed commit %s", h, res.Commit)
	}

	// Someone else moves origin/main: the next change is committed locally
	// and the push refused with advice.
	other := newBench(t, url)
	other.write("elsewhere.txt", "x\n")
	other.commit("unrelated history")
	other.push("main")
	moved := remoteHead(t, remoteDir, "main")
	res2, err := Deliver(context.Background(), target, chart("9"), "diverged")
	if err == nil || !strings.Contains(err.Error(), "the commit stays local") {
		t.Fatalf("err = %v; want a refused push", err)
	}
	if res2 == nil || !res2.Changed || b.head().String() != res2.Commit {
		t.Errorf("result = %+v; want the local commit reported with the error", res2)
	}
	if h := remoteHead(t, remoteDir, "main"); h != moved {
		t.Errorf("remote main = %s; want it left at %s", h, moved)
	}
}
