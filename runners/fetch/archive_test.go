package fetch

import (
	"archive/tar"
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFetchArchives(t *testing.T) {
	tgz := makeTar(t, true, tarEntry{name: "data/", typeflag: tar.TypeDir, mode: 0o500}, tarEntry{name: "data/churn.csv", typeflag: tar.TypeReg, body: csv})
	tests := []struct {
		name, path string
		archive    []byte
		member     string
	}{
		{"tar.gz", "/d.tar.gz", tgz, "churn.csv"},
		{"tgz", "/d.tgz", tgz, "churn.csv"},
		{"archive parameter", "/download?archive=tar.gz", tgz, "churn.csv"},
		{"tar", "/d.tar", makeTar(t, false, tarEntry{name: "./churn.csv", typeflag: tar.TypeReg, body: csv}), "churn.csv"},
		{"zip", "/d.zip", makeZip(t, zipEntry{name: "dir/", mode: fs.ModeDir | 0o755}, zipEntry{name: "dir/churn.csv", body: csv}), "churn.csv"},
		{"gz", "/churn.csv.gz", gzipBytes(t, csv), "churn.csv"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, serveBytes(tc.archive))
			f := newFetcher(t, s)
			req := Request{Source: s.URL + tc.path, SHA256: digest(tc.archive)}
			res, err := f.Fetch(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(readFile(t, res.Path), csv) {
				t.Errorf("extracted content = %q, want %q", readFile(t, res.Path), csv)
			}
			if res.SHA256 != digest(tc.archive) || res.Name != tc.member || res.Size != int64(len(csv)) || res.Path != f.unpackedPath(digest(tc.archive)) {
				t.Errorf("result = %+v", res)
			}
			d := digest(tc.archive)
			assertClean(t, f, []string{filepath.Join(unpackedDir, d), filepath.Join(unpackedDir, d+".json")})

			s.Close()
			hit, err := f.Fetch(context.Background(), req)
			if err != nil {
				t.Fatalf("cached fetch: %v", err)
			}
			if !hit.Cached || hit.Path != res.Path || hit.Name != tc.member || !bytes.Equal(readFile(t, hit.Path), csv) {
				t.Errorf("cached result = %+v", hit)
			}
		})
	}
}

func TestArchiveNotExtracted(t *testing.T) {
	tgz := makeTar(t, true, tarEntry{name: "a.csv", typeflag: tar.TypeReg, body: csv})
	s := newServer(t, serveBytes(tgz))
	f := newFetcher(t, s)
	res, err := f.Fetch(context.Background(), Request{Source: s.URL + "/d.tar.gz?archive=false", SHA256: digest(tgz)})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, res.Path), tgz) || res.Path != f.blobPath(digest(tgz)) || res.Name != "d.tar.gz" {
		t.Errorf("result = %+v, want the archive itself", res)
	}
}

func TestCorruptUnpackedEntryRefetched(t *testing.T) {
	tgz := makeTar(t, true, tarEntry{name: "a.csv", typeflag: tar.TypeReg, body: csv})
	s := newServer(t, serveBytes(tgz))
	f := newFetcher(t, s)
	req := Request{Source: s.URL + "/d.tar.gz", SHA256: digest(tgz)}
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
}

