package plan

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// seg is one step of a path: a key of an object (or the name of an element
// of a list of named things), or an index into a list.
type seg struct {
	key   string
	index int // >= 0 for a list index; -1 for a key
}

func key(k string) seg { return seg{key: k, index: -1} }

// path locates a value inside a JSON document.
type path []seg

// String writes the path as training.gbdt.learningRate,
// rollout.steps[0].weight or gates."intl-plan-parity".max.
func (p path) String() string {
	var b strings.Builder
	for i, s := range p {
		if s.index >= 0 {
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		if isIdent(s.key) {
			b.WriteString(s.key)
		} else {
			b.WriteString(strconv.Quote(s.key))
		}
	}
	return b.String()
}

// keys returns the path's keys, list indexes left out.
func (p path) keys() []string {
	var ks []string
	for _, s := range p {
		if s.index < 0 {
			ks = append(ks, s.key)
		}
	}
	return ks
}

func (p path) with(s seg) path { return append(slices.Clip(p), s) }

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || r == '$' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'):
		case i > 0 && r >= '0' && r <= '9':
		default:
			return false
		}
	}
	return true
}

// rawChange is a difference found by walking two documents.
type rawChange struct {
	path     path
	action   Action
	old, new any
}

// toJSON turns a Go value into plain JSON values: map[string]any, []any,
// json.Number, string, bool and nil.
func toJSON(v any) any {
	data, err := json.Marshal(v)
	if err != nil {
		return "(cannot encode: " + err.Error() + ")"
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return "(cannot decode: " + err.Error() + ")"
	}
	return out
}

// diffJSON appends the differences between a and b, plain JSON values at
// p. Objects are compared key by key; a list whose elements are all
// objects with distinct names is compared as a map keyed by name; a list
// of objects is compared index by index; any other list is one value.
func diffJSON(p path, a, b any, out *[]rawChange) {
	if reflect.DeepEqual(a, b) {
		return
	}
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			break
		}
		diffMaps(p, av, bv, out)
		return
	case []any:
		bv, ok := b.([]any)
		if !ok {
			break
		}
		if am, ok := named(av); ok {
			if bm, ok := named(bv); ok && len(av)+len(bv) > 0 {
				diffMaps(p, am, bm, out)
				return
			}
		}
		if allObjects(av) && allObjects(bv) && len(av) > 0 && len(bv) > 0 {
			for i := range max(len(av), len(bv)) {
				q := p.with(seg{index: i})
				switch {
				case i >= len(av):
					*out = append(*out, rawChange{path: q, action: Create, new: bv[i]})
				case i >= len(bv):
					*out = append(*out, rawChange{path: q, action: Delete, old: av[i]})
				default:
					diffJSON(q, av[i], bv[i], out)
				}
			}
			return
		}
	}
	*out = append(*out, rawChange{path: p, action: Update, old: a, new: b})
}

func diffMaps(p path, a, b map[string]any, out *[]rawChange) {
	ks := map[string]bool{}
	for k := range a {
		ks[k] = true
	}
	for k := range b {
		ks[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(ks)) {
		av, aok := a[k]
		bv, bok := b[k]
		q := p.with(key(k))
		switch {
		case !aok:
			*out = append(*out, rawChange{path: q, action: Create, new: bv})
		case !bok:
			*out = append(*out, rawChange{path: q, action: Delete, old: av})
		default:
			diffJSON(q, av, bv, out)
		}
	}
}

// named returns a list of objects with distinct, non-empty "name" fields
// as a map by name. An empty list is named.
func named(list []any) (map[string]any, bool) {
	m := make(map[string]any, len(list))
	for _, e := range list {
		o, ok := e.(map[string]any)
		if !ok {
			return nil, false
		}
		n, ok := o["name"].(string)
		if !ok || n == "" {
			return nil, false
		}
		if _, dup := m[n]; dup {
			return nil, false
		}
		m[n] = o
	}
	return m, true
}

func allObjects(list []any) bool {
	for _, e := range list {
		if _, ok := e.(map[string]any); !ok {
			return false
		}
	}
	return true
}
