package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/schema"
)

func (a *app) schemaCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the embedded CUE schema",
		Long: `Schema prints the CUE definitions Slipway specs are written against.
Save it beside a spec to use cue vet and editors: slipway schema > schema.cue`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := io.WriteString(a.stdout, schema.Source())
			return err
		},
	}
}
