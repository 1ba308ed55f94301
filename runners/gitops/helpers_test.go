package gitops

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/pktline"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/server"
)

var fixedTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func sig(name string) object.Signature {
	return object.Signature{Name: name, Email: name + "@example.test", When: fixedTime}
}

// newRemote creates an empty bare repository whose HEAD names main and
// returns its folder and file:// URL.
func newRemote(t *testing.T) (string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "remote.git")
	_, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		Bare:        true,
		InitOptions: git.InitOptions{DefaultBranch: plumbing.Main},
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir, "file://" + dir
}

// bench is a non-bare repository for building histories with go-git's
// worktree API, independently of the package under test.
type bench struct {
	t    *testing.T
	dir  string
	repo *git.Repository
	wt   *git.Worktree
}

func newBench(t *testing.T, remoteURL string) *bench {
	t.Helper()
	dir := t.TempDir()
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.Main},
	})
	if err != nil {
		t.Fatal(err)
	}
	if remoteURL != "" {
		if _, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{remoteURL}}); err != nil {
			t.Fatal(err)
		}
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	return &bench{t: t, dir: dir, repo: repo, wt: wt}
}

func (b *bench) write(p, content string) {
	b.t.Helper()
	full := filepath.Join(b.dir, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *bench) add(p string) {
	b.t.Helper()
	if _, err := b.wt.Add(p); err != nil {
		b.t.Fatal(err)
	}
}

func (b *bench) commit(msg string, parents ...plumbing.Hash) plumbing.Hash {
	b.t.Helper()
	if err := b.wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		b.t.Fatal(err)
	}
	s := sig("bench")
	h, err := b.wt.Commit(msg, &git.CommitOptions{Author: &s, Parents: parents, AllowEmptyCommits: true})
	if err != nil {
		b.t.Fatal(err)
	}
	return h
}

func (b *bench) checkout(branch string, create bool) {
	b.t.Helper()
	if err := b.wt.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(branch), Create: create}); err != nil {
		b.t.Fatal(err)
	}
}

func (b *bench) push(branches ...string) {
	b.t.Helper()
	var specs []config.RefSpec
	for _, br := range branches {
		r := plumbing.NewBranchReferenceName(br)
		specs = append(specs, config.RefSpec("+"+r+":"+r))
	}
	if err := b.repo.Push(&git.PushOptions{RemoteName: "origin", RefSpecs: specs}); err != nil {
		b.t.Fatal(err)
	}
}

func (b *bench) head() plumbing.Hash {
	b.t.Helper()
	h, err := b.repo.Head()
	if err != nil {
		b.t.Fatal(err)
	}
	return h.Hash()
}

// seedWithMerge gives the remote a main branch whose head is a merge commit,
// with files inside and outside dir, and a second branch "staging". It
// returns the merge commit.
func seedWithMerge(t *testing.T, remoteURL, dir string) plumbing.Hash {
	t.Helper()
	b := newBench(t, remoteURL)
	b.write("README.md", "gitops repository\n")
	b.write(dir+"/keep.yaml", "keep: 1\n")
	b.write(dir+"/change.yaml", "value: old\n")
	b.write(dir+"/remove.yaml", "gone: soon\n")
	b.write(dir+"/sub/deep.yaml", "deep: 1\n")
	b.write("deploy/other/app.yaml", "other: 1\n")
	base := b.commit("base")
	b.checkout("staging", true)
	b.write("deploy/other/staging.yaml", "staging: 1\n")
	feature := b.commit("staging work")
	b.checkout("main", false)
	b.write("docs/notes.md", "notes\n")
	mainHead := b.commit("docs", base)
	b.write("deploy/other/staging.yaml", "staging: 1\n")
	merge := b.commit("merge staging", mainHead, feature)
	b.push("main", "staging")
	return merge
}

// remoteHead returns the head of branch in the bare repository at dir, or
// the zero hash when it does not exist.
func remoteHead(t *testing.T, dir, branch string) plumbing.Hash {
	t.Helper()
	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := repo.Reference(plumbing.NewBranchReferenceName(branch), true)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return plumbing.ZeroHash
	}
	if err != nil {
		t.Fatal(err)
	}
	return ref.Hash()
}

