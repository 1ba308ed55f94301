// Package load reads a CUE package from a file system, supplies the embedded
// schema, and returns the spec value unified with #Spec. It reads files only
// through an fs.FS, so a package read from a Git revision loads exactly like
// one on disk.
package load

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/load"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/mod/modconfig"
	"cuelang.org/go/mod/modfile"
	"cuelang.org/go/mod/module"

	"github.com/slipway-ml/slipway/compiler/diag"
	"github.com/slipway-ml/slipway/schema"
)

// Options says what to load.
type Options struct {
	// FS holds the files. Required.
	FS fs.FS
	// Dir is the package directory inside FS ("." for its root).
	Dir string
	// Root is the absolute path that FS's root stands for in positions and
	// error messages, e.g. the absolute path of the directory on disk, or
	// "/git/<rev>" for a Git revision. Default: "/".
	Root string
	// Tags are CUE build tags injected with @tag(), as "name=value".
	Tags []string
}

// Package is a loaded CUE package.
type Package struct {
	// Ctx is the context the values belong to; one per load. Values from two
	// contexts must never meet.
	Ctx *cue.Context
	// Value is the user's package unified with #Spec.
	Value cue.Value
	// Schema is the compiled schema package (built without its doc
	// comments).
	Schema cue.Value
	// Files are the absolute names of the user's CUE files, sorted.
	Files []string
	// Dir is the absolute name of the package directory.
	Dir string
	// Positions indexes where the user wrote each field.
	Positions Positions
}

// IsUserFile reports whether name is one of the user's files.
func (p *Package) IsUserFile(name string) bool {
	_, found := slices.BinarySearch(p.Files, name)
	return found
}

// schemaFile is the name the schema appears under in positions.
const schemaFile = "$slipway/schema/" + schema.Filename

// Load reads the package in opts.Dir and unifies it with #Spec. Errors are
// returned as diagnostics with positions in the user's files where CUE
// reports one.
func Load(opts Options) (*Package, diag.Diagnostics) {
	var ds diag.Diagnostics
	root := opts.Root
	if root == "" {
		root = "/"
	}
	dir := path.Clean(opts.Dir)
	absDir := filepath.Join(root, filepath.FromSlash(dir))

	overlay := map[string]load.Source{}
	entries, err := fs.ReadDir(opts.FS, dir)
	if err != nil {
		ds.Errorf(diag.Pos{File: absDir}, "", "load", "cannot read the pipeline directory: %v", unwrapPath(err))
		return nil, ds
	}
	var files []string
	positions := Positions{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".cue") || strings.HasPrefix(e.Name(), ".") || strings.HasPrefix(e.Name(), "_") {
			continue
		}
		data, err := fs.ReadFile(opts.FS, path.Join(dir, e.Name()))
		if err != nil {
			ds.Errorf(diag.Pos{File: filepath.Join(absDir, e.Name())}, "", "load", "cannot read file: %v", unwrapPath(err))
			continue
		}
		abs := filepath.Join(absDir, e.Name())
		overlay[abs] = load.FromBytes(data)
		files = append(files, abs)
		if f := parseForPositions(abs, data); f != nil {
			positions.indexFile(f)
		}
	}
	if ds.HasErrors() {
		return nil, ds
	}
	if len(files) == 0 {
		ds.Errorf(diag.Pos{File: absDir}, "", "load", "no .cue files in the pipeline directory (run `slipway init` to create one)")
		return nil, ds
	}
	slices.Sort(files)

	// The evaluator is pinned, not left to CUE_EXPERIMENT or CUE's default,
	// so that a spec means the same whatever the environment says.
	ctx := cuecontext.New(cuecontext.EvaluatorVersion(cuecontext.EvalV3))
	schemaVal := compileSchema(ctx)
	if err := schemaVal.Err(); err != nil {
		// The schema is embedded and tested; failing here is a bug.
		panic(fmt.Sprintf("embedded schema does not compile: %v", err))
	}

	cfg := &load.Config{
		Dir:     absDir,
		Overlay: overlay,
		Tags:    opts.Tags,
		// The package stands alone: no module found by walking up the real
		// file system, no registry, no network.
		ModuleRoot: absDir,
		Registry:   Offline,
	}
	insts := load.Instances(files, cfg)
	pkg := &Package{Ctx: ctx, Schema: schemaVal, Files: files, Dir: absDir, Positions: positions}
	if len(insts) != 1 {
		ds.Errorf(diag.Pos{File: absDir}, "", "load", "expected one CUE package, found %d", len(insts))
		return nil, ds
	}
	inst := insts[0]
	if inst.Err != nil {
		ds = append(ds, FromCUE(pkg, errors.Errors(inst.Err))...)
		return nil, ds
	}
	v := ctx.BuildInstance(inst)
	if err := v.Err(); err != nil {
		ds = append(ds, FromCUE(pkg, errors.Errors(err))...)
		return nil, ds
	}
	pkg.Value = schemaVal.LookupPath(cue.ParsePath("#Spec")).Unify(v)
	return pkg, ds
}

// compileSchema builds the embedded schema in ctx. It is parsed without its
// doc comments, which nothing reads from the value: that saves their
// allocations, a few percent of a compilation (see BENCHMARKS.md).
//
// Each load parses the schema afresh. A parsed tree cannot be kept and
// shared: building a value from it (ctx.BuildFile) resolves its identifiers
// again, which writes into the tree (ast.Ident.Scope, and appends to
// ast.File.Unresolved on every build), so loads running concurrently would
// race on it and the tree would grow. A compiled value cannot be shared
// either: values from two contexts must never meet.
func compileSchema(ctx *cue.Context) cue.Value {
	f, err := parser.ParseFile(schemaFile, schema.Source())
	if err != nil {
		// The schema is embedded and tested; failing here is a bug.
		panic(fmt.Sprintf("embedded schema does not parse: %v", err))
	}
	return ctx.BuildFile(f, cue.Filename(schemaFile))
}

// unwrapPath drops the *fs.PathError wrapper, whose path the position names.
func unwrapPath(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// offline is a CUE module registry that refuses every request: loading
// never touches the network.
type offline struct{}

// Offline is a registry that refuses every request, for loaders (and the
// benchmarks' CUE-only peer) that must never reach the network.
var Offline modconfig.Registry = offline{}

var errOffline = fmt.Errorf("CUE module dependencies are not supported: a pipeline package stands alone (Slipway loads without network access)")

func (offline) ModFile(context.Context, module.Version) (*modfile.File, error) {
	return nil, errOffline
}

func (offline) Fetch(context.Context, module.Version) (module.SourceLoc, error) {
	return module.SourceLoc{}, errOffline
}

func (offline) ModuleVersions(context.Context, string) ([]string, error) {
	return nil, errOffline
}
