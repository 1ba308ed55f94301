package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/compiler"
	"github.com/slipway-ml/slipway/runners/pipeline"
)

func (a *app) lockCommand() *cobra.Command {
	pf := &policyFlag{names: []string{"none"}}
	var stateDir string
	var update bool
	cmd := &cobra.Command{
		Use:   "lock [DIR]",
		Short: "Resolve dataset sources and pin their digests in slipway.lock",
		Long: `Lock fetches every remote dataset source of the package in DIR (default ".")
that neither the spec nor slipway.lock pins, hashes it, and records its
sha256 in slipway.lock, so that runs and compiled targets read exactly that
content. --update fetches pinned sources again and takes their new digests.
Local files are not locked: the compiler digests them by content.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			res, ds, err := a.compileDirWith(cmd.Context(), dir, pf, compiler.Options{AllowUnpinned: true})
			if err != nil {
				return err
			}
			if res == nil {
				a.printDiagnostics(ds)
				return findingsError{"invalid"}
			}
			changes, err := pipeline.Lock(cmd.Context(), pipeline.LockOptions{Compiled: res, StateDir: stateDir, Update: update})
			if err != nil {
				return err
			}
			if a.json {
				if changes == nil {
					changes = []pipeline.LockChange{}
				}
				return a.writeJSON(map[string]any{"dir": dir, "changes": changes})
			}
			if len(changes) == 0 {
				fmt.Fprintln(a.stdout, "slipway.lock is up to date")
				return nil
			}
			for _, c := range changes {
				old := c.Old
				if old == "" {
					old = "(none)"
				}
				fmt.Fprintf(a.stdout, "%s: %s → %s\n", c.Dataset, old, c.New)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&stateDir, "state-dir", ".slipway", "directory of the data cache")
	cmd.Flags().BoolVar(&update, "update", false, "fetch pinned sources again and take their new digests")
	return cmd
}
