package view

import (
	"fmt"
	"strings"

	"github.com/slipway-ml/slipway/compiler/plan"
)

// Marker begins every plan comment, so that CI finds the one comment it
// keeps up to date.
const Marker = "<!-- slipway-plan -->"

// GitHubLimit is the longest comment GitHub accepts, in characters.
const GitHubLimit = 65536

// Markdown writes the plan as a pull-request comment: the marker, a
// summary table (pipeline, effect, what changes), then each pipeline's
// details and each rendered file's unified diff folded in <details> blocks
// with ```diff fences.
//
// limit is the most bytes the comment may have (a byte count is never
// below GitHub's character count); limit <= 0 means GitHubLimit. A plan too
// long for it loses file diffs first (each becomes one line naming the
// file), then pipeline details, then the list of files, then table rows;
// the summary table stays, a note says "the full plan is attached as a
// file", and truncated is true. Blocks are dropped whole, never cut inside
// a fence. Only a limit too small for the introduction, the table's header
// and the note gives a longer comment.
func Markdown(p *plan.Plan, limit int) (comment string, truncated bool) {
	if limit <= 0 {
		limit = GitHubLimit
	}
	intro := Marker + "\n### Slipway plan\n\n" + esc(revisions(p)) + "\n\n" + esc(counts(p)) + ".\n\n"
	rows := tableRows(p)
	tableHead := "| | Pipeline | Effect | What changes |\n| --- | --- | --- | --- |\n"
	var outer string
	if ls := diagnosticLines(p.Diagnostics, 0); len(ls) > 0 {
		outer = "\n**Policy findings outside pipelines**\n\n" + fenced(markdownLines(ls)) + "\n"
	}
	pipes := make([]string, len(p.Pipelines))
	for i, pl := range p.Pipelines {
		pipes[i] = pipelineBlock(pl)
	}
	files := make([]string, len(p.Files))
	stubs := make([]string, len(p.Files))
	for i, f := range p.Files {
		files[i] = fileBlock(f)
		stubs[i] = "- <code>" + esc(f.Path) + "</code> " + esc(strings.TrimPrefix(fileHeader(f), f.Path+" ")) + ": diff left out\n"
	}
	const filesHeading = "**Rendered files**\n\n"

	full := intro + tableHead + strings.Join(rows, "") + outer + "\n" + strings.Join(pipes, "")
	if len(files) > 0 {
		full += filesHeading + strings.Join(files, "")
	}
	if len(full) <= limit {
		return full, false
	}

	// The longest note there can be, reserved before choosing what stays.
	reserve := len(note(len(p.Files), len(p.Files), len(p.Pipelines), len(p.Pipelines), true, len(rows), 0))
	head := intro + tableHead + strings.Join(rows, "") + outer + "\n"
	budget := limit - reserve - len(head)

	keptRows := len(rows)
	if budget < 0 {
		// Even the table is too long: keep the rows that fit.
		head = intro + tableHead
		budget = limit - reserve - len(head)
		keptRows = 0
		for _, r := range rows {
			if len(r) > budget {
				break
			}
			head += r
			budget -= len(r)
			keptRows++
		}
		head += "\n"
		return head + note(len(p.Files), len(p.Files), len(p.Pipelines), len(p.Pipelines), len(p.Files) > 0, len(rows), keptRows), true
	}

	var b strings.Builder
	b.WriteString(head)
	droppedDiffs, droppedDetails, droppedList := 0, 0, false
	stubTotal := 0
	for _, s := range stubs {
		stubTotal += len(s)
	}
	pipeTotal := 0
	for _, s := range pipes {
		pipeTotal += len(s)
	}
	fileSection := func(keep []bool) string {
		if len(files) == 0 {
			return ""
		}
		s := filesHeading
		for i := range files {
			if keep[i] {
				s += files[i]
			} else {
				s += stubs[i]
			}
		}
		return s
	}
	keep := make([]bool, len(files))
	headingLen := 0
	if len(files) > 0 {
		headingLen = len(filesHeading)
	}
	switch {
	case pipeTotal+headingLen+stubTotal <= budget:
		// Every pipeline's details; as many diffs as fit.
		rest := budget - pipeTotal - headingLen - stubTotal
		for i := range files {
			if extra := len(files[i]) - len(stubs[i]); extra <= rest {
				keep[i] = true
				rest -= extra
			} else {
				droppedDiffs++
			}
		}
		b.WriteString(strings.Join(pipes, ""))
		b.WriteString(fileSection(keep))
	default:
		droppedDiffs = len(files)
		rest := budget - headingLen - stubTotal
		if rest < 0 {
			droppedList = len(files) > 0
			rest = budget
		}
		for _, s := range pipes {
			if len(s) <= rest {
				b.WriteString(s)
				rest -= len(s)
			} else {
				droppedDetails++
			}
		}
		if !droppedList {
			b.WriteString(fileSection(keep))
		}
	}
	b.WriteString(note(len(p.Files), droppedDiffs, len(p.Pipelines), droppedDetails, droppedList, len(rows), keptRows))
	return b.String(), true
}

