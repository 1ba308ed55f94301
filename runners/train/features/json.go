package features

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Version is the version of the serialised pipeline this package writes
// and reads.
const Version = 1

// pipelineJSON is the serialised form of a Pipeline:
//
//	{"version": 1,
//	 "label": {"column", "task", "positive", "negative", "rule"},
//	 "categorical": "native" | "onehot",
//	 "columns": [{"column", "input": "number"|"text"|"time",
//	              "steps": [{"op", ...fitted parameters}],
//	              "names": [...], "categories": [...]}],
//	 "names": [...], "categories": [...]}
type pipelineJSON struct {
	Version     int           `json:"version"`
	Label       labelInfo     `json:"label"`
	Categorical string        `json:"categorical"`
	Columns     []*columnPipe `json:"columns"`
	Names       []string      `json:"names"`
	Categories  []int         `json:"categories"`
}

// MarshalJSON writes the fitted pipeline as versioned JSON ({"version":1,
// ...}); UnmarshalJSON reads it back into a pipeline that transforms
// identically.
func (p *Pipeline) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(pipelineJSON{
		Version:     Version,
		Label:       p.label,
		Categorical: p.categorical,
		Columns:     p.cols,
		Names:       p.names,
		Categories:  p.categories,
	})
	if err != nil {
		return nil, fmt.Errorf("marshal feature pipeline: %w", err)
	}
	return b, nil
}

// UnmarshalJSON reads a pipeline written by MarshalJSON. It rejects another
// version, unknown fields and a pipeline whose parts do not fit together.
func (p *Pipeline) UnmarshalJSON(b []byte) error {
	var v struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("unmarshal feature pipeline: %w", err)
	}
	if v.Version == nil {
		return errors.New("unmarshal feature pipeline: no version")
	}
	if *v.Version != Version {
		return fmt.Errorf("unmarshal feature pipeline: version %d, this build reads version %d", *v.Version, Version)
	}
	var pj pipelineJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pj); err != nil {
		return fmt.Errorf("unmarshal feature pipeline: %w", err)
	}
	q := Pipeline{label: pj.Label, categorical: pj.Categorical, cols: pj.Columns}
	if err := q.check(pj.Names, pj.Categories); err != nil {
		return fmt.Errorf("unmarshal feature pipeline: %w", err)
	}
	*p = q
	return nil
}

// check validates a decoded pipeline and fills in names, categories and
// the steps' lookup tables.
func (p *Pipeline) check(names []string, cats []int) error {
	switch p.label.Task {
	case Binary:
		if p.label.Positive == p.label.Negative {
			return errors.New("label: positive and negative classes are the same")
		}
	case Regression:
	default:
		return fmt.Errorf("label: task %q", p.label.Task)
	}
	if p.label.Column == "" {
		return errors.New("label: no column")
	}
	if p.categorical != Native && p.categorical != Onehot {
		return fmt.Errorf("categorical %q", p.categorical)
	}
	p.names, p.categories = nil, nil
	for i, cp := range p.cols {
		if cp == nil || cp.Column == "" {
			return fmt.Errorf("column %d: no name", i+1)
		}
		for j, st := range cp.Steps {
			if st == nil {
				return fmt.Errorf("column %q: step %d is empty", cp.Column, j+1)
			}
			st.prepare()
		}
		n, c, err := cp.shape()
		if err != nil {
			return fmt.Errorf("column %q: %w", cp.Column, err)
		}
		if !slices.Equal(n, cp.Names) || !slices.Equal(c, cp.Categories) {
			return fmt.Errorf("column %q: names or categories do not match its steps", cp.Column)
		}
		p.names = append(p.names, n...)
		p.categories = append(p.categories, c...)
	}
	if !slices.Equal(names, p.names) || !slices.Equal(cats, p.categories) {
		return errors.New("names or categories do not match the columns")
	}
	return nil
}
