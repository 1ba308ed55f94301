package plan

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// finish settles a pipeline's action, effects and summary once its parts
// are known.
func finish(pl *Pipeline) {
	set := map[Effect]bool{}
	if pl.Action == Delete {
		set[Remove] = true
	} else {
		for _, c := range pl.Changes {
			set[c.Effect] = true
		}
		for _, st := range pl.Steps {
			set[st.Effect] = true
		}
		for _, g := range pl.Gates {
			if g.Action != NoOp {
				set[Gate] = true
			}
		}
		if pl.Action == Create {
			// A new pipeline trains and deploys; its gates, settings and
			// custom steps are all new, which says nothing more.
			delete(set, Gate)
			delete(set, Config)
			delete(set, Rerun)
		}
	}
	for _, d := range pl.Diagnostics {
		if d.Status != StatusUnchanged {
			set[Policy] = true
		}
	}
	for e := range set {
		pl.Effects = append(pl.Effects, e)
	}
	slices.SortFunc(pl.Effects, compareEffects)
	if pl.Action == "" {
		pl.Action = NoOp
		if len(pl.Effects) > 0 {
			pl.Action = Update
		}
	}
	if len(pl.Effects) == 0 {
		pl.Effects = []Effect{None}
	}
	pl.Summary = summarize(pl)
}

func (pl *Pipeline) has(e Effect) bool { return slices.Contains(pl.Effects, e) }

// maxPhrases is how many changes one clause of a summary names.
const maxPhrases = 3

func list(phrases []string) string {
	if len(phrases) > maxPhrases {
		return strings.Join(phrases[:maxPhrases], ", ") + fmt.Sprintf(" and %d more", len(phrases)-maxPhrases)
	}
	return strings.Join(phrases, ", ")
}

