package load

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/errors"

	"github.com/slipway-ml/slipway/compiler/diag"
	"github.com/slipway-ml/slipway/compiler/internal/suggest"
)

// RuleSchema is the rule name of diagnostics found by the schema.
const RuleSchema = "schema"

// Validate checks the package against the schema and for concreteness, and
// returns every error found, each at the user's text where there is one.
// CUE reports incomplete values only when nothing worse is wrong, so when
// the whole-value check fails every leaf is checked on its own as well.
func Validate(pkg *Package) diag.Diagnostics {
	err := pkg.Value.Validate(cue.Concrete(true), cue.Final())
	if err == nil {
		return nil
	}
	var items []item
	for _, e := range errors.Errors(err) {
		items = append(items, item{trimSpec(e.Path()), e})
	}
	walkLeaves(pkg.Value, func(v cue.Value) {
		if err := v.Validate(cue.Concrete(true), cue.Final()); err != nil {
			// The leaf's own path: an error inside a list element of a
			// definition type is reported at the definition's path.
			path := selectorsOf(v.Path())
			for _, e := range errors.Errors(err) {
				items = append(items, item{path, e})
			}
		}
	})
	return fromItems(pkg, items)
}

// item is one CUE error and the path it belongs to.
type item struct {
	path []string
	err  errors.Error
}

func selectorsOf(p cue.Path) []string {
	var out []string
	for _, s := range p.Selectors() {
		if s.LabelType() == cue.StringLabel {
			out = append(out, s.Unquoted())
		} else {
			out = append(out, s.String())
		}
	}
	return trimSpec(out)
}

// walkLeaves calls fn on every regular field value that is not a struct or
// list, and on every list or struct that is itself an error.
func walkLeaves(v cue.Value, fn func(cue.Value)) {
	if it, err := v.Fields(); err == nil {
		for it.Next() {
			walkLeaves(it.Value(), fn)
		}
		return
	}
	if it, err := v.List(); err == nil {
		for it.Next() {
			walkLeaves(it.Value(), fn)
		}
		return
	}
	fn(v)
}

// group is the CUE errors reported for one path.
type group struct {
	path []string
	errs []errors.Error
}

// FromCUE turns CUE errors into diagnostics: one per CUE path, in words, at
// the position the user wrote.
func FromCUE(pkg *Package, errs []errors.Error) diag.Diagnostics {
	items := make([]item, len(errs))
	for i, e := range errs {
		items[i] = item{trimSpec(e.Path()), e}
	}
	return fromItems(pkg, items)
}

func fromItems(pkg *Package, items []item) diag.Diagnostics {
	var groups []*group
	byPath := map[string]*group{}
	for _, it := range items {
		path, e := it.path, it.err
		key := strings.Join(path, "\x00")
		g := byPath[key]
		if g == nil {
			g = &group{path: path}
			byPath[key] = g
			groups = append(groups, g)
		}
		g.errs = append(g.errs, e)
	}
	var ds diag.Diagnostics
	for _, g := range groups {
		ds = append(ds, diag.Diagnostic{
			Severity: diag.Error,
			Pos:      pkg.position(g),
			Path:     diag.JoinPath(g.path),
			Rule:     RuleSchema,
			Message:  pkg.message(g),
		})
	}
	return ds.Sort()
}

func trimSpec(p []string) []string {
	if len(p) > 0 && p[0] == "#Spec" {
		return p[1:]
	}
	return p
}

// position picks the first position in the user's files among the errors'
// positions, else the nearest ancestor the user wrote.
func (p *Package) position(g *group) diag.Pos {
	for _, e := range g.errs {
		for _, pos := range errors.Positions(e) {
			if p.IsUserFile(pos.Filename()) {
				return toPos(pos)
			}
		}
	}
	if pos, _ := p.Positions.Lookup(g.path); pos.IsValid() {
		return pos
	}
	for _, e := range g.errs {
		if pos := e.Position(); pos.IsValid() {
			return toPos(pos)
		}
	}
	return diag.Pos{}
}

var (
	mismatchRE = regexp.MustCompile(`^conflicting values %s and %s \(mismatched types %s and %s\)$`)
	conflictRE = regexp.MustCompile(`^conflicting values %s and %s$`)
)