func TestArchiveRefusals(t *testing.T) {
	zeros := make([]byte, 8<<20)
	reg := func(name string, body []byte) tarEntry {
		return tarEntry{name: name, typeflag: tar.TypeReg, body: body}
	}
	tests := []struct {
		name, path string
		archive    []byte
		opts       []Option
		want       string
	}{
		{"tar symlink", "/d.tar.gz", makeTar(t, true, tarEntry{name: "churn.csv", typeflag: tar.TypeSymlink, link: "/etc/passwd"}),
			nil, `archive entry "churn.csv" is a symbolic link (to "/etc/passwd")`},
		{"tar symlink beside a file", "/d.tar", makeTar(t, false, reg("a.csv", csv), tarEntry{name: "b.csv", typeflag: tar.TypeSymlink, link: "a.csv"}),
			nil, `archive entry "b.csv" is a symbolic link`},
		{"tar hard link", "/d.tar.gz", makeTar(t, true, tarEntry{name: "churn.csv", typeflag: tar.TypeLink, link: "/etc/passwd"}),
			nil, `archive entry "churn.csv" is a hard link`},
		{"tar dot dot", "/d.tar.gz", makeTar(t, true, reg("../evil.csv", csv)), nil, `archive entry "../evil.csv" contains '..'`},
		{"tar dot dot inside", "/d.tar.gz", makeTar(t, true, reg("a/../../evil.csv", csv)), nil, `contains '..'`},
		{"tar absolute", "/d.tar.gz", makeTar(t, true, reg("/etc/cron.d/evil", csv)), nil, `archive entry "/etc/cron.d/evil" has an absolute name`},
		{"tar backslash", "/d.tar.gz", makeTar(t, true, reg(`..\evil.csv`, csv)), nil, "holds a backslash"},
		{"tar fifo", "/d.tar.gz", makeTar(t, true, tarEntry{name: "p", typeflag: tar.TypeFifo}), nil, `archive entry "p" is not a regular file`},
		{"tar two files", "/d.tar.gz", makeTar(t, true, reg("a.csv", csv), reg("b.csv", csv)), nil,
			`archive holds more than one file ("a.csv" and "b.csv"); a dataset archive must hold exactly one`},
		{"tar no file", "/d.tar.gz", makeTar(t, true, tarEntry{name: "d/", typeflag: tar.TypeDir}), nil, "archive holds no file"},
		{"tar too many entries", "/d.tar.gz", makeTar(t, true, tarEntry{name: "a/", typeflag: tar.TypeDir}, tarEntry{name: "b/", typeflag: tar.TypeDir}, reg("c.csv", csv)),
			[]Option{WithMaxFiles(2)}, "archive has more than 2 entries"},
		{"tar entry too large", "/d.tar.gz", makeTar(t, true, reg("a.csv", zeros[:3<<19])), []Option{WithMaxBytes(1 << 20)}, `archive entry "a.csv" is larger than the 1 MiB limit`},
		{"tar.gz bomb", "/d.tar.gz", makeTar(t, true, reg("a.csv", zeros)), []Option{WithMaxBytes(1 << 20)}, "decompressed archive is larger than the 1 MiB limit"},
		{"gz bomb", "/a.csv.gz", gzipBytes(t, zeros), []Option{WithMaxBytes(1 << 20)}, "decompressed file is larger than the 1 MiB limit"},
		{"not gzip", "/a.csv.gz", csv, nil, "decompress gz"},
		{"zip two files", "/d.zip", makeZip(t, zipEntry{name: "a.csv", body: csv}, zipEntry{name: "b.csv", body: csv}), nil, "archive holds more than one file"},
		{"zip same name twice", "/d.zip", makeZip(t, zipEntry{name: "a.csv", body: csv}, zipEntry{name: "a.csv", body: []byte("x")}), nil, "archive holds more than one file"},
		{"zip symlink", "/d.zip", makeZip(t, zipEntry{name: "a.csv", body: []byte("/etc/passwd"), mode: fs.ModeSymlink | 0o777}), nil,
			`archive entry "a.csv" is a symbolic link`},
		{"zip dot dot", "/d.zip", makeZip(t, zipEntry{name: "../a.csv", body: csv}), nil, `archive entry "../a.csv" contains '..'`},
		{"zip absolute", "/d.zip", makeZip(t, zipEntry{name: "/a.csv", body: csv}), nil, "has an absolute name"},
		{"zip bomb", "/d.zip", makeZip(t, zipEntry{name: "a.csv", body: zeros}), []Option{WithMaxBytes(1 << 20)}, `archive entry "a.csv" is larger than the 1 MiB limit`},
		{"zip empty", "/d.zip", makeZip(t), nil, "archive holds no file"},
		{"not zip", "/d.zip", csv, nil, "read zip archive"},
		{"unknown archive parameter", "/d?archive=rar", csv, nil, `unknown archive type "rar"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, serveBytes(tc.archive))
			f := newFetcher(t, s, tc.opts...)
			before, _ := cacheFiles(t, f)
			src := s.URL + tc.path
			res, err := f.Fetch(context.Background(), Request{Source: src, SHA256: digest(tc.archive)})
			if err == nil {
				t.Fatalf("fetch succeeded: %+v", res)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "fetch "+src+": ") {
				t.Errorf("error = %q, want %q", err, tc.want)
			}
			assertClean(t, f, before)
		})
	}
}

func TestLocalArchive(t *testing.T) {
	base := t.TempDir()
	tgz := makeTar(t, true, tarEntry{name: "churn.csv", typeflag: tar.TypeReg, body: csv})
	if err := os.WriteFile(filepath.Join(base, "churn.tar.gz"), tgz, 0o644); err != nil {
		t.Fatal(err)
	}
	f := newFetcher(t, nil)
	res, err := f.Fetch(context.Background(), Request{Source: "churn.tar.gz", BaseDir: base})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, res.Path), csv) || res.SHA256 != digest(tgz) || res.Name != "churn.csv" {
		t.Errorf("result = %+v", res)
	}
}

func TestCheckExtracted(t *testing.T) {
	mk := func(t *testing.T, files map[string]string, links map[string]string) string {
		dir := t.TempDir()
		for name, body := range files {
			p := filepath.Join(dir, name)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for name, to := range links {
			if err := os.Symlink(to, filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	tests := []struct {
		name    string
		files   map[string]string
		links   map[string]string
		member  string
		size    int64
		wantErr string
	}{
		{name: "ok", files: map[string]string{"d/a.csv": "abc"}, member: "d/a.csv", size: 3},
		{name: "symlink", files: map[string]string{"a.csv": "abc"}, links: map[string]string{"b": "/etc/passwd"}, member: "a.csv", size: 3, wantErr: "not a regular file"},
		{name: "two files", files: map[string]string{"a.csv": "abc", "b.csv": "x"}, member: "a.csv", size: 3, wantErr: "more than one file"},
		{name: "other name", files: map[string]string{"b.csv": "abc"}, member: "a.csv", size: 3, wantErr: "want"},
		{name: "other size", files: map[string]string{"a.csv": "abcd"}, member: "a.csv", size: 3, wantErr: "has 4 bytes, the archive says 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := mk(t, tc.files, tc.links)
			p, err := checkExtracted(dir, tc.member, tc.size)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || p != filepath.Join(dir, tc.member) {
				t.Fatalf("checkExtracted = %q, %v", p, err)
			}
		})
	}
}