func andList(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// summarize writes the pipeline's one line.
func summarize(pl *Pipeline) string {
	var envs []string
	for _, e := range pl.Environments {
		if e.Action != Delete {
			envs = append(envs, e.Name)
		}
	}
	switch pl.Action {
	case Create:
		s := "new pipeline, will train"
		if len(envs) > 0 {
			s += " and deploy to " + andList(envs)
		}
		if policy := policyClause(pl); policy != "" {
			s += "; " + policy
		}
		return s
	case Delete:
		return "pipeline removed"
	case NoOp:
		return "no changes"
	}

	byEffect := func(e Effect) []string {
		var out []string
		for _, c := range pl.Changes {
			if c.Effect == e {
				out = append(out, c.Phrase())
			}
		}
		return out
	}
	var clauses []string
	retrain := pl.has(Retrain)
	if retrain {
		phrases := byEffect(Retrain)
		for _, r := range pl.Retrain {
			if r.Kind != ReasonParam {
				phrases = append(phrases, r.Phrase())
			}
		}
		clauses = append(clauses, join(list(phrases), "will retrain"))
	}
	var redeploy []string
	for _, e := range pl.Environments {
		if e.Redeploy {
			redeploy = append(redeploy, e.Name)
		}
	}
	if phrases := byEffect(Redeploy); len(phrases) > 0 || len(redeploy) > 0 {
		what := ""
		if len(redeploy) > 0 {
			what = "will redeploy " + andList(redeploy)
			if len(phrases) == 0 && retrain {
				what += " with the new model"
			}
		}
		clauses = append(clauses, join(list(phrases), what))
	}
	var gates, kept []string
	for _, g := range pl.Gates {
		switch g.Action {
		case Create:
			gates = append(gates, "new gate "+g.Name+": "+g.New)
		case Delete:
			gates = append(gates, "gate "+g.Name+" removed")
		case Update:
			gates = append(gates, "gate "+g.Name+": "+g.Old+" → "+g.New)
		default:
			kept = append(kept, g.Name)
		}
	}
	if len(gates) > 0 {
		clauses = append(clauses, list(gates))
	} else if retrain && len(kept) > 0 {
		clauses = append(clauses, "gates unchanged ("+strings.Join(kept, ", ")+")")
	}
	if phrases := byEffect(Schedule); len(phrases) > 0 {
		clauses = append(clauses, list(phrases))
	} else if pl.has(Schedule) {
		clauses = append(clauses, "retraining triggers change")
	}
	if phrases := byEffect(Rerun); len(phrases) > 0 || pl.has(Rerun) {
		clauses = append(clauses, join(list(phrases), "will run custom steps"))
	}
	if phrases := byEffect(Config); len(phrases) > 0 || pl.has(Config) {
		what := ""
		if len(clauses) == 0 {
			what = "configuration only"
		}
		if len(phrases) == 0 {
			phrases = []string{"step settings change"}
		}
		clauses = append(clauses, join(list(phrases), what))
	}
	if policy := policyClause(pl); policy != "" {
		clauses = append(clauses, policy)
	}
	return strings.Join(clauses, "; ")
}

func join(phrases, what string) string {
	switch {
	case phrases == "":
		return what
	case what == "":
		return phrases
	}
	return phrases + ", " + what
}

// policyClause counts the policy findings that appear and go away.
func policyClause(pl *Pipeline) string {
	var errs, warns, resolved int
	for _, d := range pl.Diagnostics {
		switch {
		case d.Status == StatusResolved:
			resolved++
		case d.Status == StatusNew && d.Severity == "error":
			errs++
		case d.Status == StatusNew:
			warns++
		}
	}
	var parts []string
	if errs > 0 {
		parts = append(parts, plural(errs, "new policy error", "new policy errors"))
	}
	if warns > 0 {
		parts = append(parts, plural(warns, "new policy warning", "new policy warnings"))
	}
	if resolved > 0 {
		parts = append(parts, plural(resolved, "policy finding resolved", "policy findings resolved"))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// Phrase words the change for people: "learning rate 0.1 → 0.05",
// "production canary step 1 weight 10% → 25%", "label team added".
func (c *Change) Phrase() string {
	return phrase(label(parsePath(c.Path)), c.Action, c.Old, c.New, percent(parsePath(c.Path)))
}

// Phrase words the reason for people.
func (r *Reason) Phrase() string { return reasonPhrase(r) }

func reasonPhrase(r *Reason) string {
	switch r.Kind {
	case ReasonNew:
		return "new step " + r.Step
	case ReasonVersion:
		return fmt.Sprintf("Slipway %s → %s", Format(r.Old), Format(r.New))
	case ReasonParam:
		p := parsePath(r.Path)
		return r.Step + ": " + phrase(words(p), actionOf(r.Old, r.New), r.Old, r.New, percent(p))
	}
	if r.From == "" {
		step := r.Step[strings.LastIndex(r.Step, "/")+1:]
		if ds, ok := strings.CutPrefix(step, "fetch-"); ok && r.Path == "source" {
			return "data of dataset " + ds + " changed (" + Short(r.Old) + " → " + Short(r.New) + ")"
		}
		return r.Step + " input " + r.Path + " " + Short(r.Old) + " → " + Short(r.New)
	}
	switch {
	case r.Old == nil:
		return r.Step + " reads a new input " + r.Path + " from " + r.From
	case r.New == nil:
		return r.Step + " no longer reads " + r.Path
	}
	return r.Step + " input " + r.Path + " changes (" + r.From + " runs again)"
}

func actionOf(old, new any) Action {
	switch {
	case old == nil:
		return Create
	case new == nil:
		return Delete
	}
	return Update
}

func phrase(lbl string, a Action, old, new any, pct bool) string {
	switch a {
	case Create:
		if isScalar(new) || utf8.RuneCountInString(Format(new)) <= maxValue {
			return lbl + " " + short(new, pct) + " added"
		}
		return lbl + " added"
	case Delete:
		return lbl + " removed"
	}
	return lbl + " " + short(old, pct) + " → " + short(new, pct)
}

func isScalar(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return false
	}
	return true
}

// percent reports whether the value at p is a percentage.
func percent(p path) bool {
	ks := p.keys()
	if len(ks) == 0 {
		return false
	}
	last := ks[len(ks)-1]
	return strings.HasSuffix(last, "Percent") || (last == "weight" && slices.Contains(ks, "rollout"))
}

// maxValue is how many characters of a value a phrase shows.
const maxValue = 40

func short(v any, pct bool) string {
	s := Short(v)
	if _, ok := v.(json.Number); ok && pct {
		s += "%"
	}
	return s
}

// Short formats a value like Format, cut to 40 characters; a cut string
// keeps its quotes.
func Short(v any) string {
	s := Format(v)
	if utf8.RuneCountInString(s) <= maxValue {
		return s
	}
	if str, ok := v.(string); ok {
		r := []rune(str)
		for n := min(len(r), maxValue-3); n > 0; n-- {
			if q := strconv.Quote(strings.TrimRight(string(r[:n]), " ") + "…"); utf8.RuneCountInString(q) <= maxValue {
				return q
			}
		}
	}
	return string([]rune(s)[:maxValue-1]) + "…"
}

// Format writes a plain JSON value for people: strings quoted, numbers and
// booleans as they are, objects and lists as compact JSON with sorted keys,
// an absent value as (none).
func Format(v any) string {
	switch x := v.(type) {
	case nil:
		return "(none)"
	case string:
		return strconv.Quote(x)
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}

// label words a path of a pipeline's spec.
func label(p path) string {
	ks := p.keys()
	if len(ks) == 0 {
		return "the pipeline"
	}
	if len(p) == 1 {
		return words(p)
	}
	name := func() string { return p[1].key }
	rest := func(from int) path {
		if from < len(p) {
			return p[from:]
		}
		return nil
	}
	switch p[0].key {
	case "training":
		r := rest(1)
		if len(r) > 1 && slices.Contains([]string{"logistic", "gbdt", "mlp", "custom"}, r[0].key) {
			r = r[1:]
		}
		return words(r)
	case "deploy":
		if len(p) > 2 && p[1].key == "environments" {
			return strings.TrimSpace(p[2].key + " " + envWords(rest(3)))
		}
		return "deploy " + words(rest(1))
	case "gates":
		return strings.TrimSpace("gate " + name() + " " + words(rest(2)))
	case "datasets":
		r := rest(2)
		s := "dataset " + name()
		if len(r) > 1 && r[0].key == "columns" {
			s += " column " + r[1].key
			r = r[2:]
		}
		return strings.TrimSpace(s + " " + words(r))
	case "labels":
		return "label " + name()
	case "features":
		r := rest(1)
		if len(r) > 1 && r[0].key == "transforms" {
			return strings.TrimSpace("transforms of " + r[1].key + " " + words(r[2:]))
		}
		return strings.TrimSpace("features " + words(r))
	case "monitoring":
		return words(rest(1))
	case "triggers":
		switch name() {
		case "schedule":
			return "retraining schedule"
		case "onDrift":
			return "retrain on drift"
		case "onNewData":
			return "retrain on new data"
		}
	case "steps":
		return strings.TrimSpace("step " + name() + " " + words(rest(2)))
	}
	return words(p)
}

// envWords words a path inside a deployment environment.
func envWords(p path) string {
	if len(p) == 4 && p[0].key == "rollout" && p[1].key == "steps" && p[2].index >= 0 && p[3].key == "weight" {
		return "canary step " + strconv.Itoa(p[2].index+1) + " weight"
	}
	return words(p)
}

// words joins a path's parts as words: camelCase split, list positions
// counted from 1.
func words(p path) string {
	var out []string
	for _, s := range p {
		if s.index >= 0 {
			out = append(out, strconv.Itoa(s.index+1))
			continue
		}
		out = append(out, humanize(s.key))
	}
	return strings.Join(out, " ")
}

// humanize splits a camelCase name into lower-case words, keeping
// acronyms: learningRate → learning rate, targetCPUPercent → target CPU
// percent. Other names are kept as they are.
func humanize(s string) string {
	if !isIdent(s) {
		return s
	}
	rs := []rune(s)
	var parts []string
	start := 0
	for i := 1; i < len(rs); i++ {
		prev, cur := rs[i-1], rs[i]
		next := rune(0)
		if i+1 < len(rs) {
			next = rs[i+1]
		}
		if unicode.IsUpper(cur) && (unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && unicode.IsLower(next))) {
			parts = append(parts, string(rs[start:i]))
			start = i
		}
	}
	parts = append(parts, string(rs[start:]))
	for i, w := range parts {
		r := []rune(w)
		if len(r) > 1 && unicode.IsUpper(r[0]) && !unicode.IsUpper(r[1]) && !unicode.IsDigit(r[1]) {
			parts[i] = strings.ToLower(w)
		}
	}
	return strings.Join(parts, " ")
}

// parsePath reads a path written by path.String. Text it cannot read
// becomes a single key.
func parsePath(s string) path {
	var p path
	i := 0
	for i < len(s) {
		switch {
		case s[i] == '.':
			i++
		case s[i] == '[':
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return path{key(s)}
			}
			n, err := strconv.Atoi(s[i+1 : i+j])
			if err != nil {
				return path{key(s)}
			}
			p = append(p, seg{index: n})
			i += j + 1
		case s[i] == '"':
			q, err := strconv.QuotedPrefix(s[i:])
			if err != nil {
				return path{key(s)}
			}
			k, _ := strconv.Unquote(q)
			p = append(p, key(k))
			i += len(q)
		default:
			j := i
			for j < len(s) && s[j] != '.' && s[j] != '[' {
				j++
			}
			p = append(p, key(s[i:j]))
			i = j
		}
	}
	return p
}