// message words the group's errors for a person who writes specs, not CUE.
func (p *Package) message(g *group) string {
	var (
		notAllowed, incomplete bool
		incompleteWant         string
		bounds, patterns       []string
		found                  string
		types                  []string
		values                 [][2]string
		other                  []string
	)
	for _, e := range g.errs {
		format, args := e.Msg()
		str := func(i int) string {
			if i < len(args) {
				return fmt.Sprint(args[i])
			}
			return ""
		}
		switch {
		case format == "field not allowed":
			notAllowed = true
		case strings.HasPrefix(format, "incomplete value") || strings.HasPrefix(format, "non-concrete value"):
			incomplete = true
			incompleteWant = str(0)
		case strings.HasSuffix(format, "errors in empty disjunction:"):
			// The individual conflicts follow as errors of their own.
		case format == "invalid value %v (out of bound %s)":
			found = str(0)
			bounds = append(bounds, str(1))
		case strings.HasPrefix(format, "invalid value %v (does not match"):
			found = str(0)
			patterns = append(patterns, str(1))
		case mismatchRE.MatchString(format):
			// One side is the user's value; the other the schema's type.
			a, b, ta, tb := str(0), str(1), str(2), str(3)
			if p.isUserValue(e, a) {
				found, types = a, append(types, tb)
			} else {
				found, types = b, append(types, ta)
			}
		case conflictRE.MatchString(format):
			values = append(values, [2]string{str(0), str(1)})
		default:
			other = append(other, fmt.Sprintf(format, args...))
		}
	}
	label := ""
	if len(g.path) > 0 {
		label = g.path[len(g.path)-1]
	}
	switch {
	case notAllowed:
		return p.unknownField(g.path)
	case len(bounds) > 0:
		slices.Sort(bounds)
		return fmt.Sprintf("%s is out of range: must be %s", found, strings.Join(slices.Compact(bounds), " and "))
	case len(patterns) > 0:
		return fmt.Sprintf("%s is not valid here: %s", found, describeType(patterns[0]))
	case len(types) > 0:
		slices.Sort(types)
		return fmt.Sprintf("expected %s, found %s", joinOr(mapSlice(slices.Compact(types), article)), found)
	case len(values) > 0:
		return conflictMessage(values)
	case incomplete:
		return fmt.Sprintf("missing required field %q: expected %s", label, describeType(incompleteWant))
	case len(other) > 0:
		return strings.Join(slices.Compact(other), "; ")
	}
	return g.errs[0].Error()
}

// isUserValue reports whether the printed value s comes from the user's
// files, by checking that the first position of e lies in them.
func (p *Package) isUserValue(e errors.Error, s string) bool {
	pos := errors.Positions(e)
	if len(pos) == 0 || !p.IsUserFile(pos[0].Filename()) {
		return !strings.HasPrefix(s, "\"") && !isTypeWord(s)
	}
	// The user's literal is the concrete side; the schema side is a type or
	// a default.
	return !isTypeWord(s)
}

func isTypeWord(s string) bool {
	switch s {
	case "string", "int", "float", "number", "bool", "bytes", "null", "struct", "list", "_":
		return true
	}
	return false
}

// conflictMessage words a set of "conflicting values a and b" pairs: the
// value common to all pairs is what the user wrote; the others are what the
// schema allows.
func conflictMessage(pairs [][2]string) string {
	count := map[string]int{}
	for _, pr := range pairs {
		count[pr[0]]++
		if pr[1] != pr[0] {
			count[pr[1]]++
		}
	}
	found := ""
	if len(pairs) > 1 {
		for v, n := range count {
			if n == len(pairs) {
				found = v
			}
		}
	}
	if found == "" {
		// One conflict: a fixed value (such as a name set from its key) or
		// a default. The second is the user's, as CUE orders them.
		return fmt.Sprintf("must be %s, found %s", pairs[0][0], pairs[0][1])
	}
	var allowed []string
	for v := range count {
		if v != found {
			allowed = append(allowed, v)
		}
	}
	slices.Sort(allowed)
	msg := fmt.Sprintf("%s is not allowed: must be one of %s", found, strings.Join(allowed, ", "))
	if s := suggest.Nearest(strings.Trim(found, `"`), mapSlice(allowed, func(s string) string { return strings.Trim(s, `"`) })); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return msg
}

