// Package compiler turns a directory of CUE into Slipway's IR: it loads the
// package with the embedded schema, validates it (schema, concreteness,
// cross references, policies), decodes it and builds the step DAG. It is
// pure: it reads files only through an fs.FS and never touches the network.
package compiler

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"cuelang.org/go/cue"

	"github.com/slipway-ml/slipway/compiler/check"
	"github.com/slipway-ml/slipway/compiler/diag"
	"github.com/slipway-ml/slipway/compiler/ir"
	"github.com/slipway-ml/slipway/compiler/load"
	"github.com/slipway-ml/slipway/compiler/lock"
	"github.com/slipway-ml/slipway/compiler/policy"
	"github.com/slipway-ml/slipway/compiler/spec"
	"github.com/slipway-ml/slipway/policies"
)

// Options say what to compile.
type Options struct {
	// FS holds the files; Dir is the package directory inside it. Required.
	FS fs.FS
	// Dir is the package directory inside FS. Default ".".
	Dir string
	// Root is the absolute name FS's root stands for in positions. Default
	// "/".
	Root string
	// Policies are the packs to run. nil runs the built-in default pack; an
	// empty, non-nil slice runs none.
	Policies []policy.Pack
	// Lock overrides the lock read from Dir/slipway.lock when non-nil.
	Lock *lock.Lock
	// AllowUnpinned accepts remote dataset sources that neither the spec
	// nor the lock pins (`slipway lock` compiles this way to pin them).
	AllowUnpinned bool
	// Path is the package directory relative to the repository root,
	// slash-separated, as remote targets refer to it. Default: Dir.
	Path string
}

// Result is a compiled package.
type Result struct {
	// Spec is the decoded spec, defaults applied.
	Spec *spec.Spec
	// Program is the IR.
	Program *ir.Program
	// Lock is the lock the compilation read.
	Lock *lock.Lock
	// Dir is the absolute name of the package directory.
	Dir string
	// Positions tells where the user wrote each CUE path, for diagnostics
	// found after compilation (a target's limitations).
	Positions load.Positions
}

// Compile loads, validates and compiles the package. The result is nil when
// any diagnostic is an error; warnings come back either way.
func Compile(ctx context.Context, opts Options) (*Result, diag.Diagnostics) {
	if opts.Dir == "" {
		opts.Dir = "."
	}
	if err := ctx.Err(); err != nil {
		return nil, diag.Diagnostics{{Severity: diag.Error, Rule: "compile", Message: err.Error()}}
	}
	pkg, ds := load.Load(load.Options{FS: opts.FS, Dir: opts.Dir, Root: opts.Root})
	if ds.HasErrors() {
		return nil, ds.Sort()
	}
	if vds := load.Validate(pkg); len(vds) > 0 {
		return nil, append(ds, vds...).Sort()
	}
	s, err := decodeSpec(pkg.Value)
	if err != nil {
		ds.Errorf(diag.Pos{File: pkg.Dir}, "", "compile", "%v", err)
		return nil, ds
	}
	ds = append(ds, check.Check(s, pkg.Positions)...)

	packs := opts.Policies
	if packs == nil {
		def, ok := policy.Builtin(policies.Default)
		if !ok {
			panic(fmt.Sprintf("built-in policy pack %q is missing", policies.Default))
		}
		packs = []policy.Pack{def}
	}
	ds = append(ds, policy.Evaluate(pkg.Ctx, s, packs, pkg.Positions)...)

	lk := opts.Lock
	if lk == nil {
		var lds diag.Diagnostics
		lk, lds = lock.Read(opts.FS, opts.Dir, rootOf(opts.Root))
		ds = append(ds, lds...)
	}
	if !opts.AllowUnpinned {
		ds = append(ds, check.Pinned(s, pkg.Positions, lk.DatasetDigest)...)
	}
	p := opts.Path
	if p == "" {
		p = opts.Dir
	}
	prog, bds := ir.Build(s, path.Clean(p), &resolver{lock: lk, fsys: opts.FS, dir: opts.Dir, spec: s}, pkg.Positions)
	ds = append(ds, bds...).Sort()
	if ds.HasErrors() {
		return nil, ds
	}
	return &Result{Spec: s, Program: prog, Lock: lk, Dir: pkg.Dir, Positions: pkg.Positions}, ds
}

// resolver answers dataset digests from the lock, and for local files
// inside the package from their content, read through the same FS as the
// spec, so that a change to committed data shows as a retrain.
type resolver struct {
	lock *lock.Lock
	fsys fs.FS
	dir  string
	spec *spec.Spec
}

func (r *resolver) DatasetDigest(pipeline, dataset string) string {
	if d := r.lock.DatasetDigest(pipeline, dataset); d != "" {
		return d
	}
	p, ok := r.spec.Pipelines[pipeline]
	if !ok || p.Datasets[dataset] == nil {
		return ""
	}
	src := p.Datasets[dataset].Source
	if c, err := check.ParseSource(src); err != nil || !c.Local || strings.Contains(src, "://") || path.IsAbs(src) {
		return ""
	}
	f, err := r.fsys.Open(path.Join(r.dir, strings.TrimPrefix(src, "file::")))
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (r *resolver) ImageDigest(ref string) string { return r.lock.ImageDigest(ref) }

func (r *resolver) Champion(pipeline, env string) (lock.Champion, bool) {
	return r.lock.Champion(pipeline, env)
}

func rootOf(r string) string {
	if r == "" {
		return "/"
	}
	return r
}

// decodeSpec decodes a validated, concrete #Spec value. It goes through the
// value's JSON export, which is several times cheaper than decoding the
// value field by field, and unknown fields are errors: the Go types must
// follow the schema exactly.
func decodeSpec(v cue.Value) (*spec.Spec, error) {
	data, err := v.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("decode spec: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s spec.Spec
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("decode spec: %w", err)
	}
	return &s, nil
}
