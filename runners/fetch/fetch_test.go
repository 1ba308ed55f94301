package fetch

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

var csv = []byte("id,churned\n1,0\n2,1\n")

func TestFetchHTTPS(t *testing.T) {
	s := newServer(t, serveBytes(csv))
	f := newFetcher(t, s)
	req := Request{Source: s.URL + "/data/churn.csv", SHA256: digest(csv)}
	res, err := f.Fetch(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, res.Path); !bytes.Equal(got, csv) {
		t.Errorf("content = %q, want %q", got, csv)
	}
	if res.SHA256 != digest(csv) || res.Size != int64(len(csv)) || res.Name != "churn.csv" || res.Cached {
		t.Errorf("result = %+v", res)
	}
	if res.Path != f.blobPath(digest(csv)) {
		t.Errorf("path = %s, want %s", res.Path, f.blobPath(digest(csv)))
	}
	fi, err := os.Stat(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o222 != 0 {
		t.Errorf("cached file is writable: %v", fi.Mode())
	}
	again, err := f.Fetch(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Cached || again.Path != res.Path || s.hits.Load() != 1 {
		t.Errorf("second fetch: %+v after %d requests, want a cache hit after 1", again, s.hits.Load())
	}
}

func TestFetchRefusals(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("plain http server reached: %s", r.URL)
	}))
	defer plain.Close()
	big := bytes.Repeat([]byte("x"), 2048)
	tests := []struct {
		name    string
		handler http.HandlerFunc
		source  string // appended to the server URL when it starts with "/"
		sha     string
		opts    []Option
		want    string
	}{
		{name: "checksum mismatch", handler: serveBytes(csv), source: "/a.csv", sha: digest([]byte("other")),
			want: "sha256 mismatch: expected " + digest([]byte("other")) + ", got " + digest(csv)},
		{name: "unpinned", handler: serveBytes(csv), source: "/a.csv", want: "remote source has no sha256"},
		{name: "too large with length", handler: serveBytes(big), source: "/a.csv", sha: digest(big), opts: []Option{WithMaxBytes(1024)},
			want: "response is larger than the 1 KiB limit"},
		{name: "too large chunked", handler: func(w http.ResponseWriter, r *http.Request) {
			for range 4 {
				w.Write(big[:512])
				w.(http.Flusher).Flush()
			}
		}, source: "/a.csv", sha: digest(big), opts: []Option{WithMaxBytes(1024)}, want: "response is larger than the 1 KiB limit"},
		{name: "too large unpinned", handler: serveBytes(big), source: "/a.csv", opts: []Option{WithMaxBytes(1000), WithUnpinned(true)},
			want: "response is larger than the 1000 bytes limit"},
		{name: "redirect to http", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, plain.URL+"/a.csv", http.StatusFound)
		}, source: "/a.csv", sha: digest(csv), want: "refused redirect to " + plain.URL + "/a.csv: only https redirects are followed"},
		{name: "redirect to file", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		}, source: "/a.csv", sha: digest(csv), want: "refused redirect to file:///etc/passwd"},
		{name: "endless redirects", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/again", http.StatusFound)
		}, source: "/a.csv", sha: digest(csv), want: "more than 10 redirects"},
		{name: "not found", handler: http.NotFound, source: "/a.csv", sha: digest(csv), want: "bad response code: 404"},
		{name: "plain http", source: "http://example.com/a.csv", sha: digest(csv), want: "plain http is not allowed"},
		{name: "ftp", source: "ftp://example.com/a.csv", sha: digest(csv), want: `unsupported URL scheme "ftp"`},
		{name: "scheme not allowed", handler: serveBytes(csv), source: "/a.csv", sha: digest(csv), opts: []Option{WithSchemes(SchemeFile)},
			want: "https sources are not allowed here (allowed: file)"},
		{name: "git unpinned", source: "git::https://example.com/repo.git//data/a.csv?ref=v1", want: "remote source has no sha256"},
		{name: "checksum parameter", handler: serveBytes(csv), source: "/a.csv?checksum=md5:abc", sha: digest(csv), want: "checksum parameter"},
		{name: "bad digest", handler: serveBytes(csv), source: "/a.csv", sha: "abc", want: `sha256 "abc" is not 64 hexadecimal digits`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.source
			var s *server
			if tc.handler != nil {
				s = newServer(t, tc.handler)
				src = s.URL + tc.source
			}
			f := newFetcher(t, s, tc.opts...)
			before, _ := cacheFiles(t, f)
			res, err := f.Fetch(context.Background(), Request{Source: src, SHA256: tc.sha})
			if err == nil {
				t.Fatalf("fetch succeeded: %+v", res)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "fetch "+src+": ") {
				t.Errorf("error = %q, want it to start with %q and contain %q", err, "fetch "+src+": ", tc.want)
			}
			assertClean(t, f, before)
		})
	}
}

