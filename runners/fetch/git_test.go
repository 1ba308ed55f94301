package fetch

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/pktline"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	gitserver "github.com/go-git/go-git/v5/plumbing/transport/server"
)

var csv2 = []byte("id,churned\n1,1\n2,1\n3,0\n")

// testRepo is a repository made with go-git: its first commit holds
// data/churn.csv (csv), data/zeros.bin (64 KiB of zeros) and link.csv, a symbolic link to it, and is tagged
// v1 (annotated) and light, and is the tip of branch old; the second,
// the default branch's tip, changes data/churn.csv to csv2.
type testRepo struct {
	st            storer.Storer
	first, second plumbing.Hash
}

func makeRepo(t *testing.T) testRepo {
	t.Helper()
	dir := t.TempDir()
	r, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := r.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "Slipway", Email: "ci@example.com", When: time.Unix(1700000000, 0).UTC()}
	write := func(name string, b []byte) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := wt.Add(name); err != nil {
			t.Fatal(err)
		}
	}
	write("data/churn.csv", csv)
	write("data/zeros.bin", make([]byte, 64<<10))
	if err := os.Symlink("data/churn.csv", filepath.Join(dir, "link.csv")); err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Add("link.csv"); err != nil {
		t.Fatal(err)
	}
	first, err := wt.Commit("first", &git.CommitOptions{Author: sig})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateTag("v1", first, &git.CreateTagOptions{Tagger: sig, Message: "v1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateTag("light", first, nil); err != nil {
		t.Fatal(err)
	}
	if err := r.Storer.SetReference(plumbing.NewHashReference("refs/heads/old", first)); err != nil {
		t.Fatal(err)
	}
	write("data/churn.csv", csv2)
	second, err := wt.Commit("second", &git.CommitOptions{Author: sig})
	if err != nil {
		t.Fatal(err)
	}
	return testRepo{st: r.Storer, first: first, second: second}
}

// loaderFunc serves every endpoint from one storer.
type loaderFunc func(*transport.Endpoint) (storer.Storer, error)

func (l loaderFunc) Load(ep *transport.Endpoint) (storer.Storer, error) { return l(ep) }

// gitServer serves st over the smart HTTP protocol (upload-pack only),
// with go-git's server side.
func gitServer(t *testing.T, st storer.Storer) *server {
	t.Helper()
	srv := gitserver.NewServer(loaderFunc(func(*transport.Endpoint) (storer.Storer, error) { return st, nil }))
	ep, err := transport.NewEndpoint("https://example.com/repo.git")
	if err != nil {
		t.Fatal(err)
	}
	return newServer(t, func(w http.ResponseWriter, r *http.Request) {
		sess, err := srv.NewUploadPackSession(ep, nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		switch {
		case !strings.HasPrefix(r.URL.Path, "/repo.git/"):
			http.NotFound(w, r)
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/info/refs") && r.URL.Query().Get("service") == "git-upload-pack":
			ar, err := sess.AdvertisedReferencesContext(r.Context())
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			ar.Prefix = [][]byte{[]byte("# service=git-upload-pack"), pktline.Flush}
			w.Header().Set("Content-Type", "application/x-git-upload-pack-advertisement")
			if err := ar.Encode(w); err != nil {
				t.Errorf("encode references: %v", err)
			}
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-upload-pack"):
			req := packp.NewUploadPackRequest()
			if err := req.Decode(r.Body); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			resp, err := sess.UploadPack(r.Context(), req)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "application/x-git-upload-pack-result")
			if err := resp.Encode(w); err != nil {
				t.Errorf("encode pack: %v", err)
			}
		default:
			http.NotFound(w, r)
		}
	})
}

