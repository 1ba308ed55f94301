package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/compiler/version"
)

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print Slipway's version and the versions it pins",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if a.json {
				return a.writeJSON(map[string]string{"slipway": version.Version, "cue": version.CUE, "ir": version.IRVersion, "go": runtime.Version()})
			}
			fmt.Fprintf(a.stdout, "slipway %s (cue %s, %s, %s)\n", version.Version, version.CUE, version.IRVersion, runtime.Version())
			return nil
		},
	}
}
