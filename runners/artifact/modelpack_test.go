package artifact

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// shape is one value of ModelPack's config schema
// (schema/config-schema.json of github.com/modelpack/model-spec): its
// JSON type, and for an object the keys it allows (every object there has
// additionalProperties false) and requires.
type shape struct {
	kind     string // "object", "array", "string", "integer", "boolean"
	fields   map[string]*shape
	required []string
	items    *shape
	enum     []string
	format   string // "date-time"
	pattern  string
	minLen   int
	minItems int
	minimum  *int
}

func str() *shape                  { return &shape{kind: "string"} }
func strs() *shape                 { return &shape{kind: "array", items: str()} }
func boolean() *shape              { return &shape{kind: "boolean"} }
func dateTime() *shape             { return &shape{kind: "string", format: "date-time"} }
func enum(values ...string) *shape { return &shape{kind: "string", enum: values} }
func positiveInt() *shape          { one := 1; return &shape{kind: "integer", minimum: &one} }
func object(f map[string]*shape, required ...string) *shape {
	return &shape{kind: "object", fields: f, required: required}
}

// modality is ModelPack's Modality.
var modality = enum("text", "image", "audio", "video", "embedding", "other")

// modelPackConfig is ModelPack's config schema.
var modelPackConfig = object(map[string]*shape{
	"descriptor": object(map[string]*shape{
		"createdAt": dateTime(), "authors": strs(), "family": str(), "name": {kind: "string", minLen: 1},
		"docURL": str(), "sourceURL": str(), "datasetsURL": strs(), "version": str(), "revision": str(),
		"vendor": str(), "licenses": strs(), "title": str(), "description": str(),
	}),
	"config": object(map[string]*shape{
		"architecture": str(), "format": str(), "paramSize": str(), "precision": str(), "quantization": str(),
		"transformerConfig": object(map[string]*shape{
			"attentionType": enum("mha", "gqa", "mla"), "mlpType": enum("dense", "moe"),
			"numLayers": positiveInt(), "numAttentionHeads": positiveInt(), "numKVHeads": positiveInt(),
			"hiddenSize": positiveInt(), "intermediateSize": positiveInt(),
		}),
		"capabilities": object(map[string]*shape{
			"inputTypes": {kind: "array", items: modality}, "outputTypes": {kind: "array", items: modality},
			"knowledgeCutoff": dateTime(), "reasoning": boolean(), "toolUsage": boolean(), "reward": boolean(),
			"languages": {kind: "array", items: &shape{kind: "string", pattern: `^[a-z]{2}$`}},
		}),
	}),
	"modelfs": object(map[string]*shape{
		"type":    enum("layers"),
		"diffIds": {kind: "array", items: str(), minItems: 1},
	}, "type", "diffIds"),
}, "descriptor", "config", "modelfs")

// conform lists every way v departs from the shape s, at path.
func conform(path string, v any, s *shape) []string {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, args...)) }
	switch s.kind {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			bad("%T, want an object", v)
			return errs
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			f, ok := s.fields[k]
			if !ok {
				bad("key %q is not in ModelPack's config schema", k)
				continue
			}
			errs = append(errs, conform(path+"."+k, m[k], f)...)
		}
		for _, k := range s.required {
			if _, ok := m[k]; !ok {
				bad("required key %q is missing", k)
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			bad("%T, want an array", v)
			return errs
		}
		if len(a) < s.minItems {
			bad("%d items, want at least %d", len(a), s.minItems)
		}
		for i, x := range a {
			errs = append(errs, conform(fmt.Sprintf("%s[%d]", path, i), x, s.items)...)
		}
	case "string":
		x, ok := v.(string)
		if !ok {
			bad("%T, want a string", v)
			return errs
		}
		if len(x) < s.minLen {
			bad("%q is shorter than %d", x, s.minLen)
		}
		if s.enum != nil && !slices.Contains(s.enum, x) {
			bad("%q, want one of %q", x, s.enum)
		}
		if s.format == "date-time" {
			if _, err := time.Parse(time.RFC3339, x); err != nil {
				bad("%q is not an RFC 3339 date-time", x)
			}
		}
		if s.pattern != "" && !regexp.MustCompile(s.pattern).MatchString(x) {
			bad("%q does not match %s", x, s.pattern)
		}
	case "integer":
		x, ok := v.(float64)
		if !ok || x != float64(int64(x)) {
			bad("%v, want an integer", v)
			return errs
		}
		if s.minimum != nil && x < float64(*s.minimum) {
			bad("%v is less than %d", x, *s.minimum)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			bad("%T, want a boolean", v)
		}
	}
	return errs
}

