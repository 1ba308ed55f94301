// Package view shows a plan to people: as terminal text in the manner of
// `terraform plan` (Text), and as the pull-request comment (Markdown). Both
// read only the plan's data, so a plan decoded from its JSON shows exactly
// as the one just made.
package view

import (
	"fmt"
	"strings"

	"github.com/slipway-ml/slipway/compiler/plan"
)

// line is one line of a pipeline's details: a mark (+ - ~ or blank), a
// depth of indentation and the text.
type line struct {
	mark  string
	depth int
	text  string
}

// pipelineLines lists the details of a pipeline below its summary.
func pipelineLines(pl *plan.Pipeline) []line {
	var ls []line
	add := func(mark string, depth int, format string, args ...any) {
		ls = append(ls, line{mark: mark, depth: depth, text: fmt.Sprintf(format, args...)})
	}
	for _, c := range pl.Changes {
		add(c.Action.Symbol(), 0, "%s  # %s", changeText(c), effectNote(c.Effect, c.Environment))
	}
	if len(pl.Retrain) > 0 {
		add(" ", 0, "retrains because:")
		for _, r := range pl.Retrain {
			add(" ", 1, "%s", r.Phrase())
		}
	}
	if pl.Action == plan.Update {
		var envs []*plan.Environment
		for _, e := range pl.Environments {
			if e.Action != plan.NoOp {
				envs = append(envs, e)
			}
		}
		if len(envs) > 0 {
			add(" ", 0, "environments:")
			for _, e := range envs {
				what := "redeploy"
				if !e.Redeploy {
					what = "no redeploy"
				}
				if len(e.Reasons) > 0 {
					what += ": " + strings.Join(e.Reasons, ", ")
				}
				add(e.Action.Symbol(), 1, "%s%s: %s", e.Name, production(e.Production), what)
			}
		}
		var gates []*plan.GateChange
		for _, g := range pl.Gates {
			if g.Action != plan.NoOp {
				gates = append(gates, g)
			}
		}
		if len(gates) > 0 {
			add(" ", 0, "gates:")
			for _, g := range gates {
				switch g.Action {
				case plan.Create:
					add("+", 1, "%s: %s", g.Name, g.New)
				case plan.Delete:
					add("-", 1, "%s: %s", g.Name, g.Old)
				default:
					add("~", 1, "%s: %s → %s", g.Name, g.Old, g.New)
				}
			}
		}
		if len(pl.Steps) > 0 {
			add(" ", 0, "steps:")
			for _, st := range pl.Steps {
				ls = append(ls, stepLines(st)...)
			}
		}
	}
	if pl.Action == plan.Create {
		var envs []string
		for _, e := range pl.Environments {
			envs = append(envs, e.Name+production(e.Production))
		}
		if len(envs) > 0 {
			add("+", 0, "environments: %s", strings.Join(envs, ", "))
		}
		for _, g := range pl.Gates {
			add("+", 0, "gate %s: %s", g.Name, g.New)
		}
		add("+", 0, "%d steps", len(pl.Steps))
	}
	if pl.Action == plan.Delete {
		var envs []string
		for _, e := range pl.Environments {
			envs = append(envs, e.Name+production(e.Production))
		}
		if len(envs) > 0 {
			add("-", 0, "environments: %s", strings.Join(envs, ", "))
		}
		add("-", 0, "%d steps", len(pl.Steps))
	}
	ls = append(ls, diagnosticLines(pl.Diagnostics, 0)...)
	return ls
}

func production(p bool) string {
	if p {
		return " (production)"
	}
	return ""
}

