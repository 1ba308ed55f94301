package view

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/slipway-ml/slipway/compiler/plan"
)

// ANSI escape sequences.
const (
	reset  = "\x1b[0m"
	bold   = "\x1b[1m"
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	cyan   = "\x1b[36m"
)

// Text writes the plan for a terminal, in the manner of `terraform plan`:
// each pipeline with its summary, then every changed field marked + (added),
// - (removed) or ~ (changed), the reasons for retraining, the environments,
// gates and steps that change, policy findings, the unified diff of each
// rendered file that differs, and the totals. color adds ANSI colours.
func Text(w io.Writer, p *plan.Plan, color bool) error {
	bw := bufio.NewWriter(w)
	paint := func(code, s string) string {
		if !color || s == "" {
			return s
		}
		return code + s + reset
	}
	markColor := map[string]string{"+": green, "-": red, "~": yellow}

	fmt.Fprintf(bw, "%s\n\n", paint(bold, "Slipway plan "+revisions(p)))
	for _, pl := range p.Pipelines {
		mark := pl.Action.Symbol()
		effects := make([]string, len(pl.Effects))
		for i, e := range pl.Effects {
			effects[i] = string(e)
		}
		head := fmt.Sprintf("%s %s", mark, pl.Name)
		fmt.Fprintf(bw, "%s %s\n", paint(bold+markColor[mark], head), paint(bold, "["+strings.Join(effects, ", ")+"]"))
		fmt.Fprintf(bw, "    %s\n", pl.Summary)
		ls := pipelineLines(pl)
		if len(ls) > 0 {
			bw.WriteString("\n")
		}
		for _, l := range ls {
			text := strings.Repeat("  ", l.depth+2) + l.mark + " " + l.text
			fmt.Fprintln(bw, paint(markColor[l.mark], text))
		}
		bw.WriteString("\n")
	}
	if ls := diagnosticLines(p.Diagnostics, 0); len(ls) > 0 {
		for _, l := range ls {
			fmt.Fprintln(bw, paint(markColor[l.mark], strings.Repeat("  ", l.depth)+l.mark+" "+l.text))
		}
		bw.WriteString("\n")
	}
	if len(p.Files) > 0 {
		fmt.Fprintln(bw, paint(bold, "Rendered files:"))
		for _, f := range p.Files {
			mark := f.Action.Symbol()
			fmt.Fprintln(bw, paint(markColor[mark], mark+" "+fileHeader(f)))
			for i, l := range strings.SplitAfter(f.Diff, "\n") {
				if l == "" {
					continue
				}
				l = strings.TrimSuffix(l, "\n")
				code := ""
				switch {
				case i < 2:
					code = bold
				case strings.HasPrefix(l, "@@"):
					code = cyan
				case strings.HasPrefix(l, "+"):
					code = green
				case strings.HasPrefix(l, "-"):
					code = red
				}
				fmt.Fprintln(bw, "    "+paint(code, l))
			}
		}
		bw.WriteString("\n")
	}
	fmt.Fprintf(bw, "%s\n", paint(bold, "Plan: "+counts(p)+"."))
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write the plan: %w", err)
	}
	return nil
}
