package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/backends/output"
	"github.com/slipway-ml/slipway/examples"
)

func (a *app) initCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "init NAME [--dir DIR]",
		Short: "Scaffold a pipeline package that validates as it is",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			files, err := examples.Scaffold(name)
			if err != nil {
				return usageError{err}
			}
			if dir == "" {
				dir = name
			}
			if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
				return usagef("%s already exists and is not empty", dir)
			}
			if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
				return fmt.Errorf("create %s: %w", dir, err)
			}
			for _, p := range slices.Sorted(maps.Keys(files)) {
				if err := output.WriteFile(filepath.Join(dir, filepath.FromSlash(p)), files[p]); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "created %s\n", filepath.Join(dir, filepath.FromSlash(p)))
			}
			fmt.Fprintf(a.stdout, "next: slipway validate %s\n", dir)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "directory to create (default: NAME)")
	return cmd
}