// mapFields are the fields whose keys are names chosen by the user.
var mapFields = map[string]bool{
	"pipelines": true, "datasets": true, "gates": true, "environments": true,
	"steps": true, "alerts": true,
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

// unknownField words a "field not allowed" error, suggesting the nearest
// allowed field name.
func (p *Package) unknownField(path []string) string {
	if len(path) == 0 {
		return "field not allowed"
	}
	label := path[len(path)-1]
	parent := path[:len(path)-1]
	if len(parent) > 0 && mapFields[parent[len(parent)-1]] && !nameRE.MatchString(label) {
		return fmt.Sprintf("%q is not a valid name: use lower-case letters, digits and dashes, starting with a letter (at most 63)", label)
	}
	if len(parent) == 0 {
		return fmt.Sprintf("unknown top-level field %q: a spec declares pipelines (pipelines: NAME: {...})", label)
	}
	candidates := slices.DeleteFunc(p.allowedFields(parent), func(s string) bool { return s == label })
	msg := fmt.Sprintf("unknown field %q", label)
	if s := suggest.Nearest(label, candidates); s != "" {
		return msg + fmt.Sprintf(" (did you mean %q?)", s)
	}
	if len(candidates) > 0 && len(candidates) <= 12 {
		return msg + "; allowed: " + strings.Join(candidates, ", ")
	}
	return msg
}

// allowedFields lists the fields the schema allows at path, regular and
// optional, as they appear in the unified value.
func (p *Package) allowedFields(path []string) []string {
	sels := make([]cue.Selector, len(path))
	for i, l := range path {
		sels[i] = cue.Str(l)
		if diag.IsIndex(l) {
			var n int
			fmt.Sscan(l, &n)
			sels[i] = cue.Index(n)
		}
	}
	v := p.Value.LookupPath(cue.MakePath(sels...))
	it, err := v.Fields(cue.Optional(true))
	if err != nil {
		return nil
	}
	var names []string
	for it.Next() {
		names = append(names, it.Selector().Unquoted())
	}
	slices.Sort(names)
	return names
}

// describeType words a CUE constraint.
func describeType(c string) string {
	c = strings.TrimSpace(c)
	switch {
	case c == `!=""` || c == `string & !=""`:
		return "a non-empty string"
	case strings.Contains(c, `=~"^[a-z][a-z0-9-]{0,62}$"`):
		return "a name of lower-case letters, digits and dashes, starting with a letter"
	case strings.Contains(c, `=~"^[A-Za-z_][A-Za-z0-9_.-]*$"`):
		return "a secret name (letters, digits, _ . -)"
	case strings.Contains(c, `=~"^[a-f0-9]{64}$"`):
		return "a sha256 digest of 64 lower-case hex digits"
	case strings.Contains(c, `" | "`) || strings.HasPrefix(c, `"`):
		return "one of " + strings.ReplaceAll(strings.ReplaceAll(c, "*", ""), " | ", ", ")
	case isTypeWord(c):
		return article(c)
	case strings.HasSuffix(c, "& int") || strings.HasPrefix(c, "int &") || c == "uint" || strings.HasPrefix(c, "uint"):
		return "an integer (" + c + ")"
	case strings.HasPrefix(c, ">") || strings.HasPrefix(c, "<"):
		return "a number (" + c + ")"
	case strings.HasPrefix(c, "=~"):
		return "a string matching " + strings.TrimPrefix(c, "=~")
	}
	return c
}

func article(t string) string {
	switch t {
	case "int":
		return "an integer"
	case "float", "number":
		return "a number"
	case "bool":
		return "true or false"
	case "string":
		return "a string"
	case "struct":
		return "a struct"
	case "list":
		return "a list"
	}
	return t
}

func joinOr(s []string) string {
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

func mapSlice(s []string, f func(string) string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = f(v)
	}
	return out
}
