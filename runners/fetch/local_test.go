package fetch

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pipelineDir makes a pipeline directory holding data/churn.csv, and a
// secret file next to it, outside.
func pipelineDir(t *testing.T) (base, outside string) {
	t.Helper()
	top := t.TempDir()
	base = filepath.Join(top, "pipeline")
	if err := os.MkdirAll(filepath.Join(base, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "data", "churn.csv"), csv, 0o644); err != nil {
		t.Fatal(err)
	}
	outside = filepath.Join(top, "secret.csv")
	if err := os.WriteFile(outside, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	return base, outside
}

func TestFetchLocal(t *testing.T) {
	base, _ := pipelineDir(t)
	if err := os.Symlink("churn.csv", filepath.Join(base, "data", "link.csv")); err != nil {
		t.Fatal(err)
	}
	abs := filepath.Join(base, "data", "churn.csv")
	tests := []struct {
		name, source, sha string
	}{
		{"relative", "data/churn.csv", ""},
		{"relative pinned", "data/churn.csv", digest(csv)},
		{"dot segments inside", "data/../data/./churn.csv", ""},
		{"forced getter", "file::data/churn.csv", ""},
		{"absolute inside", abs, ""},
		{"file URL inside", "file://" + filepath.ToSlash(abs), digest(csv)},
		{"symlink inside", "data/link.csv", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFetcher(t, nil)
			res, err := f.Fetch(context.Background(), Request{Source: tc.source, BaseDir: base, SHA256: tc.sha})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(readFile(t, res.Path), csv) || res.SHA256 != digest(csv) || res.Size != int64(len(csv)) || res.Cached {
				t.Errorf("result = %+v", res)
			}
			if res.Path != f.blobPath(digest(csv)) {
				t.Errorf("path = %s, want the cache entry", res.Path)
			}
			assertClean(t, f, []string{"sha256/" + digest(csv)})
		})
	}
}

func TestFetchLocalRefusals(t *testing.T) {
	base, outside := pipelineDir(t)
	if err := os.Symlink(outside, filepath.Join(base, "data", "abs-link.csv")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../secret.csv", filepath.Join(base, "data", "rel-link.csv")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..", filepath.Join(base, "data", "up")); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("x"), 100)
	if err := os.WriteFile(filepath.Join(base, "big.csv"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, source, base, sha string
		opts                    []Option
		want                    string
	}{
		{name: "missing", source: "data/nope.csv", base: base,
			want: "file " + filepath.Join("data", "nope.csv") + " does not exist in " + base},
		{name: "dot dot", source: "../secret.csv", base: base, want: "must name a file inside the pipeline directory"},
		{name: "dot dot inside", source: "data/../../secret.csv", base: base, want: "must name a file inside the pipeline directory"},
		{name: "absolute symlink", source: "data/abs-link.csv", base: base, want: "leads outside " + base},
		{name: "relative symlink outside", source: "data/rel-link.csv", base: base, want: "leads outside " + base},
		{name: "symlinked directory outside", source: "data/up/../secret.csv", base: base, want: "leads outside " + base},
		{name: "absolute outside", source: outside, base: base, want: "local file " + outside + " is outside the pipeline directory " + base},
		{name: "file URL outside", source: "file://" + filepath.ToSlash(outside), base: base, want: "is outside the pipeline directory"},
		{name: "file URL with host", source: "file://example.com/etc/passwd", base: base, want: `names host "example.com"`},
		{name: "directory", source: "data", base: base, want: "is not a regular file"},
		{name: "directory slash", source: "data/", base: base, want: "names a directory"},
		{name: "mismatch", source: "data/churn.csv", base: base, sha: digest(big), want: "sha256 mismatch: expected " + digest(big) + ", got " + digest(csv)},
		{name: "too large", source: "big.csv", base: base, opts: []Option{WithMaxBytes(99)}, want: "file big.csv is larger than the 99 bytes limit"},
		{name: "no base", source: "data/churn.csv", want: "no pipeline directory given"},
		{name: "missing base", source: "data/churn.csv", base: filepath.Join(base, "nope"), want: "open pipeline directory"},
		{name: "file not allowed", source: "data/churn.csv", base: base, opts: []Option{WithSchemes(SchemeHTTPS)}, want: "file sources are not allowed here"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFetcher(t, nil, tc.opts...)
			before, _ := cacheFiles(t, f)
			res, err := f.Fetch(context.Background(), Request{Source: tc.source, BaseDir: tc.base, SHA256: tc.sha})
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

func TestFetchLocalDirs(t *testing.T) {
	base, outside := pipelineDir(t)
	f := newFetcher(t, nil, WithLocalDirs(filepath.Dir(outside)))
	res, err := f.Fetch(context.Background(), Request{Source: outside, BaseDir: base})
	if err != nil {
		t.Fatal(err)
	}
	if string(readFile(t, res.Path)) != "secret" {
		t.Errorf("content = %q", readFile(t, res.Path))
	}
}

func TestFetchLocalChangedAfterPin(t *testing.T) {
	base, _ := pipelineDir(t)
	f := newFetcher(t, nil)
	req := Request{Source: "data/churn.csv", BaseDir: base, SHA256: digest(csv)}
	if _, err := f.Fetch(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "data", "churn.csv"), []byte("edited"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := f.Fetch(context.Background(), req)
	var me *MismatchError
	if !errors.As(err, &me) || me.Actual != digest([]byte("edited")) {
		t.Fatalf("error = %v, want a mismatch for the edited file", err)
	}
}
