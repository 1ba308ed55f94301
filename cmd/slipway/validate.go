package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/compiler/diag"
)

func (a *app) validateCommand() *cobra.Command {
	pf := &policyFlag{names: []string{"default"}}
	cmd := &cobra.Command{
		Use:   "validate DIR...",
		Short: "Check pipeline packages against the schema, references and policies",
		Long: `Validate loads each CUE package, checks it against the embedded schema,
checks cross references (columns, datasets, metrics), runs the policy packs
and reports every error with file:line:col. Exit code 0 when valid, 1 when
any error was found.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			type result struct {
				Dir         string           `json:"dir"`
				Valid       bool             `json:"valid"`
				Pipelines   int              `json:"pipelines"`
				Steps       int              `json:"steps"`
				Diagnostics diag.Diagnostics `json:"diagnostics"`
			}
			var results []result
			failed := false
			for _, dir := range args {
				res, ds, err := a.compileDir(cmd.Context(), dir, pf)
				if err != nil {
					return err
				}
				r := result{Dir: dir, Valid: res != nil, Diagnostics: ds.Rel(a.cwd)}
				if r.Diagnostics == nil {
					r.Diagnostics = diag.Diagnostics{}
				}
				if res != nil {
					r.Pipelines = len(res.Program.Pipelines)
					for _, p := range res.Program.Pipelines {
						r.Steps += len(p.Steps)
					}
				} else {
					failed = true
				}
				results = append(results, r)
				if !a.json {
					a.printDiagnostics(ds)
					if res != nil {
						fmt.Fprintf(a.stdout, "%s: valid (%d %s, %d steps; %s)\n", dir, r.Pipelines, plural(r.Pipelines, "pipeline"), r.Steps, summary(ds))
					} else {
						fmt.Fprintf(a.stderr, "%s: invalid (%s)\n", dir, summary(ds))
					}
				}
			}
			if a.json {
				if err := a.writeJSON(results); err != nil {
					return err
				}
			}
			if failed {
				return findingsError{"invalid"}
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&pf.names, "policy", pf.names, pf.usage())
	return cmd
}
