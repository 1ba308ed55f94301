package main

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/compiler/graph"
)

func (a *app) graphCommand() *cobra.Command {
	pf := &policyFlag{names: []string{"none"}}
	var format string
	cmd := &cobra.Command{
		Use:   "graph DIR [--format mermaid|dot|json]",
		Short: "Print the step DAG of a pipeline package",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if a.json {
				format = "json"
			}
			if !slices.Contains(graph.Formats, format) {
				return usagef("unknown format %q (want one of %s)", format, strings.Join(graph.Formats, ", "))
			}
			res, ds, err := a.compileDir(cmd.Context(), args[0], pf)
			if err != nil {
				return err
			}
			if res == nil {
				a.printDiagnostics(ds)
				return findingsError{"invalid"}
			}
			out, err := graph.Render(res.Program, format)
			if err != nil {
				return err
			}
			_, err = a.stdout.Write(out)
			return err
		},
	}
	cmd.Flags().StringVar(&format, "format", "mermaid", "graph format: "+strings.Join(graph.Formats, ", "))
	cmd.Flags().StringSliceVar(&pf.names, "policy", pf.names, pf.usage())
	return cmd
}
