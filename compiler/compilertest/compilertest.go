// Package compilertest holds helpers shared by the tests of the compiler
// and the backends: compiling a directory and comparing output with golden
// txtar archives.
package compilertest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/slipway-ml/slipway/compiler"
	"github.com/slipway-ml/slipway/compiler/diag"
)

// Examples returns the example directories under root (the repository's
// examples folder), sorted.
func Examples(t testing.TB, root string) []string {
	t.Helper()
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatalf("read examples: %v", err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join(root, e.Name()))
		}
	}
	if len(dirs) == 0 {
		t.Fatalf("no examples under %s", root)
	}
	return dirs
}

// Compile compiles the example package in dir with the default policies
// and fails the test on any error diagnostic.
func Compile(t testing.TB, dir string) *compiler.Result {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Paths are given relative to the repository root, as the CLI does.
	rel := filepath.ToSlash(filepath.Join("examples", filepath.Base(abs)))
	res, ds := compiler.Compile(context.Background(), compiler.Options{FS: os.DirFS(abs), Root: abs, Path: rel})
	if ds.HasErrors() || res == nil {
		t.Fatalf("compile %s:\n%s", dir, (&diag.ListError{List: ds.Rel(abs)}).Error())
	}
	return res
}

// Golden compares files with the txtar archive at path, or rewrites the
// archive when update is set. comment becomes the archive's comment.
func Golden(t testing.TB, path, comment string, files map[string][]byte, update bool) {
	t.Helper()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	if update {
		ar := &txtar.Archive{Comment: []byte(comment + "\n")}
		for _, n := range names {
			ar.Files = append(ar.Files, txtar.File{Name: n, Data: files[n]})
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatalf("read golden file: %v (run `make golden` to create it)", err)
	}
	want := map[string][]byte{}
	for _, f := range ar.Files {
		want[f.Name] = f.Data
	}
	for _, n := range names {
		w, ok := want[n]
		if !ok {
			t.Errorf("%s: new file %s not in the golden archive (run `make golden` and review the diff)", path, n)
			continue
		}
		if !bytes.Equal(w, files[n]) {
			t.Errorf("%s: %s differs from the golden archive (run `make golden` and review the diff):\n%s", path, n, firstDiff(string(w), string(files[n])))
		}
		delete(want, n)
	}
	for n := range want {
		t.Errorf("%s: golden file %s is no longer produced", path, n)
	}
}

// firstDiff shows the first differing line.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + w + "\n  got:  " + g
		}
	}
	return "(no line differs; trailing bytes)"
}
