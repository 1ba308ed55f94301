package local

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/slipway-ml/slipway/backends/output"
	"github.com/slipway-ml/slipway/compiler/canonical"
)

// record is what the last successful run of a step read: the runner
// compares it with the current step to say why the cache missed.
type record struct {
	Key     string            `json:"key"`
	Version string            `json:"version"`
	Params  json.RawMessage   `json:"params"`
	Inputs  map[string]string `json:"inputs"`
	RunID   string            `json:"runId"`
}

// index keeps one record per step id under cache/index.
type index struct {
	dir string
}

func (x index) path(stepID string) string {
	return filepath.Join(x.dir, filepath.FromSlash(stepID)+".json")
}

func (x index) load(stepID string) (*record, bool) {
	b, err := os.ReadFile(x.path(stepID))
	if err != nil {
		return nil, false
	}
	var r record
	if json.Unmarshal(b, &r) != nil {
		return nil, false
	}
	return &r, true
}

func (x index) save(stepID string, r *record) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	p := x.path(stepID)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return output.WriteFile(p, append(b, '\n'))
}

// newRecord describes a step about to run.
func newRecord(key, version string, params any, inputs map[string]string) (*record, error) {
	p, err := canonical.JSON(params)
	if err != nil {
		return nil, fmt.Errorf("encode params: %w", err)
	}
	return &record{Key: key, Version: version, Params: p, Inputs: inputs}, nil
}

// missReason says why cur is not in the cache, compared with the step's
// last successful run prev.
func missReason(prev, cur *record) string {
	if prev == nil {
		return "never run"
	}
	var why []string
	if prev.Version != cur.Version {
		why = append(why, fmt.Sprintf("Slipway version changed (%s → %s)", prev.Version, cur.Version))
	}
	if d := diffParams(prev.Params, cur.Params); len(d) > 0 {
		why = append(why, "parameters changed: "+strings.Join(d, ", "))
	}
	for _, name := range sortedKeys(cur.Inputs) {
		old, ok := prev.Inputs[name]
		switch {
		case !ok:
			why = append(why, fmt.Sprintf("new input %s", name))
		case old != cur.Inputs[name]:
			why = append(why, fmt.Sprintf("input %s changed (%s → %s)", name, short(old), short(cur.Inputs[name])))
		}
	}
	for _, name := range sortedKeys(prev.Inputs) {
		if _, ok := cur.Inputs[name]; !ok {
			why = append(why, fmt.Sprintf("input %s removed", name))
		}
	}
	if len(why) == 0 {
		if prev.Key == cur.Key {
			return "cache entry missing (removed or incomplete)"
		}
		return "cache key changed"
	}
	return strings.Join(why, "; ")
}

// short abbreviates a digest for messages.
func short(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

// diffParams lists the leaves that differ between two JSON documents, as
// "path old → new", at most five of them.
func diffParams(a, b json.RawMessage) []string {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		if string(a) != string(b) {
			return []string{"(unreadable)"}
		}
		return nil
	}
	fa, fb := map[string]string{}, map[string]string{}
	flatten("", x, fa)
	flatten("", y, fb)
	var out []string
	keys := sortedKeys(fa)
	for _, k := range sortedKeys(fb) {
		if _, ok := fa[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		va, oka := fa[k]
		vb, okb := fb[k]
		switch {
		case !oka:
			out = append(out, fmt.Sprintf("%s + %s", k, vb))
		case !okb:
			out = append(out, fmt.Sprintf("%s - %s", k, va))
		case va != vb:
			out = append(out, fmt.Sprintf("%s %s → %s", k, va, vb))
		}
	}
	if len(out) > 5 {
		out = append(out[:5], fmt.Sprintf("and %d more", len(out)-5))
	}
	return out
}

func flatten(prefix string, v any, out map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, e, out)
		}
	case []any:
		// Lists of named objects (gates, columns) are keyed by name, so
		// that a change inside one names it.
		named := len(v) > 0
		for _, e := range v {
			m, ok := e.(map[string]any)
			if _, has := m["name"].(string); !ok || !has {
				named = false
				break
			}
		}
		if !named {
			b, _ := json.Marshal(v)
			out[prefix] = string(b)
			return
		}
		for _, e := range v {
			m := e.(map[string]any)
			flatten(fmt.Sprintf("%s[%s]", prefix, m["name"]), m, out)
		}
	default:
		b, _ := json.Marshal(v)
		out[prefix] = string(b)
	}
}
