// Package diag holds the diagnostics the compiler reports: errors and
// warnings that name a place in the user's files, the CUE path, the rule that
// found them and a message in plain words. Functions return a result together
// with Diagnostics, so warnings travel with errors.
package diag

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Severity says whether a diagnostic stops compilation.
type Severity int

const (
	// Error stops compilation.
	Error Severity = iota
	// Warning is reported and compilation goes on.
	Warning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// MarshalText encodes the severity as its name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Pos is a position in a file. Line and Column count from 1; a zero Line
// means the position is unknown.
type Pos struct {
	// File is the file name as loaded (absolute for files on disk).
	File string `json:"file,omitempty"`
	// Line is the 1-based line.
	Line int `json:"line,omitempty"`
	// Column is the 1-based column.
	Column int `json:"column,omitempty"`
}

// IsValid reports whether the position names a file and line.
func (p Pos) IsValid() bool { return p.File != "" && p.Line > 0 }

// Rel returns the position with its file made relative to dir when it lies
// below it.
func (p Pos) Rel(dir string) Pos {
	if dir == "" || !filepath.IsAbs(p.File) {
		return p
	}
	if r, err := filepath.Rel(dir, p.File); err == nil && !strings.HasPrefix(r, "..") {
		p.File = r
	}
	return p
}

// String formats the position as file:line:col.
func (p Pos) String() string {
	switch {
	case p.File == "":
		return ""
	case p.Line == 0:
		return p.File
	case p.Column == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// Diagnostic is one finding.
type Diagnostic struct {
	// Severity is error or warning.
	Severity Severity `json:"severity"`
	// Pos is where in the user's files the problem is.
	Pos Pos `json:"pos"`
	// Path is the CUE path of the offending value, e.g.
	// "pipelines.churn.training.model".
	Path string `json:"path,omitempty"`
	// Rule names the check or policy that found the problem, e.g. "schema",
	// "reference", "policy/production-signed".
	Rule string `json:"rule"`
	// Message says what is wrong in plain words.
	Message string `json:"message"`
}

// String formats the diagnostic as "file:line:col: path: message [rule]",
// with "warning: " before the message for warnings.
func (d Diagnostic) String() string {
	var b strings.Builder
	if s := d.Pos.String(); s != "" {
		b.WriteString(s)
		b.WriteString(": ")
	}
	if d.Severity == Warning {
		b.WriteString("warning: ")
	}
	if d.Path != "" {
		b.WriteString(d.Path)
		b.WriteString(": ")
	}
	b.WriteString(d.Message)
	if d.Rule != "" {
		fmt.Fprintf(&b, " [%s]", d.Rule)
	}
	return b.String()
}

// Diagnostics is a list of findings.
type Diagnostics []Diagnostic

// Errorf appends an error.
func (ds *Diagnostics) Errorf(pos Pos, path, rule, format string, args ...any) {
	*ds = append(*ds, Diagnostic{Severity: Error, Pos: pos, Path: path, Rule: rule, Message: fmt.Sprintf(format, args...)})
}

// Warnf appends a warning.
func (ds *Diagnostics) Warnf(pos Pos, path, rule, format string, args ...any) {
	*ds = append(*ds, Diagnostic{Severity: Warning, Pos: pos, Path: path, Rule: rule, Message: fmt.Sprintf(format, args...)})
}

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	return slices.ContainsFunc(ds, func(d Diagnostic) bool { return d.Severity == Error })
}

// Errors returns only the errors.
func (ds Diagnostics) Errors() Diagnostics {
	return slices.DeleteFunc(slices.Clone(ds), func(d Diagnostic) bool { return d.Severity != Error })
}

// Sort orders diagnostics by file, line, column, then path and message, and
// drops exact duplicates.
func (ds Diagnostics) Sort() Diagnostics {
	out := slices.Clone(ds)
	slices.SortStableFunc(out, func(a, b Diagnostic) int {
		return cmp.Or(
			cmp.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Column, b.Pos.Column),
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Message, b.Message),
			cmp.Compare(a.Rule, b.Rule),
		)
	})
	return slices.Compact(out)
}

// Rel returns a copy with every position relative to dir.
func (ds Diagnostics) Rel(dir string) Diagnostics {
	out := slices.Clone(ds)
	for i := range out {
		out[i].Pos = out[i].Pos.Rel(dir)
	}
	return out
}

// Err returns the diagnostics as an error when any is an error, else nil.
func (ds Diagnostics) Err() error {
	if !ds.HasErrors() {
		return nil
	}
	return &ListError{List: ds.Errors()}
}

// ListError is the error form of diagnostics that stopped compilation.
type ListError struct {
	// List holds the error diagnostics.
	List Diagnostics
}

// Error joins the diagnostics, one per line.
func (e *ListError) Error() string {
	lines := make([]string, len(e.List))
	for i, d := range e.List {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// JoinPath formats a path the way CUE writes it: labels joined by dots,
// quoted where a label is not an identifier.
func JoinPath(path []string) string {
	var b strings.Builder
	for i, l := range path {
		if i > 0 {
			b.WriteByte('.')
		}
		if isIdent(l) || IsIndex(l) {
			b.WriteString(l)
		} else {
			b.WriteString(strconv.Quote(l))
		}
	}
	return b.String()
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || r == '$' || r == '#' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'):
		case i > 0 && r >= '0' && r <= '9':
		default:
			return false
		}
	}
	return true
}

// IsIndex reports whether s is a list index label.
func IsIndex(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
