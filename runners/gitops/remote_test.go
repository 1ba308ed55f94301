package gitops

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

const prodDir = "deploy/churn/production"

func chart(version string) []File {
	return []File{
		{Path: "Chart.yaml", Data: []byte("apiVersion: v2\nname: churn\nversion: " + version + "\n")},
		{Path: "values.yaml", Data: []byte("replicas: 2\n")},
		{Path: "templates/deployment.yaml", Data: []byte("kind: Deployment\n")},
	}
}

func TestFirstDeliveryToEmptyRemoteCreatesBranch(t *testing.T) {
	dir, url := newRemote(t)
	res, err := Deliver(context.Background(), Target{URL: url, Dir: prodDir, Author: sig("slipway")}, chart("1.0.0"), "deliver churn 1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{prodDir + "/Chart.yaml", prodDir + "/templates/deployment.yaml", prodDir + "/values.yaml"}
	if !res.Changed || res.Attempts != 1 || !equalStrings(res.Files, want) {
		t.Fatalf("result = %+v; want Changed, 1 attempt, files %v", res, want)
	}
	head := remoteHead(t, dir, "main")
	if head.String() != res.Commit {
		t.Fatalf("remote main = %s; want the delivered commit %s", head, res.Commit)
	}
	c := commitOf(t, dir, head)
	if len(c.ParentHashes) != 0 {
		t.Errorf("first commit has parents %v; want none", c.ParentHashes)
	}
	if c.Author.Name != "slipway" || !c.Author.When.Equal(fixedTime) || c.Message != "deliver churn 1.0.0\n" {
		t.Errorf("commit author/message = %v %q", c.Author, c.Message)
	}
	got := treeFiles(t, c)
	wantFiles := map[string]string{}
	for _, f := range chart("1.0.0") {
		wantFiles[prodDir+"/"+f.Path] = string(f.Data)
	}
	if !equalMaps(got, wantFiles) {
		t.Errorf("remote tree = %v; want %v", got, wantFiles)
	}

	// The same delivery to another empty remote makes the same commit.
	_, url2 := newRemote(t)
	res2, err := Deliver(context.Background(), Target{URL: url2, Dir: prodDir, Author: sig("slipway")}, chart("1.0.0"), "deliver churn 1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if res2.Commit != res.Commit {
		t.Errorf("commit differs between identical deliveries: %s vs %s", res2.Commit, res.Commit)
	}
}

func TestSecondIdenticalDeliveryChangesNothing(t *testing.T) {
	dir, url := newRemote(t)
	target := Target{URL: url, Dir: prodDir, Author: sig("slipway")}
	first, err := Deliver(context.Background(), target, chart("1.0.0"), "first")
	if err != nil {
		t.Fatal(err)
	}
	// Later author time, same content: still nothing to commit.
	target.Author.When = fixedTime.Add(3600e9)
	second, err := Deliver(context.Background(), target, chart("1.0.0"), "second")
	if err != nil {
		t.Fatal(err)
	}
	if second.Changed || second.Commit != first.Commit || len(second.Files) != 0 || second.Attempts != 1 {
		t.Fatalf("second delivery = %+v; want unchanged at %s", second, first.Commit)
	}
	if h := remoteHead(t, dir, "main"); h.String() != first.Commit {
		t.Errorf("remote main moved to %s", h)
	}
	if got := history(t, dir, remoteHead(t, dir, "main")); len(got) != 1 {
		t.Errorf("history = %v; want one commit", got)
	}
}

func TestChangeAndRemovalMakeOneCommitInsideDir(t *testing.T) {
	dir, url := newRemote(t)
	merge := seedWithMerge(t, url, prodDir)
	staging := remoteHead(t, dir, "staging")

	files := []File{
		{Path: "keep.yaml", Data: []byte("keep: 1\n")},
		{Path: "change.yaml", Data: []byte("value: new\n")},
		{Path: "sub/deep.yaml", Data: []byte("deep: 1\n")},
		{Path: "added/new.yaml", Data: []byte("new: 1\n")},
	}
	res, err := Deliver(context.Background(), Target{URL: url, Dir: prodDir, Author: sig("slipway")}, files, "update production")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{prodDir + "/added/new.yaml", prodDir + "/change.yaml", prodDir + "/remove.yaml"}
	if !res.Changed || !equalStrings(res.Files, want) {
		t.Fatalf("result = %+v; want changed files %v", res, want)
	}
	head := remoteHead(t, dir, "main")
	c := commitOf(t, dir, head)
	if len(c.ParentHashes) != 1 || c.ParentHashes[0] != merge {
		t.Fatalf("new commit parents = %v; want the merge commit %s only", c.ParentHashes, merge)
	}
	if got := diffPaths(t, commitOf(t, dir, merge), c); !equalStrings(got, want) {
		t.Errorf("commit touches %v; want exactly %v", got, want)
	}
	tree := treeFiles(t, c)
	for p, content := range map[string]string{
		"README.md":                 "gitops repository\n",
		"docs/notes.md":             "notes\n",
		"deploy/other/app.yaml":     "other: 1\n",
		"deploy/other/staging.yaml": "staging: 1\n",
		prodDir + "/change.yaml":    "value: new\n",
	} {
		if tree[p] != content {
			t.Errorf("%s = %q; want %q", p, tree[p], content)
		}
	}
	if _, ok := tree[prodDir+"/remove.yaml"]; ok {
		t.Error("remove.yaml is still in the tree")
	}
	if h := remoteHead(t, dir, "staging"); h != staging {
		t.Errorf("branch staging moved from %s to %s", staging, h)
	}
	if got := history(t, dir, head); len(got) != 5 || got[0] != "update production" {
		t.Errorf("history = %v; want the delivery on top of the 4 seeded commits", got)
	}
}

func TestMissingBranchOnNonEmptyRemoteIsCreated(t *testing.T) {
	dir, url := newRemote(t)
	merge := seedWithMerge(t, url, prodDir)
	res, err := Deliver(context.Background(), Target{URL: url, Branch: "env/prod", Dir: prodDir, Author: sig("slipway")}, chart("2.0.0"), "new env")
	if err != nil {
		t.Fatal(err)
	}
	h := remoteHead(t, dir, "env/prod")
	if h.String() != res.Commit {
		t.Fatalf("env/prod = %s; want %s", h, res.Commit)
	}
	c := commitOf(t, dir, h)
	if len(c.ParentHashes) != 0 || len(treeFiles(t, c)) != 3 {
		t.Errorf("new branch commit has parents %v and %d files; want a root commit with the 3 chart files", c.ParentHashes, len(treeFiles(t, c)))
	}
	if m := remoteHead(t, dir, "main"); m != merge {
		t.Errorf("main moved to %s", m)
	}
}

func TestEmptyDeliveryRemovesDir(t *testing.T) {
	dir, url := newRemote(t)
	seedWithMerge(t, url, prodDir)
	res, err := Deliver(context.Background(), Target{URL: url, Dir: prodDir, Author: sig("slipway")}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	c := commitOf(t, dir, remoteHead(t, dir, "main"))
	if !res.Changed || len(res.Files) != 4 || c.Message != "Deliver "+prodDir+"\n" {
		t.Fatalf("result = %+v, message %q", res, c.Message)
	}
	for p := range treeFiles(t, c) {
		if under(prodDir, p) {
			t.Errorf("%s left in the tree", p)
		}
	}
	if _, ok := treeFiles(t, c)["README.md"]; !ok {
		t.Error("README.md removed")
	}
}

func TestDirThatIsAFileIsRefused(t *testing.T) {
	_, url := newRemote(t)
	b := newBench(t, url)
	b.write("deploy/churn", "I am a file\n")
	b.commit("file in the way")
	b.push("main")
	_, err := Deliver(context.Background(), Target{URL: url, Dir: prodDir, Author: sig("s")}, chart("1"), "x")
	if err == nil || !strings.Contains(err.Error(), "deploy/churn exists in the repository as a file") {
		t.Fatalf("err = %v; want a file-in-the-way error", err)
	}
}

func TestPushRaceIsResolved(t *testing.T) {
	dir, url := newRemote(t)
	seedWithMerge(t, url, prodDir)
	target := Target{URL: url, Dir: prodDir, Author: sig("slipway"), beforePush: competitor(t, url, 1)}
	res, err := Deliver(context.Background(), target, chart("3.0.0"), "ours")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.Attempts != 2 {
		t.Fatalf("result = %+v; want a commit on the second attempt", res)
	}
	head := remoteHead(t, dir, "main")
	if head.String() != res.Commit {
		t.Fatalf("remote main = %s; want ours %s", head, res.Commit)
	}
	msgs := history(t, dir, head)
	if len(msgs) < 2 || msgs[0] != "ours" || msgs[1] != "competitor 1" {
		t.Fatalf("history = %v; want ours on top of the competitor's commit", msgs)
	}
	tree := treeFiles(t, commitOf(t, dir, head))
	if tree["deploy/competitor/round.txt"] != "round 1\n" || tree[prodDir+"/Chart.yaml"] == "" {
		t.Errorf("tree lacks one of the two deliveries: %v", tree)
	}
}

func TestRaceWithIdenticalContentEndsUnchanged(t *testing.T) {
	dir, url := newRemote(t)
	var once sync.Once
	target := Target{URL: url, Dir: prodDir, Author: sig("slipway")}
	target.beforePush = func(ctx context.Context, attempt int) error {
		var err error
		once.Do(func() {
			twin := Target{URL: url, Dir: prodDir, Author: sig("twin")}
			_, err = Deliver(ctx, twin, chart("1.0.0"), "twin")
		})
		return err
	}
	res, err := Deliver(context.Background(), target, chart("1.0.0"), "ours")
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed || res.Attempts != 2 {
		t.Fatalf("result = %+v; want unchanged after finding the twin's identical commit", res)
	}
	if got := history(t, dir, remoteHead(t, dir, "main")); !equalStrings(got, []string{"twin"}) {
		t.Errorf("history = %v; want only the twin's commit", got)
	}
}

func TestMaxAttemptsExhausted(t *testing.T) {
	dir, url := newRemote(t)
	target := Target{URL: url, Dir: prodDir, Author: sig("slipway"), MaxAttempts: 3, beforePush: competitor(t, url)}
	_, err := Deliver(context.Background(), target, chart("1.0.0"), "ours")
	if err == nil {
		t.Fatal("Deliver succeeded; want an error after 3 rejected pushes")
	}
	for _, want := range []string{`push branch "main"`, "rejected 3 times", "MaxAttempts is 3"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	msgs := history(t, dir, remoteHead(t, dir, "main"))
	if !equalStrings(msgs, []string{"competitor 3", "competitor 2", "competitor 1"}) {
		t.Errorf("history = %v; want the three competitor commits only", msgs)
	}
}

func TestConcurrentDeliveriesOverHTTPS(t *testing.T) {
	dir, _ := newRemote(t)
	srv := &gitServer{dir: dir, user: tokenUser, pass: "s3cret-token"}
	url, ca := serveHTTPS(t, srv)
	const n = 4
	var wg sync.WaitGroup
	results := make([]*Result, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			target := Target{URL: url, Dir: fmt.Sprintf("deploy/app%d", i), Auth: TokenAuth("s3cret-token"), CABundle: ca, Author: sig("slipway"), MaxAttempts: 20}
			results[i], errs[i] = Deliver(context.Background(), target, chart(fmt.Sprint(i)), fmt.Sprintf("app%d", i))
		}()
	}
	wg.Wait()
	attempts := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("delivery %d: %v", i, errs[i])
		}
		if !results[i].Changed {
			t.Errorf("delivery %d made no commit", i)
		}
		attempts += results[i].Attempts
	}
	head := remoteHead(t, dir, "main")
	if msgs := history(t, dir, head); len(msgs) != n {
		t.Errorf("history = %v; want %d commits, none lost", msgs, n)
	}
	tree := treeFiles(t, commitOf(t, dir, head))
	for i := range n {
		if tree[fmt.Sprintf("deploy/app%d/Chart.yaml", i)] == "" {
			t.Errorf("app%d is missing from the final tree", i)
		}
	}
	t.Logf("%d deliveries took %d attempts; the server refused %d stale updates", n, attempts, srv.rejected.Load())
}