func TestErrorsHideSecrets(t *testing.T) {
	f := newFetcher(t, nil, WithUnpinned(true))
	for _, tc := range []struct{ src, want string }{
		{"https://user:hunter2@example.com/a.csv", "fetch https://user:redacted@example.com/a.csv: source URL holds credentials"},
		{"s3::https://s3.amazonaws.com/b/k?aws_access_key_id=AKIA&aws_access_key_secret=hunter2", "fetch s3::https://s3.amazonaws.com/b/k?aws_access_key_id=redacted&aws_access_key_secret=redacted: "},
		{"https://example.com/d/?X-Amz-Signature=hunter2", "names a directory"},
	} {
		_, err := f.Fetch(context.Background(), Request{Source: tc.src})
		if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("fetch %s: error = %v, want %q and no secret", tc.src, err, tc.want)
		}
	}
}

func TestFetchMismatchIsTyped(t *testing.T) {
	s := newServer(t, serveBytes(csv))
	f := newFetcher(t, s)
	want := digest([]byte("other"))
	_, err := f.Fetch(context.Background(), Request{Source: s.URL + "/a.csv", SHA256: want})
	var me *MismatchError
	if !errors.As(err, &me) || me.Expected != want || me.Actual != digest(csv) {
		t.Fatalf("error = %v, want a MismatchError naming both digests", err)
	}
}

func TestXTerraformGetIgnored(t *testing.T) {
	other := newServer(t, serveBytes([]byte("evil")))
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "" {
			t.Errorf("query sent to the server: %q", r.URL.RawQuery)
		}
		w.Header().Set("X-Terraform-Get", other.URL+"/evil.csv")
		w.Write(csv)
	})
	f := newFetcher(t, s, WithUnpinned(true))
	res, err := f.Fetch(context.Background(), Request{Source: s.URL + "/a.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, res.Path); !bytes.Equal(got, csv) {
		t.Errorf("content = %q, want %q", got, csv)
	}
	if other.hits.Load() != 0 {
		t.Errorf("X-Terraform-Get target was fetched %d times", other.hits.Load())
	}
}

func TestTLSConfig(t *testing.T) {
	s := newServer(t, serveBytes(csv))
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	f, err := New(t.TempDir(), WithTLSConfig(&tls.Config{RootCAs: pool}), WithPrivateNetworks(true))
	if err != nil {
		t.Fatal(err)
	}
	req := Request{Source: s.URL + "/a.csv", SHA256: digest(csv)}
	if _, err := f.Fetch(context.Background(), req); err != nil {
		t.Fatalf("fetch with the server's CA: %v", err)
	}

	untrusting, err := New(t.TempDir(), WithPrivateNetworks(true))
	if err != nil {
		t.Fatal(err)
	}
	before, _ := cacheFiles(t, untrusting)
	_, err = untrusting.Fetch(context.Background(), req)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("fetch without the server's CA: %v, want a certificate error", err)
	}
	assertClean(t, untrusting, before)
}

func TestLoopbackRefused(t *testing.T) {
	s := newServer(t, serveBytes(csv))
	f, err := New(t.TempDir(), WithHTTPClient(s.Client()))
	if err != nil {
		t.Fatal(err)
	}
	before, _ := cacheFiles(t, f)
	_, err = f.Fetch(context.Background(), Request{Source: s.URL + "/a.csv", SHA256: digest(csv)})
	var be *blockedAddrError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "refused to connect to 127.0.0.1: it is a loopback address, and private networks are not allowed") {
		t.Fatalf("error = %v, want a loopback refusal", err)
	}
	if s.hits.Load() != 0 {
		t.Errorf("server reached %d times", s.hits.Load())
	}
	assertClean(t, f, before)
}

