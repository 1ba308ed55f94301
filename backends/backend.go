// Package backends defines what a target is: a pure function from the IR
// to files. Each sub-package renders one target (local execution plans,
// GitHub Actions, Argo Workflows, Helm); none of them reads CUE, touches
// the network or writes to disk — the output package writes.
package backends

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/slipway-ml/slipway/compiler/canonical"
	"github.com/slipway-ml/slipway/compiler/ir"
)

// File is one rendered file.
type File struct {
	// Path is slash-separated and relative to the output directory.
	Path string
	// Data is the file's content.
	Data []byte
}

// Backend renders the IR into the files of one target.
type Backend interface {
	// Name is the target's name as given to --target.
	Name() string
	// Render turns the program into files. The result is sorted by path and
	// byte-identical for the same program.
	Render(prog *ir.Program) ([]File, error)
}

// Limitation is something a spec asks for that a target cannot express.
type Limitation struct {
	// Path is the CUE path of the value the target cannot express, e.g.
	// ["pipelines", "churn", "deploy", "environments", "production", "rollout"].
	Path []string
	// Message says what the target cannot do and what to use instead.
	Message string
}

// Limiter is implemented by backends that cannot express every valid spec.
// Compilation for such a target fails, naming each limitation at the user's
// text, before anything is written.
type Limiter interface {
	// Limitations lists what prog asks for that the backend cannot render.
	Limitations(prog *ir.Program) []Limitation
}

// CanonicalJSON encodes v as canonical JSON (sorted keys, two-space
// indentation, trailing newline).
func CanonicalJSON(v any) ([]byte, error) { return canonical.JSON(v) }

// SortFiles returns a copy of files sorted by path, rejecting duplicate or
// unsafe paths. The caller's slice is left as it was.
func SortFiles(files []File) ([]File, error) {
	files = slices.Clone(files)
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	for i, f := range files {
		if f.Path == "" || path.IsAbs(f.Path) || path.Clean(f.Path) != f.Path || strings.HasPrefix(f.Path, "../") || f.Path == ".." {
			return nil, fmt.Errorf("backend produced an unsafe path %q", f.Path)
		}
		if i > 0 && files[i-1].Path == f.Path {
			return nil, fmt.Errorf("backend produced %q twice", f.Path)
		}
	}
	return files, nil
}
