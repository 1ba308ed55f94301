package artifact

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/slipway-ml/slipway/runners/train/features"
)

// SchemaVersion is the version of schema.json.
const SchemaVersion = 1

// Input column types of a Schema.
const (
	// TypeNumber is a numeric column: int, float, bool (0/1) or a
	// timestamp used as Unix seconds.
	TypeNumber = "number"
	// TypeString is a text or categorical column; any value is read as
	// its text.
	TypeString = "string"
	// TypeTimestamp is a timestamp column split into date parts.
	TypeTimestamp = "timestamp"
)

// Schema is schema.json: what the model reads and what it returns.
//
//	{"version": 1, "task": "binary",
//	 "inputs": [{"name": "age", "type": "number"}, ...],
//	 "output": {"name": "probability", "type": "number", "minimum": 0, "maximum": 1,
//	            "label": "churned", "positive": "yes"}}
type Schema struct {
	// Version is SchemaVersion.
	Version int `json:"version"`
	// Task is binary or regression.
	Task string `json:"task"`
	// Inputs are the raw input columns, in the order the transform reads
	// them. A missing value is allowed in every column.
	Inputs []Field `json:"inputs"`
	// Output is the model's score.
	Output Output `json:"output"`
	// PII names the columns of the pipeline's data that are personal and
	// what training did with them; a server must not log their values
	// (or logs only their pseudonyms). Omitted when no column is PII.
	PII *PII `json:"pii,omitempty"`
}

// PII is schema.json's pii: the personal columns and their treatment.
type PII struct {
	// Action is "drop" (the column never reaches the model) or
	// "pseudonymize" (it is replaced by an HMAC pseudonym; package pii).
	Action string `json:"action"`
	// Columns are the personal columns, sorted.
	Columns []string `json:"columns"`
}

// Has reports whether name is a personal column; a nil p has none.
func (p *PII) Has(name string) bool { return p != nil && slices.Contains(p.Columns, name) }

// Field is one input column.
type Field struct {
	// Name is the column's name.
	Name string `json:"name"`
	// Type is TypeNumber, TypeString or TypeTimestamp.
	Type string `json:"type"`
}

// Output is the model's score.
type Output struct {
	// Name is "probability" for a binary task, "prediction" for
	// regression.
	Name string `json:"name"`
	// Type is "number".
	Type string `json:"type"`
	// Minimum and Maximum bound a probability (0 and 1).
	Minimum *float64 `json:"minimum,omitempty"`
	Maximum *float64 `json:"maximum,omitempty"`
	// Label is the label column the model predicts.
	Label string `json:"label"`
	// Positive is the class whose probability a binary model returns.
	Positive string `json:"positive,omitempty"`
}

// featuresDoc is the part of features.json a schema needs.
type featuresDoc struct {
	Columns []struct {
		Column string `json:"column"`
		Input  string `json:"input"`
	} `json:"columns"`
}

// SchemaFromFeatures derives the model's schema from the fitted feature
// transform (features.json): the columns it reads and their types, the
// label and the task.
func SchemaFromFeatures(featuresJSON []byte) (*Schema, error) {
	var p features.Pipeline
	if err := json.Unmarshal(featuresJSON, &p); err != nil {
		return nil, fmt.Errorf("read features.json: %w", err)
	}
	var doc featuresDoc
	if err := json.Unmarshal(featuresJSON, &doc); err != nil {
		return nil, fmt.Errorf("read features.json: %w", err)
	}
	s := &Schema{Version: SchemaVersion, Task: p.Task(), Inputs: make([]Field, 0, len(doc.Columns))}
	for _, c := range doc.Columns {
		f := Field{Name: c.Column}
		switch c.Input {
		case "number":
			f.Type = TypeNumber
		case "text":
			f.Type = TypeString
		case "time":
			f.Type = TypeTimestamp
		default:
			return nil, fmt.Errorf("read features.json: column %q has input %q, want number, text or time", c.Column, c.Input)
		}
		s.Inputs = append(s.Inputs, f)
	}
	switch s.Task {
	case features.Binary:
		lo, hi := 0.0, 1.0
		s.Output = Output{Name: "probability", Type: TypeNumber, Minimum: &lo, Maximum: &hi, Label: p.LabelColumn(), Positive: p.Positive()}
	case features.Regression:
		s.Output = Output{Name: "prediction", Type: TypeNumber, Label: p.LabelColumn()}
	default:
		return nil, fmt.Errorf("read features.json: task %q, want binary or regression", s.Task)
	}
	return s, nil
}