func stepLines(st *plan.Step) []line {
	name := st.ID + " (" + string(st.Kind) + ")"
	switch st.Action {
	case plan.Create:
		return []line{{"+", 1, name + ": new"}}
	case plan.Delete:
		return []line{{"-", 1, name + ": removed"}}
	}
	var ls []line
	if st.Rerun {
		ls = append(ls, line{"~", 1, name + ": runs again"})
		for _, r := range st.Reasons {
			ls = append(ls, line{" ", 2, reasonText(r)})
		}
	} else {
		ls = append(ls, line{"~", 1, name + ": settings change, cached results are reused"})
	}
	for _, f := range st.Fields {
		ls = append(ls, line{f.Action.Symbol(), 2, changeText(f)})
	}
	return ls
}

// changeText is "path: old → new", "path: new" or "path: old".
func changeText(c *plan.Change) string {
	switch c.Action {
	case plan.Create:
		return c.Path + ": " + plan.Format(c.New)
	case plan.Delete:
		return c.Path + ": " + plan.Format(c.Old)
	}
	return c.Path + ": " + plan.Format(c.Old) + " → " + plan.Format(c.New)
}

func reasonText(r *plan.Reason) string {
	switch r.Kind {
	case plan.ReasonParam:
		return "param " + r.Path + ": " + plan.Format(r.Old) + " → " + plan.Format(r.New)
	case plan.ReasonInput:
		if r.From != "" && r.Old != nil && r.New != nil {
			return "input " + r.Path + " from " + r.From + " changes"
		}
		return "input " + r.Path + ": " + plan.Short(r.Old) + " → " + plan.Short(r.New)
	}
	return r.Phrase()
}

func effectNote(e plan.Effect, env string) string {
	if env != "" && e == plan.Redeploy {
		return "redeploy " + env
	}
	return string(e)
}

func diagnosticLines(ds []*plan.Diagnostic, depth int) []line {
	if len(ds) == 0 {
		return nil
	}
	ls := []line{{" ", depth, "policy:"}}
	for _, d := range ds {
		mark := " "
		switch d.Status {
		case plan.StatusNew:
			mark = "+"
		case plan.StatusResolved:
			mark = "-"
		}
		text := d.Severity + ": "
		if d.Path != "" {
			text += d.Path + ": "
		}
		text += d.Message + " [" + d.Rule + "] (" + d.Status + ")"
		ls = append(ls, line{mark, depth + 1, text})
	}
	return ls
}

// counts words the plan's totals: "1 to add, 2 to change, 0 to remove, 1
// unchanged; 3 rendered files differ".
func counts(p *plan.Plan) string {
	c, u, d, n := p.Counts()
	s := fmt.Sprintf("%d to add, %d to change, %d to remove, %d unchanged", c, u, d, n)
	switch len(p.Files) {
	case 0:
		s += "; no rendered file differs"
	case 1:
		s += "; 1 rendered file differs"
	default:
		s += fmt.Sprintf("; %d rendered files differ", len(p.Files))
	}
	return s
}

// revisions words the compared revisions: "examples/churn: origin/main
// (0123456789ab) → HEAD (fedcba987654)".
func revisions(p *plan.Plan) string {
	side := func(r plan.Revision, fallback string) string {
		name := r.Ref
		if name == "" {
			name = fallback
		}
		if r.Commit != "" {
			name += " (" + shortHash(r.Commit) + ")"
		}
		return name
	}
	s := side(p.Inputs.Base, "base") + " → " + side(p.Inputs.Head, "head")
	path := p.Inputs.Head.Path
	if path == "" {
		path = p.Inputs.Base.Path
	}
	if path != "" {
		s = path + ": " + s
	}
	return s
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func fileHeader(f *plan.FileDiff) string {
	switch {
	case f.Binary:
		return f.Path + " (binary)"
	case f.Action == plan.Create:
		return fmt.Sprintf("%s (new, +%d)", f.Path, f.Added)
	case f.Action == plan.Delete:
		return fmt.Sprintf("%s (removed, −%d)", f.Path, f.Removed)
	}
	return fmt.Sprintf("%s (+%d −%d)", f.Path, f.Added, f.Removed)
}
