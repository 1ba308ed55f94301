package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/slipway-ml/slipway/compiler"
	"github.com/slipway-ml/slipway/compiler/diag"
	"github.com/slipway-ml/slipway/compiler/policy"
)

// policyFlag is the --policy flag shared by commands that compile.
type policyFlag struct{ names []string }

func (p *policyFlag) usage() string {
	return "policy packs to run: built-in names (default, strict), paths to pack directories, or none"
}

// packs resolves the flag into policy packs.
func (p *policyFlag) packs() ([]policy.Pack, error) {
	var packs []policy.Pack
	for _, raw := range p.names {
		for _, name := range strings.Split(raw, ",") {
			name = strings.TrimSpace(name)
			switch {
			case name == "" || name == "none":
				continue
			case strings.ContainsAny(name, `/\.`):
				abs, err := filepath.Abs(name)
				if err != nil {
					return nil, usagef("policy pack %s: %v", name, err)
				}
				if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
					return nil, usagef("policy pack %s is not a directory", name)
				}
				packs = append(packs, policy.Pack{Name: filepath.Base(abs), FS: os.DirFS(abs), Root: abs})
			default:
				pk, ok := policy.Builtin(name)
				if !ok {
					return nil, usagef("unknown policy pack %q (built in: default, strict; or give a directory path)", name)
				}
				packs = append(packs, pk)
			}
		}
	}
	if packs == nil {
		packs = []policy.Pack{}
	}
	return packs, nil
}

// compileDir compiles the package in dir.
func (a *app) compileDir(ctx context.Context, dir string, pf *policyFlag) (*compiler.Result, diag.Diagnostics, error) {
	return a.compileDirWith(ctx, dir, pf, compiler.Options{})
}

// compileDirWith compiles the package in dir with extra options.
func (a *app) compileDirWith(ctx context.Context, dir string, pf *policyFlag, extra compiler.Options) (*compiler.Result, diag.Diagnostics, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, nil, usagef("%s: %v", dir, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, nil, usagef("%s: no such directory", dir)
	}
	if !fi.IsDir() {
		return nil, nil, usagef("%s is not a directory: give the pipeline's package directory", dir)
	}
	packs, err := pf.packs()
	if err != nil {
		return nil, nil, err
	}
	tuneGC()
	res, ds := compiler.Compile(ctx, compiler.Options{FS: os.DirFS(abs), Dir: ".", Root: abs, Policies: packs, Path: repoPath(abs),
		AllowUnpinned: extra.AllowUnpinned})
	return res, ds, nil
}

// repoPath returns dir relative to the root of the Git repository holding
// it (the nearest parent with a .git entry), or "." when there is none.
func repoPath(dir string) string {
	for root := dir; ; {
		if _, err := os.Stat(filepath.Join(root, ".git")); err == nil {
			rel, err := filepath.Rel(root, dir)
			if err != nil {
				return "."
			}
			return filepath.ToSlash(rel)
		}
		parent := filepath.Dir(root)
		if parent == root {
			return "."
		}
		root = parent
	}
}

// tuneGC lets the heap grow further between collections while compiling:
// a compilation allocates a few megabytes of short-lived CUE values, and
// the default setting spends a fifth of the time collecting them. GOGC, when
// set, wins.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}