func TestCacheHitWithoutNetwork(t *testing.T) {
	s := newServer(t, serveBytes(csv))
	f := newFetcher(t, s)
	req := Request{Source: s.URL + "/a.csv", SHA256: digest(csv)}
	first, err := f.Fetch(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	res, err := f.Fetch(context.Background(), req)
	if err != nil {
		t.Fatalf("fetch with the server closed: %v", err)
	}
	if !res.Cached || res.Path != first.Path || !bytes.Equal(readFile(t, res.Path), csv) {
		t.Errorf("result = %+v, want the cached %s", res, first.Path)
	}
}

// corrupt overwrites the read-only cache file p.
func corrupt(t *testing.T, p string) {
	t.Helper()
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("corrupt"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptCacheEntryRefetched(t *testing.T) {
	s := newServer(t, serveBytes(csv))
	f := newFetcher(t, s)
	req := Request{Source: s.URL + "/a.csv", SHA256: digest(csv)}
	first, err := f.Fetch(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	corrupt(t, first.Path)
	res, err := f.Fetch(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Cached || s.hits.Load() != 2 || !bytes.Equal(readFile(t, res.Path), csv) {
		t.Errorf("result = %+v after %d requests, want a fresh fetch", res, s.hits.Load())
	}

	// With the source gone, the corrupt entry is still removed.
	corrupt(t, first.Path)
	s.Close()
	if _, err := f.Fetch(context.Background(), req); err == nil {
		t.Fatal("fetch succeeded with a corrupt cache and no server")
	}
	assertClean(t, f, nil)
}

func TestCancel(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000000")
		w.Write(bytes.Repeat([]byte("x"), 4096))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	f := newFetcher(t, s, WithProgress(func(_ string, done, total int64) {
		once.Do(cancel)
	}))
	before, _ := cacheFiles(t, f)
	_, err := f.Fetch(ctx, Request{Source: s.URL + "/a.csv", SHA256: digest(csv)})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	assertClean(t, f, before)

	_, err = f.Fetch(ctx, Request{Source: s.URL + "/a.csv", SHA256: digest(csv)})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("fetch with a cancelled context: %v", err)
	}
}

func TestTimeout(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	f := newFetcher(t, s, WithTimeout(200*time.Millisecond))
	before, _ := cacheFiles(t, f)
	start := time.Now()
	_, err := f.Fetch(context.Background(), Request{Source: s.URL + "/a.csv", SHA256: digest(csv)})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out after 200ms") {
		t.Fatalf("error = %v, want a timeout", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("timeout took %s", d)
	}
	assertClean(t, f, before)
}

func TestConcurrentFetches(t *testing.T) {
	body := bytes.Repeat(csv, 10000)
	s := newServer(t, serveBytes(body))
	f := newFetcher(t, s)
	req := Request{Source: s.URL + "/a.csv", SHA256: digest(body)}
	const n = 6
	var wg sync.WaitGroup
	results := make([]*Result, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { results[i], errs[i] = f.Fetch(context.Background(), req) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("fetch %d: %v", i, errs[i])
		}
		if results[i].Path != f.blobPath(digest(body)) {
			t.Errorf("fetch %d: path %s", i, results[i].Path)
		}
	}
	if !bytes.Equal(readFile(t, f.blobPath(digest(body))), body) {
		t.Error("cached content differs")
	}
	assertClean(t, f, []string{"sha256/" + digest(body)})
}

func TestResolve(t *testing.T) {
	s := newServer(t, serveBytes(csv))
	f := newFetcher(t, s)
	res, err := f.Resolve(context.Background(), Request{Source: s.URL + "/a.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if res.SHA256 != digest(csv) || res.Cached {
		t.Fatalf("resolve = %+v, want digest %s", res, digest(csv))
	}
	s.Close()
	hit, err := f.Fetch(context.Background(), Request{Source: s.URL + "/a.csv", SHA256: res.SHA256})
	if err != nil || !hit.Cached {
		t.Fatalf("fetch after resolve = %+v, %v; want a cache hit", hit, err)
	}
}

func TestProgress(t *testing.T) {
	body := bytes.Repeat(csv, 1000)
	s := newServer(t, serveBytes(body))
	var mu sync.Mutex
	var last [2]int64
	var source string
	f := newFetcher(t, s, WithProgress(func(src string, done, total int64) {
		mu.Lock()
		defer mu.Unlock()
		last = [2]int64{done, total}
		source = src
	}))
	src := s.URL + "/a.csv"
	if _, err := f.Fetch(context.Background(), Request{Source: src, SHA256: digest(body)}); err != nil {
		t.Fatal(err)
	}
	n := int64(len(body))
	if last != [2]int64{n, n} || source != src {
		t.Errorf("last progress = %v for %q, want [%d %d] for %q", last, source, n, n, src)
	}
}

func TestNewOptions(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
		want string
	}{
		{"max bytes", []Option{WithMaxBytes(0)}, "max bytes must be positive"},
		{"max files", []Option{WithMaxFiles(-1)}, "max files must be positive"},
		{"timeout", []Option{WithTimeout(-time.Second)}, "timeout must not be negative"},
		{"no schemes", []Option{WithSchemes()}, "no schemes allowed"},
		{"unknown scheme", []Option{WithSchemes("ftp")}, `unknown scheme "ftp"`},
		{"nil client", []Option{WithHTTPClient(nil)}, "http client is nil"},
		{"odd transport", []Option{WithHTTPClient(&http.Client{Transport: roundTripper(nil)})}, "want *http.Transport"},
		{"nil tls", []Option{WithTLSConfig(nil)}, "tls config is nil"},
		{"empty local dir", []Option{WithLocalDirs("")}, "local directory is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(t.TempDir(), tc.opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := New(""); err == nil {
		t.Error("New with no cache directory succeeded")
	}
}

// roundTripper is a transport that is not an *http.Transport.
type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestFormatBytes(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{1, "1 byte"}, {1000, "1000 bytes"}, {1024, "1 KiB"}, {1536, "1.5 KiB"},
		{DefaultMaxBytes, "4 GiB"}, {3 << 20, "3 MiB"}, {1 << 40, "1 TiB"},
	} {
		if got := formatBytes(tc.n); got != tc.want {
			t.Errorf("formatBytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func ExampleFetcher_Fetch() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	os.WriteFile(dir+"/churn.csv", []byte("id,churned\n"), 0o644)
	f, _ := New(dir + "/cache")
	res, err := f.Fetch(context.Background(), Request{Source: "churn.csv", BaseDir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.SHA256, res.Size, res.Name)
	// Output: 077e508c81f9464e51536c450f4743753b600c9fc857a716c4829b64503505b4 11 churn.csv
}
