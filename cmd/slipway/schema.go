package main

import (
	"io"
	"regexp"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/schema"
)

func (a *app) schemaCommand() *cobra.Command {
	var pkg string
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Print the embedded CUE schema",
		Long: `Schema prints the CUE definitions Slipway specs are written against.
With --package, the schema is written as a file of that package whose
pipelines must satisfy #Spec; saved beside a spec it lets cue vet and editors
check the spec as Slipway does:

  slipway schema --package churn > examples/churn/slipway_schema.cue
  cue vet ./examples/churn`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			src := schema.Source()
			if pkg != "" {
				if !cueIdent.MatchString(pkg) {
					return usagef("--package %q is not a CUE package name", pkg)
				}
				src = schema.ForPackage(pkg)
			}
			_, err := io.WriteString(a.stdout, src)
			return err
		},
	}
	cmd.Flags().StringVar(&pkg, "package", "", "write the schema into this CUE package, constraining its pipelines")
	return cmd
}

var cueIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