// note says what was left out.
func note(files, droppedDiffs, pipes, droppedDetails int, droppedList bool, rows, keptRows int) string {
	var parts []string
	if droppedDiffs > 0 {
		parts = append(parts, fmt.Sprintf("the diffs of %d of %d rendered files", droppedDiffs, files))
	}
	if droppedDetails > 0 {
		parts = append(parts, fmt.Sprintf("the details of %d of %d pipelines", droppedDetails, pipes))
	}
	if droppedList {
		parts = append(parts, "the list of rendered files")
	}
	if keptRows < rows {
		parts = append(parts, fmt.Sprintf("%d of %d rows of the table", rows-keptRows, rows))
	}
	what := "parts of it"
	if len(parts) > 0 {
		what = andList(parts)
	}
	return "\n> [!NOTE]\n> The plan is too long for one comment, so " + what + " are left out here: the full plan is attached as a file.\n"
}

func andList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

func tableRows(p *plan.Plan) []string {
	rows := make([]string, len(p.Pipelines))
	for i, pl := range p.Pipelines {
		effects := make([]string, len(pl.Effects))
		for j, e := range pl.Effects {
			effects[j] = string(e)
		}
		mark := pl.Action.Symbol()
		if mark == " " {
			mark = ""
		}
		rows[i] = fmt.Sprintf("| %s | <code>%s</code> | %s | %s |\n", mark, cell(pl.Name), cell(strings.Join(effects, ", ")), cell(pl.Summary))
	}
	return rows
}

func pipelineBlock(pl *plan.Pipeline) string {
	ls := pipelineLines(pl)
	if len(ls) == 0 {
		return ""
	}
	effects := make([]string, len(pl.Effects))
	for i, e := range pl.Effects {
		effects[i] = string(e)
	}
	return "<details><summary><code>" + esc(pl.Name) + "</code>: " + esc(strings.Join(effects, ", ")) + "</summary>\n\n" +
		fenced(markdownLines(ls)) + "\n</details>\n\n"
}

func fileBlock(f *plan.FileDiff) string {
	body := f.Diff
	if f.Binary {
		body = "Binary file; contents not shown.\n"
	}
	return "<details><summary><code>" + esc(f.Path) + "</code> " + esc(strings.TrimPrefix(fileHeader(f), f.Path+" ")) + "</summary>\n\n" +
		fenced(body) + "\n</details>\n\n"
}

// markdownLines puts each line's mark in the first column, where GitHub's
// diff highlighting looks for it.
func markdownLines(ls []line) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.mark + " " + strings.Repeat("  ", l.depth) + l.text + "\n")
	}
	return b.String()
}

// fenced wraps text in a ```diff fence longer than any run of backticks in
// it.
func fenced(text string) string {
	run, longest := 0, 0
	for _, r := range text {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", max(3, longest+1))
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return fence + "diff\n" + text + fence + "\n"
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// esc makes text safe in Markdown and HTML outside code.
func esc(s string) string { return htmlEscaper.Replace(s) }

// cell makes text safe in a table cell.
func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(esc(s), "|", `\|`), "\n", " ")
}