// commitOf reads a commit from the repository at dir (bare or not).
func commitOf(t *testing.T, dir string, h plumbing.Hash) *object.Commit {
	t.Helper()
	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := repo.CommitObject(h)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// treeFiles lists every file of the commit as path → content.
func treeFiles(t *testing.T, c *object.Commit) map[string]string {
	t.Helper()
	tree, err := c.Tree()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	err = tree.Files().ForEach(func(f *object.File) error {
		s, err := f.Contents()
		out[f.Name] = s
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// diffPaths lists the paths that differ between two commits' trees.
func diffPaths(t *testing.T, from, to *object.Commit) []string {
	t.Helper()
	ft, err := from.Tree()
	if err != nil {
		t.Fatal(err)
	}
	tt, err := to.Tree()
	if err != nil {
		t.Fatal(err)
	}
	changes, err := object.DiffTree(ft, tt)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range changes {
		name := c.To.Name
		if name == "" {
			name = c.From.Name
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// history lists the messages of every commit reachable from h, first
// parent first.
func history(t *testing.T, dir string, h plumbing.Hash) []string {
	t.Helper()
	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	iter, err := repo.Log(&git.LogOptions{From: h})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	err = iter.ForEach(func(c *object.Commit) error {
		out = append(out, strings.TrimSpace(c.Message))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || v != w {
			return false
		}
	}
	return true
}

func equalStrings(a, b []string) bool {
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

// gitServer serves a bare repository over Git's smart HTTP protocol with
// go-git's server, checking basic credentials. Like git receive-pack, it
// refuses a reference update whose old value is not the current one.
type gitServer struct {
	dir        string
	user, pass string
	// echo makes every request fail with a body that repeats the request's
	// URL and Authorization header, as a careless proxy might.
	echo bool
	// beforeReceive runs before a reference update is checked and applied.
	beforeReceive func()

	mu       sync.Mutex
	rejected atomic.Int32
	auths    atomic.Int32
}

func (s *gitServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.echo {
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprintf(w, "upstream refused %s with %s", r.URL, r.Header.Get("Authorization"))
		return
	}
	if u, p, ok := r.BasicAuth(); !ok || u != s.user || p != s.pass {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, "bad credentials %s:%s", u, p)
		return
	}
	s.auths.Add(1)
	ep, err := transport.NewEndpoint("file://" + s.dir)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	srv := server.NewServer(bareLoader{})
	ctx := r.Context()
	fail := func(err error) { http.Error(w, err.Error(), http.StatusInternalServerError) }
	switch {
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/info/refs"):
		svc := r.URL.Query().Get("service")
		var ar *packp.AdvRefs
		switch svc {
		case transport.UploadPackServiceName:
			sess, err := srv.NewUploadPackSession(ep, nil)
			if err != nil {
				fail(err)
				return
			}
			ar, err = sess.AdvertisedReferencesContext(ctx)
			if err != nil {
				fail(err)
				return
			}
		case transport.ReceivePackServiceName:
			sess, err := srv.NewReceivePackSession(ep, nil)
			if err != nil {
				fail(err)
				return
			}
			ar, err = sess.AdvertisedReferencesContext(ctx)
			if err != nil {
				fail(err)
				return
			}
		default:
			http.Error(w, "unknown service", http.StatusForbidden)
			return
		}
		ar.Prefix = [][]byte{[]byte("# service=" + svc), pktline.Flush}
		w.Header().Set("Content-Type", "application/x-"+svc+"-advertisement")
		if err := ar.Encode(w); err != nil {
			fail(err)
		}
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/"+transport.UploadPackServiceName):
		req := packp.NewUploadPackRequest()
		if err := req.Decode(r.Body); err != nil {
			fail(err)
			return
		}
		sess, err := srv.NewUploadPackSession(ep, nil)
		if err != nil {
			fail(err)
			return
		}
		resp, err := sess.UploadPack(ctx, req)
		if err != nil {
			fail(err)
			return
		}
		defer resp.Close()
		w.Header().Set("Content-Type", "application/x-git-upload-pack-result")
		_ = resp.Encode(w)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/"+transport.ReceivePackServiceName):
		req := packp.NewReferenceUpdateRequest()
		if err := req.Decode(r.Body); err != nil {
			fail(err)
			return
		}
		sto, err := bareLoader{}.Load(ep)
		if err != nil {
			fail(err)
			return
		}
		if s.beforeReceive != nil {
			s.beforeReceive()
		}
		w.Header().Set("Content-Type", "application/x-git-receive-pack-result")
		for _, cmd := range req.Commands {
			var cur plumbing.Hash
			if ref, err := sto.Reference(cmd.Name); err == nil {
				cur = ref.Hash()
			}
			if cur != cmd.Old {
				if req.Packfile != nil {
					_, _ = io.Copy(io.Discard, req.Packfile)
				}
				s.rejected.Add(1)
				rs := packp.NewReportStatus()
				rs.UnpackStatus = "ok"
				rs.CommandStatuses = []*packp.CommandStatus{{ReferenceName: cmd.Name, Status: "fetch first"}}
				_ = rs.Encode(w)
				return
			}
		}
		sess, err := srv.NewReceivePackSession(ep, nil)
		if err != nil {
			fail(err)
			return
		}
		rs, _ := sess.ReceivePack(ctx, req)
		if rs != nil {
			_ = rs.Encode(w)
		}
	default:
		http.NotFound(w, r)
	}
}

// serveHTTPS serves the bare repository at dir over HTTPS and returns the
// repository URL and the PEM of the server's certificate.
func serveHTTPS(t *testing.T, s *gitServer) (string, []byte) {
	t.Helper()
	ts := httptest.NewUnstartedServer(s)
	// Handshakes the tests make fail on purpose are not worth a log line.
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	ts.StartTLS()
	t.Cleanup(ts.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	return ts.URL + "/repo.git", ca
}

// competitor returns a beforePush hook that pushes a commit of its own to
// the remote (through Deliver, to another folder) on the attempts listed,
// or on every attempt when none are.
func competitor(t *testing.T, url string, attempts ...int) func(context.Context, int) error {
	n := 0
	return func(ctx context.Context, attempt int) error {
		if len(attempts) > 0 && !containsInt(attempts, attempt) {
			return nil
		}
		n++
		res, err := Deliver(ctx, Target{URL: url, Dir: "deploy/competitor", Author: sig("competitor")},
			[]File{{Path: "round.txt", Data: []byte(fmt.Sprintf("round %d\n", n))}}, fmt.Sprintf("competitor %d", n))
		if err != nil {
			return err
		}
		if !res.Changed {
			t.Errorf("competitor round %d made no commit", n)
		}
		return nil
	}
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