func TestServerSideRejectionIsRetried(t *testing.T) {
	dir, fileURL := newRemote(t)
	srv := &gitServer{dir: dir, user: tokenUser, pass: "tok"}
	// Another writer's push lands after go-git checked the advertised refs
	// and before the server applies ours: only the server can refuse it.
	var once sync.Once
	srv.beforeReceive = func() {
		once.Do(func() {
			b := newBench(t, fileURL)
			b.write("other/sneaky.txt", "sneaky\n")
			b.commit("sneaky")
			b.push("main")
		})
	}
	url, ca := serveHTTPS(t, srv)
	target := Target{URL: url, Dir: prodDir, Auth: TokenAuth("tok"), CABundle: ca, Author: sig("slipway")}
	res, err := Deliver(context.Background(), target, chart("1"), "ours")
	if err != nil {
		t.Fatal(err)
	}
	if srv.rejected.Load() != 1 || res.Attempts != 2 {
		t.Fatalf("server refused %d updates, result %+v; want 1 refusal and 2 attempts", srv.rejected.Load(), res)
	}
	head := remoteHead(t, dir, "main")
	if head.String() != res.Commit {
		t.Fatalf("remote main = %s; want %s", head, res.Commit)
	}
	if msgs := history(t, dir, head); !equalStrings(msgs, []string{"ours", "sneaky"}) {
		t.Errorf("history = %v; want ours on top of the sneaky commit", msgs)
	}
}

