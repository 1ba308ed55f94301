package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// updateCorpus rewrites the want sections of testdata/invalid/*.txtar from
// the current output: go test ./cmd/slipway -run Corpus -update-corpus.
var updateCorpus = flag.Bool("update-corpus", false, "rewrite the want sections of testdata/invalid/*.txtar")

// corpusDir holds the invalid-spec corpus.
const corpusDir = "../../testdata/invalid"

// minCorpus is the least number of cases the corpus must hold.
const minCorpus = 40

// TestInvalidCorpus validates every archive in testdata/invalid: each one
// holds a package with one mistake (or a few related ones) and, in its want
// section, the exact stderr of `slipway validate` with the directory
// written as $DIR. Each case must also make `slipway compile` fail without
// writing anything.
func TestInvalidCorpus(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(corpusDir, "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < minCorpus {
		t.Errorf("corpus has %d cases, want at least %d", len(paths), minCorpus)
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".txtar")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runCorpusCase(t, path)
		})
	}
}

func runCorpusCase(t *testing.T, path string) {
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(ar.Comment)) == "" {
		t.Errorf("%s: no comment describing the mistake", path)
	}
	dir := t.TempDir()
	want, wantIndex := "", -1
	for i, f := range ar.Files {
		if f.Name == "want" {
			want, wantIndex = string(f.Data), i
			continue
		}
		name := filepath.Join(dir, filepath.FromSlash(f.Name))
		if !strings.HasPrefix(name, dir+string(filepath.Separator)) {
			t.Fatalf("%s: file %q lies outside the package directory", path, f.Name)
		}
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if wantIndex < 0 && !*updateCorpus {
		t.Fatalf("%s: no want section", path)
	}

	var stdout, stderr bytes.Buffer
	code := Main([]string{"validate", dir}, strings.NewReader(""), &stdout, &stderr)
	if code != exitFindings {
		t.Errorf("validate: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitFindings, stdout.String(), stderr.String())
	}
	got := relativize(stderr.String(), dir)

	if *updateCorpus {
		if wantIndex < 0 {
			ar.Files = append(ar.Files, txtar.File{Name: "want"})
			wantIndex = len(ar.Files) - 1
		}
		ar.Files[wantIndex].Data = []byte(got)
		if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
			t.Fatal(err)
		}
	} else if got != want {
		t.Errorf("validate: stderr differs (run with -update-corpus to accept)\ngot:\n%s\nwant:\n%s", got, want)
	}

	out := filepath.Join(dir, "out")
	stdout.Reset()
	stderr.Reset()
	code = Main([]string{"compile", dir, "--target", "local", "--out", out}, strings.NewReader(""), &stdout, &stderr)
	if code != exitFindings {
		t.Errorf("compile: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitFindings, stdout.String(), stderr.String())
	}
	if _, err := os.Lstat(out); !os.IsNotExist(err) {
		t.Errorf("compile of an invalid spec created %s (err %v)", out, err)
	}
}

// relativize removes the package directory from positions and writes it
// as $DIR elsewhere.
func relativize(s, dir string) string {
	s = strings.ReplaceAll(s, dir+string(filepath.Separator), "")
	return strings.ReplaceAll(s, dir, "$DIR")
}
