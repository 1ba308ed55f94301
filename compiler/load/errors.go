package load

import (
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/errors"
	cueload "cuelang.org/go/cue/load"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"

	"github.com/slipway-ml/slipway/compiler/diag"
	"github.com/slipway-ml/slipway/compiler/internal/suggest"
)

// Rule names of the diagnostics this package reports.
const (
	// RuleSchema is the rule name of diagnostics found by the schema.
	RuleSchema = "schema"
	// RuleSyntax is the rule name of text that is not CUE.
	RuleSyntax = "syntax"
	// RuleLoad is the rule name of files that do not make one package.
	RuleLoad = "load"
)

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
		items = append(items, item{errPath(e), e})
	}
	walkLeaves(pkg.Value, func(v cue.Value) {
		if err := v.Validate(cue.Concrete(true), cue.Final()); err != nil {
			// The leaf's own path, unless the error names a path below it:
			// an error inside a list element of a definition type is
			// reported at the definition's path, and an error in a field of
			// a struct that is itself in error at the field's.
			path := selectorsOf(v.Path())
			for _, e := range errors.Errors(err) {
				p := path
				if ep := errPath(e); len(ep) > len(path) && slices.Equal(ep[:len(path)], path) {
					p = ep
				}
				items = append(items, item{p, e})
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
	// list reports that path was shortened to a list the user left out.
	list bool
}

// FromCUE turns CUE errors into diagnostics: one per CUE path, in words, at
// the position the user wrote. Files that do not parse, imports and files
// of another package are reported one by one.
func FromCUE(pkg *Package, errs []errors.Error) diag.Diagnostics {
	var ds diag.Diagnostics
	var items []item
	for _, e := range errs {
		if d, ok := pkg.loadError(e); ok {
			ds = append(ds, d)
			continue
		}
		items = append(items, item{errPath(e), e})
	}
	return append(ds, fromItems(pkg, items)...).Sort()
}

// loadError words an error that stops CUE from reading the package: a file
// that is not CUE, an import, or files of two packages.
func (p *Package) loadError(e errors.Error) (diag.Diagnostic, bool) {
	d := diag.Diagnostic{Severity: diag.Error, Rule: RuleLoad}
	var mpe *cueload.MultiplePackageError
	var pe *cueload.PackageError
	switch {
	case errors.As(e, &mpe) && len(mpe.Files) >= 2 && len(mpe.Packages) >= 2:
		file := filepath.Join(mpe.Dir, mpe.Files[0])
		d.Pos = diag.Pos{File: file}
		if pos, ok := p.Positions.packageClause(file); ok {
			d.Pos = pos
		}
		d.Message = fmt.Sprintf("package %q, but %s is package %q: the .cue files of a pipeline directory must all belong to one package", mpe.Packages[0], mpe.Files[1], mpe.Packages[1])
	case errors.As(e, &pe) && !pe.IsImportCycle:
		d.Pos = toPos(e.Position())
		what := "this package"
		if path, ok := p.Positions.importAt(d.Pos); ok {
			what = strconv.Quote(path)
		}
		d.Message = fmt.Sprintf("cannot import %s: a pipeline package stands alone and is loaded without network access, so it can import only CUE's standard library (such as \"list\", \"strings\" or \"math\")", what)
	case isSyntaxError(e):
		d.Rule = RuleSyntax
		d.Pos = toPos(e.Position())
		d.Message = syntaxMessage(e.Msg())
	case isUnknownBuiltin(e):
		_, args := e.Msg()
		d.Pos = toPos(e.Position())
		d.Message = fmt.Sprintf("CUE's standard library has no package %q", fmt.Sprint(args...))
	default:
		return d, false
	}
	return d, true
}

// syntaxMessage words a parser error: the token the parser found rather
// than its kind, and what a field looks like when a ':' was expected.
func syntaxMessage(format string, args []any) string {
	arg := func(i int) string {
		if i < len(args) {
			return fmt.Sprint(args[i])
		}
		return ""
	}
	var msg string
	switch format {
	case "expected %s, found '%s'":
		if arg(1) == "EOF" {
			return fmt.Sprintf("the file ends too soon: expected %s (a { or [ is not closed)", arg(0))
		}
		msg = fmt.Sprintf("expected %s, found '%s'", arg(0), arg(1))
	case "expected %s, found '%s' %s":
		// The token's kind, then its text: 'STRING' "churn".
		msg = fmt.Sprintf("expected %s, found %s", arg(0), arg(2))
	default:
		msg = fmt.Sprintf(format, args...)
	}
	if strings.HasPrefix(format, "expected %s") && strings.Contains(arg(0), "':'") {
		msg += " (a field is written name: value)"
	}
	return "not valid CUE: " + msg
}

// isUnknownBuiltin reports an import of a standard library package that
// does not exist.
func isUnknownBuiltin(e errors.Error) bool {
	format, _ := e.Msg()
	return format == "builtin package %q undefined"
}

// isSyntaxError reports whether e comes from CUE's parser: an error with a
// position and no path, created by errors.Newf.
func isSyntaxError(e errors.Error) bool {
	return reflect.TypeOf(e) == posErrorType && len(e.Path()) == 0 && e.Position().IsValid()
}

var posErrorType = reflect.TypeOf(errors.Newf(token.NoPos, ""))

func fromItems(pkg *Package, items []item) diag.Diagnostics {
	var groups []*group
	byPath := map[string]*group{}
	seen := map[string]bool{}
	for _, it := range items {
		path, e := pkg.missingList(it.path, it.err), it.err
		shortened := len(path) < len(it.path)
		key := strings.Join(path, "\x00")
		if id := key + "\x00" + e.Error() + fmt.Sprint(errors.Positions(e)); seen[id] {
			continue
		} else {
			seen[id] = true
		}
		g := byPath[key]
		if g == nil {
			g = &group{path: path}
			byPath[key] = g
			groups = append(groups, g)
		}
		g.errs = append(g.errs, e)
		g.list = g.list || shortened
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

// missingList shortens the path of an incomplete value inside a list the
// user did not write (or wrote with too few elements) to the list itself:
// the first element of values: [string, ...string] is missing because the
// list is.
func (p *Package) missingList(path []string, e errors.Error) []string {
	if format, _ := e.Msg(); !strings.HasPrefix(format, "incomplete value") {
		return path
	}
	for i, l := range path {
		if i > 0 && diag.IsIndex(l) {
			if _, found := p.Positions.Lookup(path[:i+1]); !found {
				return path[:i]
			}
		}
	}
	return path
}

// errPath is the path of a CUE error with #Spec dropped and quoted labels
// unquoted, the form the rest of the package uses.
func errPath(e errors.Error) []string {
	p := trimSpec(e.Path())
	out := make([]string, len(p))
	for i, l := range p {
		out[i] = l
		if strings.HasPrefix(l, `"`) {
			if u, err := strconv.Unquote(l); err == nil {
				out[i] = u
			}
		}
	}
	return out
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
		types, defaultTypes    []string
		values                 [][2]string
		other                  []string
		emptyList              bool
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
		case format == "invalid value %v (out of bound %s)" && (strings.HasPrefix(str(1), "=~") || strings.HasPrefix(str(1), "!~")):
			// A pattern is a bound too, for CUE.
			found = str(0)
			patterns = append(patterns, str(1))
		case format == "invalid value %v (out of bound %s)":
			found = str(0)
			bounds = append(bounds, str(1))
		case format == "incompatible integer bounds %v and %v":
			// An integer cannot lie between the bounds of a fraction, such
			// as test: 20 for >0 & <1; the value is in another error.
			bounds = append(bounds, str(0), str(1))
		case strings.HasPrefix(format, "invalid value %v (does not match"):
			found = str(0)
			patterns = append(patterns, str(1))
		case format == "incompatible list lengths (%d and %d)" && str(0) == "0":
			emptyList = true
		case mismatchRE.MatchString(format):
			// One side is the user's value; the other the schema's type, or
			// the default of a disjunction (which says little on its own).
			a, b, ta, tb := str(0), str(1), str(2), str(3)
			if !p.isUserValue(e, a) {
				a, b, ta, tb = b, a, tb, ta
			}
			found = a
			if isTypeWord(b) {
				types = append(types, tb)
			} else {
				defaultTypes = append(defaultTypes, tb)
			}
		case conflictRE.MatchString(format):
			values = append(values, [2]string{str(0), str(1)})
		case format == "reference %q not found":
			other = append(other, fmt.Sprintf("reference %q not found: a bare word names another field; write %q in quotes for a string", str(0), str(0)))
		case format == "imported and not used: %s":
			other = append(other, fmt.Sprintf("%s is imported and not used", str(0)))
		default:
			other = append(other, fmt.Sprintf(format, args...))
		}
	}
	label := ""
	if len(g.path) > 0 {
		label = g.path[len(g.path)-1]
	}
	if len(types) == 0 && len(bounds) == 0 {
		types = defaultTypes
	}
	switch {
	case notAllowed:
		return p.unknownField(g.path)
	case len(bounds) > 0:
		if found == "" {
			return fmt.Sprintf("out of range: must be %s", joinBounds(bounds))
		}
		return fmt.Sprintf("%s is out of range: must be %s", found, joinBounds(bounds))
	case len(patterns) > 0:
		return fmt.Sprintf("%s is not %s", found, describeType(patterns[0]))
	case len(types) > 0:
		slices.Sort(types)
		types = slices.Compact(types)
		if len(types) == 1 && types[0] == "string" {
			switch {
			case durationFields[label]:
				return fmt.Sprintf("expected a duration string such as \"90s\", \"15m\" or \"2h30m\", found %s", found)
			case quantityFields[label]:
				return fmt.Sprintf("expected a quantity string such as \"500m\", \"2\" or \"4Gi\", found %s", found)
			}
		}
		return fmt.Sprintf("expected %s, found %s", joinOr(mapSlice(types, article)), found)
	case len(values) > 0:
		if msg, ok := p.setTwice(g, values); ok {
			return msg
		}
		return conflictMessage(values, p.enumAt(g.path))
	case emptyList:
		if h := missingHint(g.path); h != "" {
			return "the list is empty: " + h
		}
		return "the list is empty: at least one element is required"
	case incomplete:
		want := describeType(incompleteWant)
		if g.list {
			want = "expected a non-empty list"
		}
		if h := missingHint(g.path); h != "" {
			want = h
		}
		return fmt.Sprintf("missing required field %q: %s", label, want)
	case len(other) > 0:
		return strings.Join(slices.Compact(other), "; ")
	}
	return g.errs[0].Error()
}

// durationFields and quantityFields are the fields whose schema type is
// #Duration or #Quantity: strings, though they read like numbers.
var (
	durationFields = map[string]bool{"timeout": true, "pause": true, "window": true, "initialDelay": true, "duration": true, "latencyP95": true, "for": true}
	quantityFields = map[string]bool{"cpu": true, "memory": true}
)

// missingHints say what a required field holds, by its label or by its
// parent's and its own ("gpu.type").
var missingHints = map[string]string{
	"values":      `a category column lists its categories, e.g. values: ["no", "yes"]`,
	"group":       "a fairness metric compares groups: name the column that defines them",
	"keySecret":   "pseudonymizing needs the name of the secret that holds the HMAC key",
	"label":       "name the column the model predicts",
	"dataset":     "name the dataset the features come from",
	"steps":       "a canary rollout lists its traffic steps, e.g. steps: [{weight: 10}, {weight: 100}]",
	"gpu.type":    `a GPU request names the GPU model, e.g. type: "nvidia-h100"`,
	"gpu.count":   "a GPU request says how many GPUs, e.g. count: 1",
	"command":     `the command to run, e.g. command: ["python", "train.py"]`,
	"boundaries":  "bucketize needs its bucket edges, e.g. boundaries: [10, 100, 1000]",
	"maxReplicas": "autoscaling needs the most pods to scale to",
	"source":      `where the data comes from, e.g. source: "data/customers.csv"`,
	"repository":  `the OCI repository to publish to, e.g. repository: "ghcr.io/acme/models/churn"`,
}

func missingHint(path []string) string {
	if len(path) == 0 {
		return ""
	}
	if len(path) >= 2 {
		if h, ok := missingHints[path[len(path)-2]+"."+path[len(path)-1]]; ok {
			return h
		}
	}
	return missingHints[path[len(path)-1]]
}

// joinBounds joins bounds lower first: ">0 and <1".
func joinBounds(bounds []string) string {
	rank := func(b string) int {
		switch {
		case strings.HasPrefix(b, ">"):
			return 0
		case strings.HasPrefix(b, "<"):
			return 1
		}
		return 2
	}
	slices.SortFunc(bounds, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	return strings.Join(slices.Compact(bounds), " and ")
}

// setTwice words a conflict between two values the user wrote in two
// places, which CUE unifies rather than overriding one by the other.
func (p *Package) setTwice(g *group, values [][2]string) (string, bool) {
	if len(values) != 1 {
		return "", false
	}
	for _, e := range g.errs {
		var user []diag.Pos
		for _, pos := range errors.Positions(e) {
			if p.IsUserFile(pos.Filename()) {
				user = append(user, toPos(pos))
			}
		}
		if len(user) < 2 {
			continue
		}
		vs := []string{values[0][0], values[0][1]}
		slices.Sort(vs)
		return fmt.Sprintf("set to both %s and %s, here and at %s: a field holds one value, so keep only one of them", vs[0], vs[1], user[1].Rel(p.Dir)), true
	}
	return "", false
}

// enumAt returns the values the schema allows at path when it allows a
// fixed set of them (such as training.model), else nil.
func (p *Package) enumAt(path []string) []string {
	if !p.Value.Exists() || len(path) == 0 {
		return nil
	}
	v := p.Value.LookupPath(cue.MakePath(selectors(path)...))
	op, args := v.Expr()
	if op != cue.AndOp {
		args = []cue.Value{v}
	}
	for _, a := range args {
		if op, _ := a.Expr(); op != cue.OrOp && op != cue.SelectorOp {
			continue
		}
		var out []string
		if collectEnum(a, &out) && len(out) > 1 {
			slices.Sort(out)
			return slices.Compact(out)
		}
	}
	return nil
}

// collectEnum appends the alternatives of a disjunction of literals to
// out, and reports whether every alternative was one. It reads the printed
// value, in which references (#RegressionMetric) are resolved.
func collectEnum(v cue.Value, out *[]string) bool {
	x, err := parser.ParseExpr("enum", fmt.Sprint(v))
	if err != nil {
		return false
	}
	var walk func(x ast.Expr) bool
	walk = func(x ast.Expr) bool {
		switch x := x.(type) {
		case *ast.BinaryExpr:
			return x.Op == token.OR && walk(x.X) && walk(x.Y)
		case *ast.UnaryExpr:
			// A default: *"median".
			return x.Op == token.MUL && walk(x.X)
		case *ast.ParenExpr:
			return walk(x.X)
		case *ast.BasicLit:
			*out = append(*out, x.Value)
			return true
		case *ast.Ident:
			if x.Name == "true" || x.Name == "false" {
				*out = append(*out, x.Name)
				return true
			}
		}
		return false
	}
	return walk(x)
}

// selectors turns a path of labels into CUE selectors; numeric labels are
// list indexes.
func selectors(path []string) []cue.Selector {
	sels := make([]cue.Selector, len(path))
	for i, l := range path {
		sels[i] = cue.Str(l)
		if diag.IsIndex(l) {
			n, _ := strconv.Atoi(l)
			sels[i] = cue.Index(n)
		}
	}
	return sels
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
// value common to all pairs is what the user wrote; the others, or the enum
// the schema declares where it is known, are what the schema allows.
func conflictMessage(pairs [][2]string, enum []string) string {
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
		if len(enum) > 0 && !slices.Contains(enum, pairs[0][1]) {
			found = pairs[0][1]
		} else {
			return fmt.Sprintf("must be %s, found %s", pairs[0][0], pairs[0][1])
		}
	}
	allowed := enum
	if len(allowed) == 0 {
		for v := range count {
			if v != found {
				allowed = append(allowed, v)
			}
		}
		slices.Sort(allowed)
	}
	msg := fmt.Sprintf("%s is not allowed: must be one of %s", found, strings.Join(allowed, ", "))
	if s := didYouMean(strings.Trim(found, `"`), mapSlice(allowed, func(s string) string { return strings.Trim(s, `"`) })); s != "" {
		msg += " (did you mean " + s + "?)"
	}
	return msg
}

// didYouMean returns the nearest candidate, quoted, or else up to three
// that contain s as a word ("auc" in "roc_auc" and "pr_auc"), or "".
func didYouMean(s string, candidates []string) string {
	if n := suggest.Nearest(s, candidates); n != "" {
		return strconv.Quote(n)
	}
	if len(s) < 2 {
		return ""
	}
	var hits []string
	for _, c := range candidates {
		words := strings.FieldsFunc(c, func(r rune) bool { return r == '_' || r == '-' })
		if c != s && slices.Contains(words, s) {
			hits = append(hits, strconv.Quote(c))
		}
	}
	if len(hits) == 0 || len(hits) > 3 {
		return ""
	}
	return joinOr(hits)
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
		if s := suggest.Nearest(label, []string{"pipelines"}); s != "" {
			return fmt.Sprintf("unknown top-level field %q (did you mean %q?)", label, s)
		}
		return fmt.Sprintf("unknown top-level field %q: a spec declares pipelines (pipelines: NAME: {...})", label)
	}
	// A name set from its key ("name" of a dataset) is not for the user to
	// write.
	keyed := len(parent) >= 2 && (mapFields[parent[len(parent)-2]] || parent[len(parent)-2] == "columns")
	candidates := slices.DeleteFunc(p.allowedFields(parent), func(s string) bool { return s == label || keyed && s == "name" })
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
	v := p.Value.LookupPath(cue.MakePath(selectors(path)...))
	it, err := v.Fields(cue.Optional(true))
	if err != nil {
		return nil
	}
	var names []string
	for it.Next() {
		if sel := it.Selector(); sel.LabelType() == cue.StringLabel {
			names = append(names, sel.Unquoted())
		}
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
	case strings.Contains(c, `(:[0-9]+)?(/[a-z0-9]+`):
		return `an OCI repository such as "ghcr.io/acme/models/churn" (lower case; no scheme, tag or digest)`
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