// conformConfig decodes a config blob and checks it against ModelPack's
// config schema.
func conformConfig(t *testing.T, b []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("config is not JSON: %v", err)
	}
	return conform("config", v, modelPackConfig)
}

func TestConfigConformsToModelPack(t *testing.T) {
	full := fixture(t)
	full.ParamSize = "5"
	full.DocURL = "https://example.com/docs/churn"
	minimal := fixture(t)
	minimal.Version, minimal.Source, minimal.Revision, minimal.SpecDigest, minimal.Datasets = "", "", "", "", nil
	minimal.Authors, minimal.Licenses, minimal.DatasetsURL, minimal.Created = nil, nil, nil, time.Time{}
	for name, in := range map[string]Input{"full": full, "minimal": minimal} {
		t.Run(name, func(t *testing.T) {
			a := pack(t, in)
			if errs := conformConfig(t, a.Config); len(errs) > 0 {
				t.Errorf("the config breaks ModelPack's config schema:\n%s\nconfig: %s", strings.Join(errs, "\n"), a.Config)
			}
		})
	}
}

// The conformance check itself refuses what ModelPack's schema refuses,
// at every level.
func TestConformRejects(t *testing.T) {
	a := pack(t, fixture(t))
	tests := []struct {
		name   string
		change func(m map[string]any)
		want   string
	}{
		{"top-level extension", func(m map[string]any) { m["dev.slipway.lineage"] = map[string]any{} }, `config: key "dev.slipway.lineage"`},
		{"descriptor extra", func(m map[string]any) { m["descriptor"].(map[string]any)["specDigest"] = "x" }, `config.descriptor: key "specDigest"`},
		{"config extra", func(m map[string]any) { m["config"].(map[string]any)["task"] = "binary" }, `config.config: key "task"`},
		{"capabilities extra", func(m map[string]any) {
			m["config"].(map[string]any)["capabilities"].(map[string]any)["tabular"] = true
		}, `config.config.capabilities: key "tabular"`},
		{"transformerConfig extra", func(m map[string]any) {
			m["config"].(map[string]any)["transformerConfig"] = map[string]any{"numLayers": 0, "depth": 2}
		}, `config.config.transformerConfig: key "depth"`},
		{"modelfs extra", func(m map[string]any) { m["modelfs"].(map[string]any)["rootfs"] = "x" }, `config.modelfs: key "rootfs"`},
		{"no modelfs", func(m map[string]any) { delete(m, "modelfs") }, `required key "modelfs"`},
		{"empty diffIds", func(m map[string]any) { m["modelfs"].(map[string]any)["diffIds"] = []any{} }, "0 items"},
		{"modality", func(m map[string]any) {
			m["config"].(map[string]any)["capabilities"].(map[string]any)["inputTypes"] = []any{"tabular"}
		}, `"tabular", want one of`},
		{"createdAt", func(m map[string]any) { m["descriptor"].(map[string]any)["createdAt"] = "2025-01-02" }, "RFC 3339"},
		{"name type", func(m map[string]any) { m["descriptor"].(map[string]any)["name"] = 7 }, "want a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := conformConfig(t, rewrite(t, a.Config, tt.change))
			if !strings.Contains(strings.Join(errs, "\n"), tt.want) {
				t.Errorf("conform = %q, want an error containing %q", errs, tt.want)
			}
		})
	}
}
