package fetch

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// server is an httptest TLS server that counts its requests.
type server struct {
	*httptest.Server
	hits atomic.Int64
}

// newServer starts a TLS server running h.
func newServer(t *testing.T, h http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// serveBytes returns a handler serving b at every path.
func serveBytes(b []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "", time.Unix(0, 0), bytes.NewReader(b))
	}
}

// newFetcher returns a Fetcher with a fresh cache that trusts s and may
// reach loopback addresses.
func newFetcher(t *testing.T, s *server, opts ...Option) *Fetcher {
	t.Helper()
	base := []Option{WithPrivateNetworks(true)}
	if s != nil {
		base = append(base, WithHTTPClient(s.Client()))
	}
	f, err := New(t.TempDir(), append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// digest is the hex sha256 of b.
func digest(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// cacheFiles lists the files under the cache outside tmp, and those under
// tmp.
func cacheFiles(t *testing.T, f *Fetcher) (kept, tmp []string) {
	t.Helper()
	err := filepath.WalkDir(f.CacheDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(f.CacheDir, p)
		if d.IsDir() && (rel == "." || rel == tmpDir || rel == blobDir || rel == unpackedDir) {
			return nil
		}
		if rel == tmpDir || strings.HasPrefix(rel, tmpDir+string(filepath.Separator)) {
			tmp = append(tmp, rel)
		} else {
			kept = append(kept, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(kept)
	return kept, tmp
}

// assertClean fails unless the cache holds exactly the files before held
// (outside tmp) and tmp is empty.
func assertClean(t *testing.T, f *Fetcher, before []string) {
	t.Helper()
	kept, tmp := cacheFiles(t, f)
	if len(tmp) != 0 {
		t.Errorf("tmp not empty after fetch: %v", tmp)
	}
	if strings.Join(kept, "\n") != strings.Join(before, "\n") {
		t.Errorf("cache changed by a failed fetch:\nbefore %v\nafter  %v", before, kept)
	}
}

// readFile reads p or fails the test.
func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tarEntry is one entry of a test tar archive.
type tarEntry struct {
	name     string
	typeflag byte
	body     []byte
	link     string
	mode     int64
}

// makeTar builds a tar archive, gzipped when gz is true.
func makeTar(t testing.TB, gz bool, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		hdr := &tar.Header{Name: e.name, Typeflag: e.typeflag, Linkname: e.link, Mode: mode, Size: int64(len(e.body)), ModTime: time.Unix(1, 0)}
		if e.typeflag != tar.TypeReg {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Size > 0 {
			if _, err := tw.Write(e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if !gz {
		return buf.Bytes()
	}
	return gzipBytes(t, buf.Bytes())
}

// gzipBytes compresses b with gzip.
func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// zipEntry is one entry of a test zip archive.
type zipEntry struct {
	name string
	body []byte
	mode fs.FileMode
}

// makeZip builds a zip archive.
func makeZip(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