func TestFetchGit(t *testing.T) {
	repo := makeRepo(t)
	s := gitServer(t, repo.st)
	tests := []struct {
		name, ref string
		want      []byte
	}{
		{"default branch", "", csv2},
		{"annotated tag", "v1", csv},
		{"lightweight tag", "light", csv},
		{"branch", "old", csv},
		{"full ref name", "refs/heads/old", csv},
		{"commit", repo.first.String(), csv},
		{"tip commit", repo.second.String(), csv2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFetcher(t, s)
			src := "git::" + s.URL + "/repo.git//data/churn.csv"
			if tc.ref != "" {
				src += "?ref=" + tc.ref
			}
			req := Request{Source: src, SHA256: digest(tc.want)}
			res, err := f.Fetch(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(readFile(t, res.Path), tc.want) || res.Name != "churn.csv" || res.Cached || res.SHA256 != digest(tc.want) {
				t.Errorf("result = %+v, content %q", res, readFile(t, res.Path))
			}
			assertClean(t, f, []string{filepath.Join(blobDir, digest(tc.want))})
			hits := s.hits.Load()
			if hit, err := f.Fetch(context.Background(), req); err != nil || !hit.Cached || s.hits.Load() != hits {
				t.Errorf("second fetch = %+v, %v after %d more requests; want a cache hit", hit, err, s.hits.Load()-hits)
			}
		})
	}
}

func TestResolveGit(t *testing.T) {
	repo := makeRepo(t)
	s := gitServer(t, repo.st)
	f := newFetcher(t, s)
	res, err := f.Resolve(context.Background(), Request{Source: "git::" + s.URL + "/repo.git//data/churn.csv?ref=v1"})
	if err != nil {
		t.Fatal(err)
	}
	if res.SHA256 != digest(csv) {
		t.Errorf("resolved %s, want %s", res.SHA256, digest(csv))
	}
}

func TestFetchGitRefusals(t *testing.T) {
	repo := makeRepo(t)
	s := gitServer(t, repo.st)
	base := "git::" + s.URL + "/repo.git//"
	tests := []struct {
		name, source, sha string
		opts              []Option
		private           bool
		want              string
	}{
		{name: "symlink", source: base + "link.csv?ref=v1", sha: digest(csv), want: "link.csv is a symbolic link in git commit " + repo.first.String()},
		{name: "missing file", source: base + "data/nope.csv", sha: digest(csv), want: "file data/nope.csv does not exist in git commit " + repo.second.String()},
		{name: "missing directory", source: base + "nope/x.csv", sha: digest(csv), want: "file nope/x.csv does not exist"},
		{name: "directory", source: base + "data", sha: digest(csv), want: "data is a directory in git commit"},
		{name: "unknown ref", source: base + "data/churn.csv?ref=nope", sha: digest(csv), want: `git ref "nope" not found`},
		{name: "mismatch", source: base + "data/churn.csv?ref=v1", sha: digest(csv2), want: "sha256 mismatch: expected " + digest(csv2) + ", got " + digest(csv)},
		{name: "too large", source: base + "data/churn.csv?ref=v1", sha: digest(csv), opts: []Option{WithMaxBytes(100)}, want: "git pack is larger than the 100 bytes limit"},
		{name: "file too large", source: base + "data/zeros.bin?ref=v1", sha: digest(csv), opts: []Option{WithMaxBytes(4096)}, want: "file data/zeros.bin is larger than the 4 KiB limit"},
		{name: "unknown commit", source: base + "data/churn.csv?ref=" + strings.Repeat("0", 40), sha: digest(csv), want: "no branch or tag points at commit " + strings.Repeat("0", 40)},
		{name: "loopback", source: base + "data/churn.csv?ref=v1", sha: digest(csv), private: true, want: "it is a loopback address"},
		{name: "git not allowed", source: base + "data/churn.csv?ref=v1", sha: digest(csv), opts: []Option{WithSchemes(SchemeHTTPS)}, want: "git sources are not allowed here"},
		{name: "not a repository", source: "git::" + s.URL + "/elsewhere//x.csv", sha: digest(csv), want: "list git references"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			if tc.private {
				opts = append(opts, WithPrivateNetworks(false))
			}
			f := newFetcher(t, s, opts...)
			before, _ := cacheFiles(t, f)
			res, err := f.Fetch(context.Background(), Request{Source: tc.source, SHA256: tc.sha})
			if err == nil {
				t.Fatalf("fetch succeeded: %+v", res)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "fetch "+tc.source+": ") {
				t.Errorf("error = %q, want %q", err, tc.want)
			}
			assertClean(t, f, before)
		})
	}
}
