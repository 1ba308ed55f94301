package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/format"
	"cuelang.org/go/cue/load"
	"cuelang.org/go/cue/parser"
)

// TestDocComments checks that every definition and field of the schema has
// a doc comment.
func TestDocComments(t *testing.T) {
	f, err := parser.ParseFile(Filename, Source(), parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	var decls func([]ast.Decl)
	decls = func(ds []ast.Decl) {
		for _, d := range ds {
			switch d := d.(type) {
			case *ast.Field:
				name, _, err := ast.LabelName(d.Label)
				if err != nil || name == "" {
					continue // a pattern constraint such as [Name=#Name]: ...
				}
				checked++
				if !hasDoc(d) {
					t.Errorf("%s: field %s has no doc comment", d.Pos(), name)
				}
				if st, ok := d.Value.(*ast.StructLit); ok {
					decls(st.Elts)
				}
			case *ast.Comprehension:
				if st, ok := d.Value.(*ast.StructLit); ok {
					decls(st.Elts)
				}
			}
		}
	}
	decls(f.Decls)
	if checked < 150 {
		t.Fatalf("checked only %d fields", checked)
	}
}

func hasDoc(n ast.Node) bool {
	for _, c := range ast.Comments(n) {
		if c.Doc {
			return true
		}
	}
	return false
}

// TestCompiles checks the schema compiles on its own.
func TestCompiles(t *testing.T) {
	v := cuecontext.New().CompileString(Source(), cue.Filename(Filename))
	if err := v.Err(); err != nil {
		t.Fatal(err)
	}
	if !v.LookupPath(cue.ParsePath("#Spec")).Exists() {
		t.Fatal("no #Spec")
	}
}

// TestFormatted checks that every CUE file in the repository is as cue fmt
// writes it.
func TestFormatted(t *testing.T) {
	var files []string
	for _, dir := range []string{".", "../examples", "../policies"} {
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".cue") {
				files = append(files, p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(files) < 5 {
		t.Fatalf("found only %d CUE files", len(files))
	}
	for _, p := range files {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out, err := format.Source(src)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if string(out) != string(src) {
			t.Errorf("%s is not formatted: run cue fmt", p)
		}
	}
}

// TestForPackage checks that the schema written into a user's package
// validates the examples as cue vet would, and catches a mistake.
func TestForPackage(t *testing.T) {
	for _, tc := range []struct {
		name, spec, wantErr string
	}{
		{"valid", "", ""},
		{"typo", "pipelines: churn: trainin: {}\n", "field not allowed"},
		{"type", "pipelines: churn: training: seed: \"x\"\n", "conflicting values"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := os.ReadFile("../examples/churn/churn.cue")
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			files := map[string]string{
				"churn.cue":          string(src) + tc.spec,
				"slipway_schema.cue": ForPackage("churn"),
			}
			for n, s := range files {
				if err := os.WriteFile(filepath.Join(dir, n), []byte(s), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			insts := load.Instances([]string{"."}, &load.Config{Dir: dir})
			v := cuecontext.New().BuildInstance(insts[0])
			err = v.Validate(cue.Concrete(true))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("cue vet of the churn example with the schema: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}
