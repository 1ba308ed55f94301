package artifact

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Lineage records what a model was made from and how it fared; it is the
// lineage.json layer (LineageFile), written as indented JSON with sorted
// keys.
type Lineage struct {
	// APIVersion is LineageAPIVersion.
	APIVersion string `json:"apiVersion"`
	// Pipeline is the pipeline's name.
	Pipeline string `json:"pipeline"`
	// SpecDigest is the digest of the compiled pipeline spec.
	SpecDigest string `json:"specDigest,omitempty"`
	// Commit is the Git commit of the spec.
	Commit string `json:"commit,omitempty"`
	// Datasets maps each dataset's name to its content digest.
	Datasets map[string]string `json:"datasets,omitempty"`
	// SlipwayVersion is the Slipway release that trained the model.
	SlipwayVersion string `json:"slipwayVersion"`
	// Model is the model kind; Task is binary or regression.
	Model string `json:"model"`
	Task  string `json:"task"`
	// Parameters are the training parameters (train.json's params).
	Parameters json.RawMessage `json:"parameters,omitempty"`
	// Metrics are the evaluation's metrics by split ("test",
	// "validation"), then by name.
	Metrics map[string]map[string]float64 `json:"metrics,omitempty"`
	// Gates are the gates' verdicts.
	Gates []Gate `json:"gates,omitempty"`
}

// Gate is one gate's verdict, from gates.json.
type Gate struct {
	// Name, Metric and Split are the gate's.
	Name   string `json:"name"`
	Metric string `json:"metric"`
	Split  string `json:"split,omitempty"`
	// Group is the compared column of a fairness gate.
	Group string `json:"group,omitempty"`
	// Value is the model's value of the metric (absent when it could not
	// be computed).
	Value *float64 `json:"value,omitempty"`
	// Passed is the verdict.
	Passed bool `json:"passed"`
}

// tasks are the tasks a model may have.
var tasks = []string{"binary", "regression"}

// ParseLineage decodes lineage.json and checks it: apiVersion
// LineageAPIVersion, a valid pipeline name, a known model kind and task,
// and a Slipway version.
func ParseLineage(b []byte) (*Lineage, error) {
	if len(b) > MaxLineageSize {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d allowed", LineageFile, len(b), MaxLineageSize)
	}
	var l Lineage
	if err := decodeJSON(b, &l); err != nil {
		return nil, fmt.Errorf("parse %s: %w", LineageFile, err)
	}
	if l.APIVersion != LineageAPIVersion {
		return nil, fmt.Errorf("%s apiVersion is %q, this build reads %q", LineageFile, l.APIVersion, LineageAPIVersion)
	}
	if err := CheckName(l.Pipeline); err != nil {
		return nil, fmt.Errorf("%s: %w", LineageFile, err)
	}
	if !slices.Contains(modelKinds, l.Model) {
		return nil, fmt.Errorf("%s model is %q, want one of %q", LineageFile, l.Model, modelKinds)
	}
	if !slices.Contains(tasks, l.Task) {
		return nil, fmt.Errorf("%s task is %q, want one of %q", LineageFile, l.Task, tasks)
	}
	if l.SlipwayVersion == "" {
		return nil, fmt.Errorf("%s slipwayVersion is empty", LineageFile)
	}
	return &l, nil
}

// Lineage reads the artifact's lineage.json layer, after Verify.
func (a *Artifact) Lineage() (*Lineage, error) {
	b, err := a.File(LineageFile)
	if err != nil {
		return nil, err
	}
	return ParseLineage(b)
}

// ParseMetrics decodes an AnnotationMetrics value: a JSON object of at
// most MaxMetricsAnnotation bytes mapping metric names to numbers.
func ParseMetrics(s string) (map[string]float64, error) {
	if len(s) > MaxMetricsAnnotation {
		return nil, fmt.Errorf("annotation %s is %d bytes, more than the %d allowed", AnnotationMetrics, len(s), MaxMetricsAnnotation)
	}
	var m map[string]*float64
	if err := decodeJSON([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("annotation %s %q: want a JSON object of numbers: %w", AnnotationMetrics, s, err)
	}
	if m == nil {
		return nil, fmt.Errorf("annotation %s is %q, want a JSON object of numbers", AnnotationMetrics, s)
	}
	out := make(map[string]float64, len(m))
	for name, v := range m {
		if v == nil {
			return nil, fmt.Errorf("annotation %s: metric %q is null, want a number", AnnotationMetrics, name)
		}
		out[name] = *v
	}
	return out, nil
}

// headlineMetrics returns the metrics the manifest shows: the test
// split's, or the validation split's when the test split has none.
func headlineMetrics(l *Lineage) map[string]float64 {
	if m := l.Metrics["test"]; len(m) > 0 {
		return m
	}
	return l.Metrics["validation"]
}

// metricsAnnotation encodes the headline metrics for AnnotationMetrics:
// the longest prefix, by name, whose encoding fits in
// MaxMetricsAnnotation bytes. It returns "" when there is none.
func metricsAnnotation(l *Lineage) (string, error) {
	all := headlineMetrics(l)
	out := ""
	kept := map[string]float64{}
	for _, name := range slices.Sorted(maps.Keys(all)) {
		kept[name] = all[name]
		b, err := canonicalJSON(kept, false)
		if err != nil {
			return "", fmt.Errorf("encode annotation %s: %w", AnnotationMetrics, err)
		}
		if len(b) > MaxMetricsAnnotation {
			break
		}
		out = string(b)
	}
	return out, nil
}

// checkLineage checks that the lineage agrees with the config and with
// the manifest's annotations.
func checkLineage(m *v1.Manifest, c *Config, l *Lineage) error {
	checks := []struct{ what, got, want string }{
		{"config descriptor.name", c.Descriptor.Name, l.Pipeline},
		{"config descriptor.family", c.Descriptor.Family, l.Model},
		{"annotation " + AnnotationRevision, m.Annotations[AnnotationRevision], l.Commit},
		{"annotation " + AnnotationSpecDigest, m.Annotations[AnnotationSpecDigest], l.SpecDigest},
		{"annotation " + AnnotationSlipwayVersion, m.Annotations[AnnotationSlipwayVersion], l.SlipwayVersion},
		{"annotation " + AnnotationTask, m.Annotations[AnnotationTask], l.Task},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			return fmt.Errorf("%s is %q, but %s says %q", ch.what, ch.got, LineageFile, ch.want)
		}
	}
	return nil
}
