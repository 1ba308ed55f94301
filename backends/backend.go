// Package backends defines what a target is: a pure function from the IR
// to files. Each sub-package renders one target (local execution plans,
// GitHub Actions, Argo Workflows, Helm); none of them reads CUE, touches
// the network or writes to disk — the output package writes.
package backends

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

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

// CanonicalJSON encodes v as JSON with object keys sorted, two-space
// indentation and a trailing newline, so equal values give equal bytes.
func CanonicalJSON(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return nil, fmt.Errorf("re-decode: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(generic); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return buf.Bytes(), nil
}

// SortFiles sorts files by path and rejects duplicate or unsafe paths.
func SortFiles(files []File) ([]File, error) {
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
