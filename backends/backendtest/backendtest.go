// Package backendtest is the conformance suite every backend passes: its
// output is deterministic, sorted and safe to write, names every step of
// every pipeline, and carries no secret values.
package backendtest

import (
	"bytes"
	"strings"
	"testing"

	"github.com/slipway-ml/slipway/backends"
	"github.com/slipway-ml/slipway/compiler/ir"
)

// SecretValue is planted in the environment of the conformance run; no
// rendered file may contain it.
const SecretValue = "s3cr3t-value-that-must-never-be-compiled"

// Run checks b against prog. Backends call it from their tests with the
// programs of every example.
func Run(t *testing.T, b backends.Backend, prog *ir.Program) {
	t.Helper()
	t.Setenv("SLIPWAY_CONFORMANCE_SECRET", SecretValue)
	first, err := b.Render(prog)
	if err != nil {
		t.Fatalf("%s: render: %v", b.Name(), err)
	}
	second, err := b.Render(prog)
	if err != nil {
		t.Fatalf("%s: second render: %v", b.Name(), err)
	}
	t.Run("deterministic", func(t *testing.T) {
		if len(first) != len(second) {
			t.Fatalf("rendered %d files, then %d", len(first), len(second))
		}
		for i := range first {
			if first[i].Path != second[i].Path || !bytes.Equal(first[i].Data, second[i].Data) {
				t.Fatalf("file %s differs between two renders of the same program", first[i].Path)
			}
		}
	})
	t.Run("paths", func(t *testing.T) {
		if len(first) == 0 {
			t.Fatal("rendered no files")
		}
		sorted, err := backends.SortFiles(append([]backends.File(nil), first...))
		if err != nil {
			t.Fatal(err)
		}
		for i := range sorted {
			if sorted[i].Path != first[i].Path {
				t.Fatalf("files are not sorted by path: %s before %s", first[i].Path, sorted[i].Path)
			}
		}
	})
	t.Run("every-step", func(t *testing.T) {
		var all bytes.Buffer
		for _, f := range first {
			all.Write(f.Data)
		}
		text := all.String()
		for _, p := range prog.Pipelines {
			for _, s := range p.Steps {
				if !strings.Contains(text, s.ID) && !strings.Contains(text, s.Name) {
					t.Errorf("step %s appears in no rendered file", s.ID)
				}
			}
		}
	})
	t.Run("no-secrets", func(t *testing.T) {
		for _, f := range first {
			if bytes.Contains(f.Data, []byte(SecretValue)) {
				t.Errorf("%s contains a secret value", f.Path)
			}
		}
	})
}
