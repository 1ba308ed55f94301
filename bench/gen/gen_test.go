package gen_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/slipway-ml/slipway/bench/gen"
	"github.com/slipway-ml/slipway/compiler"
)

// TestRepoCompiles compiles every package of a small generated repository
// with the default policy pack: each must come out without errors. 24
// packages cover every data domain with every model kind; -short checks 6.
func TestRepoCompiles(t *testing.T) {
	n := 24
	if testing.Short() {
		n = 6
	}
	root := t.TempDir()
	if err := gen.Repo(root, n); err != nil {
		t.Fatal(err)
	}
	for _, d := range gen.Dirs(n) {
		dir := filepath.Join(root, d)
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			res, ds := compiler.Compile(context.Background(), compiler.Options{FS: os.DirFS(dir), Dir: ".", Root: dir})
			if res == nil || ds.HasErrors() {
				src, _ := os.ReadFile(filepath.Join(dir, d+".cue"))
				t.Fatalf("generated package %s does not compile:\n%v\n%s", d, ds, src)
			}
			for _, w := range ds {
				t.Logf("warning: %v", w)
			}
			if len(res.Program.Pipelines) != 1 || len(res.Program.Pipelines[0].Steps) < 5 {
				t.Errorf("want one pipeline of at least 5 steps, got %d pipelines", len(res.Program.Pipelines))
			}
		})
	}
}

// TestPackageDeterministic checks that a package depends on its index only,
// and that the generated packages differ from each other.
func TestPackageDeterministic(t *testing.T) {
	seen := map[string]int{}
	models := map[string]bool{}
	for i := range 24 {
		d1, f1 := gen.Package(i)
		d2, f2 := gen.Package(i)
		if d1 != d2 || len(f1) != len(f2) {
			t.Fatalf("package %d: two calls disagree", i)
		}
		for name, data := range f1 {
			if !bytes.Equal(data, f2[name]) {
				t.Fatalf("package %d: %s differs between two calls", i, name)
			}
		}
		src := string(f1[d1+".cue"])
		if j, dup := seen[src]; dup {
			t.Errorf("packages %d and %d have the same spec", j, i)
		}
		seen[src] = i
		for _, m := range []string{"logistic", "gbdt", "mlp", "custom"} {
			if regexp.MustCompile(`\bmodel:\s+"` + m + `"`).MatchString(src) {
				models[m] = true
			}
		}
	}
	if len(models) != 4 {
		t.Errorf("model kinds used: %v, want all four", models)
	}
}
