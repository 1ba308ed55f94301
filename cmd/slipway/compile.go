package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/backends"
	"github.com/slipway-ml/slipway/backends/all"
	"github.com/slipway-ml/slipway/backends/output"
	"github.com/slipway-ml/slipway/compiler"
	"github.com/slipway-ml/slipway/compiler/diag"
)

func (a *app) compileCommand() *cobra.Command {
	pf := &policyFlag{names: []string{"default"}}
	var target, out string
	cmd := &cobra.Command{
		Use:   "compile DIR --target TARGET --out OUT",
		Short: "Compile a pipeline package into the files of a target",
		Long: `Compile validates the package and renders it for a target: ` + strings.Join(all.Names(), ", ") + `,
or all. Output is byte-identical across runs. When validation fails nothing
is written and no output directory is created.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var bs []backends.Backend
			if target == "all" {
				bs = all.Backends()
			} else {
				b, ok := all.Lookup(target)
				if !ok {
					return usagef("unknown target %q (want one of %s, all)", target, strings.Join(all.Names(), ", "))
				}
				bs = []backends.Backend{b}
			}
			if out == "" {
				return usagef("--out is required")
			}
			res, ds, err := a.compileDir(cmd.Context(), args[0], pf)
			if err != nil {
				return err
			}
			if res == nil {
				if a.json {
					_ = a.writeJSON(map[string]any{"dir": args[0], "valid": false, "diagnostics": ds.Rel(a.cwd)})
				} else {
					a.printDiagnostics(ds)
					fmt.Fprintf(a.stderr, "%s: invalid (%s); nothing written\n", args[0], summary(ds))
				}
				return findingsError{"invalid"}
			}
			if lds := limitations(res, bs); len(lds) > 0 {
				ds = append(ds, lds...).Sort()
				if a.json {
					_ = a.writeJSON(map[string]any{"dir": args[0], "valid": false, "diagnostics": ds.Rel(a.cwd)})
				} else {
					a.printDiagnostics(ds)
					fmt.Fprintf(a.stderr, "%s: the target cannot express this spec (%s); nothing written\n", args[0], summary(ds))
				}
				return findingsError{"unsupported"}
			}
			var files []backends.File
			for _, b := range bs {
				fs, err := b.Render(res.Program)
				if err != nil {
					return fmt.Errorf("render %s: %w", b.Name(), err)
				}
				files = append(files, fs...)
			}
			if err := output.Write(out, files); err != nil {
				return err
			}
			paths := make([]string, len(files))
			for i, f := range files {
				paths[i] = f.Path
			}
			slices.Sort(paths)
			if a.json {
				return a.writeJSON(map[string]any{"dir": args[0], "valid": true, "out": out, "files": paths, "diagnostics": ds.Rel(a.cwd)})
			}
			a.printDiagnostics(ds)
			for _, p := range paths {
				fmt.Fprintf(a.stdout, "wrote %s\n", strings.TrimSuffix(out, "/")+"/"+p)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&target, "target", "t", "local", "target to render: "+strings.Join(all.Names(), ", ")+", or all")
	cmd.Flags().StringVar(&out, "out", "", "output directory (required)")
	cmd.Flags().StringSliceVar(&pf.names, "policy", pf.names, pf.usage())
	return cmd
}

// limitations collects, as errors at the user's text, what the spec asks of
// the chosen targets that they cannot express.
func limitations(res *compiler.Result, bs []backends.Backend) diag.Diagnostics {
	var ds diag.Diagnostics
	for _, b := range bs {
		l, ok := b.(backends.Limiter)
		if !ok {
			continue
		}
		for _, x := range l.Limitations(res.Program) {
			pos, _ := res.Positions.Lookup(x.Path)
			ds.Errorf(pos, diag.JoinPath(x.Path), "target/"+b.Name(), "%s", x.Message)
		}
	}
	return ds
}
