package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/backends/all"
	"github.com/slipway-ml/slipway/compiler/diag"
	"github.com/slipway-ml/slipway/compiler/version"
)

// Exit codes.
const (
	exitOK       = 0 // success
	exitFindings = 1 // invalid spec, failed gate, policy violation
	exitUsage    = 2 // bad usage
	exitInternal = 3 // internal failure
)

// usageError is a mistake in the command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// findingsError means the command ran and found problems it has already
// reported.
type findingsError struct{ msg string }

func (e findingsError) Error() string { return e.msg }

// app carries the streams and the output format of one invocation; there
// are no globals.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	json           bool
	cwd            string
}

// Main runs the CLI with args and returns the exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return MainContext(context.Background(), args, stdin, stdout, stderr)
}

// MainContext is Main under a context: cancelling it stops a long-running
// command (serve, registry serve) as Ctrl-C does.
func MainContext(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, json: wantsJSON(args)}
	a.cwd, _ = os.Getwd()
	root := a.rootCommand()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	code := exitInternal
	var ue usageError
	var fe findingsError
	var ec exitCode
	if errors.As(err, &ec) {
		if ec.err != nil {
			if a.json {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				_ = enc.Encode(map[string]any{"error": ec.err.Error(), "exitCode": ec.code})
			} else {
				fmt.Fprintf(stderr, "slipway: %v\n", ec.err)
			}
		}
		return ec.code
	}
	switch {
	case errors.As(err, &fe):
		return exitFindings
	case errors.As(err, &ue) || isCobraUsage(err):
		code = exitUsage
	}
	if a.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(map[string]any{"error": err.Error(), "exitCode": code})
	} else {
		fmt.Fprintf(stderr, "slipway: %v\n", err)
		if code == exitUsage {
			fmt.Fprintln(stderr, "Run 'slipway --help' for usage.")
		}
	}
	return code
}

// wantsJSON scans the raw arguments for --output json before any parsing,
// so that even a flag error comes out as JSON when JSON was asked for.
func wantsJSON(args []string) bool {
	for i, a := range args {
		switch {
		case a == "--":
			return false
		case a == "--output=json" || a == "-o=json" || a == "-ojson":
			return true
		case (a == "--output" || a == "-o") && i+1 < len(args) && args[i+1] == "json":
			return true
		}
	}
	return false
}

// isCobraUsage recognises cobra's own argument and flag errors.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "requires exactly", "bad flag syntax"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func (a *app) rootCommand() *cobra.Command {
	var output string
	root := &cobra.Command{
		Use:   "slipway",
		Short: "Declarative GitOps pipelines for machine learning",
		Long: `Slipway validates ML pipelines written in CUE and compiles them into the
files of the targets that run them. Targets in this build: ` + strings.Join(all.Names(), ", ") + `.`,
		Version:       version.Version,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return usagef("--output must be text or json, not %q", output)
			}
			return nil
		},
	}
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.PersistentFlags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		a.validateCommand(),
		a.compileCommand(),
		a.graphCommand(),
		a.schemaCommand(),
		a.initCommand(),
		a.versionCommand(),
		a.trainCommand(),
		a.runCommand(),
		a.stepCommand(),
		a.lockCommand(),
		a.keysCommand(),
		a.imageCommand(),
		a.modelCommand(),
		a.registryCommand(),
		a.planCommand(),
		a.applyCommand(),
		a.rollbackCommand(),
		a.monitorCommand(),
		a.serveCommand(),
		a.predictCommand(),
	)
	return root
}

// printDiagnostics writes diagnostics to stderr, positions relative to the
// working directory.
func (a *app) printDiagnostics(ds diag.Diagnostics) {
	for _, d := range ds.Rel(a.cwd) {
		fmt.Fprintln(a.stderr, d.String())
	}
}

// writeJSON writes v as indented JSON to stdout.
func (a *app) writeJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// summary counts errors and warnings.
func summary(ds diag.Diagnostics) string {
	e, w := 0, 0
	for _, d := range ds {
		if d.Severity == diag.Error {
			e++
		} else {
			w++
		}
	}
	return fmt.Sprintf("%d %s, %d %s", e, plural(e, "error"), w, plural(w, "warning"))
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}