func TestIsRejected(t *testing.T) {
	tests := []struct {
		msg  string
		want bool
	}{
		{"non-fast-forward update: refs/heads/main", true},
		{"command error on refs/heads/main: fetch first", true},
		{"command error on refs/heads/main: failed to update ref", true},
		{"command error on refs/heads/main: cannot lock ref 'refs/heads/main'", true},
		{"authentication required", false},
		{"repository not found", false},
	}
	for _, tt := range tests {
		if got := isRejected(errors.New(tt.msg)); got != tt.want {
			t.Errorf("isRejected(%q) = %v; want %v", tt.msg, got, tt.want)
		}
	}
}

func TestFileTransportRunsWithoutGitBinary(t *testing.T) {
	dir, url := newRemote(t)
	t.Setenv("PATH", t.TempDir())
	res, err := Deliver(context.Background(), Target{URL: url, Dir: prodDir, Author: sig("s")}, chart("1"), "no git")
	if err != nil {
		t.Fatalf("Deliver over file:// with no git on PATH: %v", err)
	}
	if remoteHead(t, dir, "main").String() != res.Commit {
		t.Error("remote main does not hold the delivered commit")
	}
}

func TestFileURLMustBeBare(t *testing.T) {
	b := newBench(t, "")
	_, err := Deliver(context.Background(), Target{URL: "file://" + b.dir, Dir: prodDir}, chart("1"), "x")
	if err == nil || !strings.Contains(err.Error(), "is not a bare Git repository") {
		t.Fatalf("err = %v; want a not-bare error", err)
	}
}

func TestCancelledContext(t *testing.T) {
	_, url := newRemote(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Deliver(ctx, Target{URL: url, Dir: prodDir}, chart("1"), "x")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want context.Canceled", err)
	}
	// Cancelled during the push hook: the push is not made.
	dir, url := newRemote(t)
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	target := Target{URL: url, Dir: prodDir, beforePush: func(context.Context, int) error { cancel(); return nil }}
	if _, err := Deliver(ctx, target, chart("1"), "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want context.Canceled", err)
	}
	if h := remoteHead(t, dir, "main"); h != plumbing.ZeroHash {
		t.Errorf("remote main = %s after a cancelled delivery", h)
	}
}
