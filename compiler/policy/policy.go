// Package policy runs policy packs written in CUE against a validated spec.
// A pack reads `input` (the spec as data, defaults applied) and lists
// `violations`; each becomes a diagnostic at the user's text with the rule's
// name and severity.
package policy

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/parser"

	"github.com/slipway-ml/slipway/compiler/diag"
	"github.com/slipway-ml/slipway/policies"
)

// Pack is a policy pack: a directory of CUE files in one package.
type Pack struct {
	// Name identifies the pack in messages and rule names.
	Name string
	// FS holds the pack's .cue files at its root.
	FS fs.FS
	// Root is the absolute name FS's root stands for in positions.
	Root string
}

// Builtin returns the built-in pack of that name.
func Builtin(name string) (Pack, bool) {
	fsys, ok := policies.Pack(name)
	if !ok {
		return Pack{}, false
	}
	return Pack{Name: name, FS: fsys, Root: "/$slipway/policies/" + name}, true
}

// Violation is one element of a pack's violations list.
type Violation struct {
	// Rule names the rule.
	Rule string `json:"rule"`
	// Severity is "error" or "warning".
	Severity string `json:"severity"`
	// Path is the CUE path of the offending value.
	Path []string `json:"path"`
	// Message says what is wrong.
	Message string `json:"message"`
}

// Locator finds where the user wrote a path, or its nearest ancestor.
type Locator interface {
	Lookup(path []string) (diag.Pos, bool)
}

// Evaluate runs the packs against input (the decoded spec, every default
// applied) and returns their violations as diagnostics. A pack that does not
// compile is an error of its own.
func Evaluate(ctx *cue.Context, input any, packs []Pack, loc Locator) diag.Diagnostics {
	var ds diag.Diagnostics
	if len(packs) == 0 {
		return nil
	}
	// Policies read plain data: encoding the Go spec is much cheaper to
	// evaluate against than the schema-typed value it was decoded from.
	in := ctx.Encode(input)
	if err := in.Err(); err != nil {
		ds.Errorf(diag.Pos{}, "", "policy", "cannot encode the spec for policies: %v", err)
		return ds
	}
	for _, p := range packs {
		ds = append(ds, evaluate(ctx, in, p, loc)...)
	}
	return ds.Sort()
}

func evaluate(ctx *cue.Context, input cue.Value, p Pack, loc Locator) diag.Diagnostics {
	var ds diag.Diagnostics
	packErr := func(err error) diag.Diagnostics {
		for _, e := range errors.Errors(err) {
			pos := diag.Pos{}
			if ps := e.Position(); ps.IsValid() {
				pos = diag.Pos{File: ps.Filename(), Line: ps.Line(), Column: ps.Column()}
			}
			ds.Errorf(pos, "", "policy/"+p.Name, "policy pack %q does not evaluate: %s", p.Name, e.Error())
		}
		return ds
	}
	root := p.Root
	srcs := map[string][]byte{}
	var files []string
	entries, err := fs.ReadDir(p.FS, ".")
	if err != nil {
		ds.Errorf(diag.Pos{File: root}, "", "policy/"+p.Name, "cannot read policy pack %q: %v", p.Name, err)
		return ds
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".cue") {
			continue
		}
		src, err := fs.ReadFile(p.FS, e.Name())
		if err != nil {
			ds.Errorf(diag.Pos{File: root}, "", "policy/"+p.Name, "cannot read policy pack %q: %v", p.Name, err)
			return ds
		}
		abs := filepath.Join(root, e.Name())
		srcs[abs] = src
		files = append(files, abs)
	}
	if len(files) == 0 {
		ds.Errorf(diag.Pos{File: root}, "", "policy/"+p.Name, "policy pack %q has no .cue files", p.Name)
		return ds
	}
	slices.Sort(files)
	// A pack is built straight from its files, without cue/load's module
	// and file-system machinery: it may import only the standard library.
	inst := build.NewContext().NewInstance(root, nil)
	for _, name := range files {
		f, err := parser.ParseFile(name, srcs[name])
		if err != nil {
			return packErr(err)
		}
		if err := inst.AddSyntax(f); err != nil {
			return packErr(err)
		}
	}
	v := ctx.BuildInstance(inst)
	if err := v.Err(); err != nil {
		return packErr(err)
	}
	v = v.FillPath(cue.ParsePath("input"), input)
	viol := v.LookupPath(cue.ParsePath("violations"))
	if !viol.Exists() {
		ds.Errorf(diag.Pos{File: root}, "", "policy/"+p.Name, "policy pack %q has no violations list", p.Name)
		return ds
	}
	var vs []Violation
	if err := viol.Decode(&vs); err != nil {
		return packErr(err)
	}
	for _, x := range vs {
		pos, _ := loc.Lookup(x.Path)
		d := diag.Diagnostic{Severity: diag.Error, Pos: pos, Path: diag.JoinPath(x.Path),
			Rule: "policy/" + p.Name + "/" + x.Rule, Message: x.Message}
		switch x.Severity {
		case "error":
		case "warning":
			d.Severity = diag.Warning
		default:
			d.Message += fmt.Sprintf(" (policy gave unknown severity %q; treated as error)", x.Severity)
		}
		ds = append(ds, d)
	}
	return ds
}
