package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/compiler/plan/view"
	"github.com/slipway-ml/slipway/runners/plans"
)

// exitCode is an error that ends the command with a given exit code; a
// nil err prints nothing.
type exitCode struct {
	code int
	err  error
}

func (e exitCode) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (a *app) planCommand() *cobra.Command {
	pf := &policyFlag{names: []string{"default"}}
	var base, head, format, out string
	cmd := &cobra.Command{
		Use:   "plan [DIR] --base REV [--head REV]",
		Short: "Show what a change to the specs will do, compared with a base revision",
		Long: `Plan reads the package in DIR (default ".") at --base and at --head (default:
the working tree) straight from Git objects — no checkout, no network —
compiles both, renders every target for both, and shows the difference in
the ML system: per pipeline and environment, each changed field with its old
and new value and its effect (retrain, and which input changed; redeploy;
schedule change; gate or policy change; config only; no-op), and the unified
diff of every rendered file.

--format text (coloured on a terminal), markdown (the pull-request comment,
kept under GitHub's 65,536 characters) or json (the versioned plan). --out
writes the JSON plan, which slipway apply takes.

Exit codes, as Terraform's: 0 no changes, 2 changes present, 1 error.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			if base == "" {
				return exitCode{1, errors.New("--base is required (the revision to compare with, e.g. origin/main)")}
			}
			if a.json {
				format = "json"
			}
			switch format {
			case "text", "markdown", "json":
			default:
				return exitCode{1, fmt.Errorf("--format must be text, markdown or json, not %q", format)}
			}
			packs, err := pf.packs()
			if err != nil {
				return exitCode{1, err}
			}
			p, _, headSide, err := plans.Make(cmd.Context(), plans.Options{Dir: dir, Base: base, Head: head, Policies: packs})
			if errors.Is(err, plans.ErrInvalid) {
				a.printDiagnostics(headSide.Diagnostics)
				return exitCode{1, fmt.Errorf("%s: %w; nothing planned", dir, err)}
			}
			if err != nil {
				return exitCode{1, err}
			}
			if out != "" {
				if err := p.WriteFile(out); err != nil {
					return exitCode{1, err}
				}
			}
			switch format {
			case "json":
				b, err := p.Marshal()
				if err != nil {
					return exitCode{1, err}
				}
				_, _ = a.stdout.Write(b)
			case "markdown":
				md, truncated := view.Markdown(p, 0)
				fmt.Fprint(a.stdout, md)
				if truncated && out == "" {
					fmt.Fprintln(a.stderr, "slipway: the plan was summarised to fit a comment; write the full plan with --out plan.json")
				}
			default:
				f, ok := a.stdout.(*os.File)
				if err := view.Text(a.stdout, p, ok && isTerminal(f) && os.Getenv("NO_COLOR") == ""); err != nil {
					return exitCode{1, err}
				}
			}
			if p.Changed() {
				return exitCode{2, nil}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&base, "base", "", "revision to compare with (required), e.g. origin/main")
	cmd.Flags().StringVar(&head, "head", "", "revision to plan (default: the working tree)")
	cmd.Flags().StringVar(&format, "format", "text", "text, markdown or json")
	cmd.Flags().StringVar(&out, "out", "", "write the JSON plan to this file (for slipway apply)")
	cmd.Flags().StringSliceVar(&pf.names, "policy", pf.names, pf.usage())
	return cmd
}
