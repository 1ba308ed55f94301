// Package serve serves a pulled model over HTTP: the Open Inference
// Protocol v2 REST endpoints, a plain JSON /predict endpoint, health
// checks and Prometheus metrics.
package serve

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/slipway-ml/slipway/runners/artifact"
	"github.com/slipway-ml/slipway/runners/pii"
	"github.com/slipway-ml/slipway/runners/train"
	"github.com/slipway-ml/slipway/runners/train/features"
	"github.com/slipway-ml/slipway/runners/train/table"
)

// Input types, as schema.json names them (package artifact writes it).
const (
	// TypeNumber is a numeric input: a JSON number (or a boolean, read as
	// 0 or 1).
	TypeNumber = artifact.TypeNumber
	// TypeString is a categorical or text input: a JSON string.
	TypeString = artifact.TypeString
	// TypeTimestamp is a point in time: an RFC 3339 string or a date
	// (2006-01-02).
	TypeTimestamp = artifact.TypeTimestamp
)

// Input is one raw input column the model reads: schema.json's field.
type Input = artifact.Field

// Model is a loaded model with its fitted feature transform.
type Model struct {
	// Name is the name the model is served under; Load sets the
	// directory's base name.
	Name string
	// Digest is the sha256 digest of model.bin ("sha256:<hex>"); it is
	// also the served model version.
	Digest string
	// Kind is the model kind: logistic, gbdt or mlp.
	Kind string
	// Task is binary or regression.
	Task string
	// Positive is the class whose probability a binary model returns.
	Positive string
	// Output is the score's name: "probability" (binary) or
	// "prediction" (regression).
	Output string
	// Inputs are the raw input columns, in schema order.
	Inputs []Input
	// PII says which input fields hold personal data and what the request
	// log does with them; nil when none does.
	PII *PII
	// Reference is a sample of the training inputs (reference.jsonl), one
	// column per input, that live inputs are compared with for drift; nil
	// when the model directory has none, which turns drift monitoring off.
	Reference *table.Table

	model train.Model
	pipe  *features.Pipeline
	index map[string]int
}

// PII is schema.json's "pii" object: the fields that hold personal data
// and what becomes of them outside the model.
type PII = artifact.PII

// InputError is a request the model cannot score: a missing, unknown or
// wrongly typed field, or a record the transform refuses.
type InputError struct {
	// Row is the record's position, counting from 1; 0 when the error
	// concerns no single record.
	Row int
	// Field is the field at fault, or "".
	Field string
	// Msg says what was expected and what was found.
	Msg string

	// detail is the decoder's own account of the fault, which may quote
	// the input: it goes to the client, never to the log.
	detail string
}

// Error formats the error with its record and field.
func (e *InputError) Error() string {
	s := e.logText()
	if e.detail != "" {
		s += ": " + e.detail
	}
	return s
}

// logText is the error without its detail.
func (e *InputError) logText() string {
	var b strings.Builder
	if e.Row > 0 {
		b.WriteString("record ")
		b.WriteString(strconv.Itoa(e.Row))
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString("field ")
		b.WriteString(strconv.Quote(e.Field))
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// trainInfo is the part of train.json Load needs.
type trainInfo struct {
	Model    string `json:"model"`
	Task     string `json:"task"`
	Positive string `json:"positive"`
}

// featureColumns is the part of features.json that names the columns the
// transform reads.
type featureColumns struct {
	Columns []struct {
		Column string `json:"column"`
		Input  string `json:"input"`
	} `json:"columns"`
}

// Load reads a pulled model directory: model.bin, train.json,
// features.json and schema.json, and reference.jsonl when present (see
// ReferenceFile). It checks that the files agree on the task and the
// inputs.
func Load(dir string) (*Model, error) {
	read := func(name string) ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("load model: read %s: %w", name, err)
		}
		return b, nil
	}
	var info trainInfo
	var schema artifact.Schema
	var cols featureColumns
	pipe := new(features.Pipeline)
	for _, f := range []struct {
		name string
		dst  []any
	}{
		{"train.json", []any{&info}},
		{"schema.json", []any{&schema}},
		{"features.json", []any{pipe, &cols}},
	} {
		b, err := read(f.name)
		if err != nil {
			return nil, err
		}
		for _, d := range f.dst {
			if err := json.Unmarshal(b, d); err != nil {
				return nil, fmt.Errorf("load model: parse %s: %w", f.name, err)
			}
		}
	}
	mb, err := read("model.bin")
	if err != nil {
		return nil, err
	}
	mod, err := train.LoadModel(info.Model, mb)
	if err != nil {
		return nil, fmt.Errorf("load model: model.bin: %w", err)
	}
	if schema.Version != 1 {
		return nil, fmt.Errorf("load model: schema.json has version %d, want 1", schema.Version)
	}
	task := pipe.Task()
	if info.Task != task || schema.Task != task {
		return nil, fmt.Errorf("load model: the task differs: train.json says %q, schema.json %q, features.json %q", info.Task, schema.Task, task)
	}
	if err := checkInputs(schema.Inputs, cols); err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	if err := checkPII(schema.PII); err != nil {
		return nil, fmt.Errorf("load model: schema.json: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	sum := sha256.Sum256(mb)
	m := &Model{
		Name:   filepath.Base(abs),
		Digest: "sha256:" + hex.EncodeToString(sum[:]),
		Kind:   info.Model,
		Task:   task,
		Output: "prediction",
		Inputs: slices.Clone(schema.Inputs),
		model:  mod,
		pipe:   pipe,
		index:  make(map[string]int, len(schema.Inputs)),
	}
	if task == features.Binary {
		m.Output, m.Positive = "probability", pipe.Positive()
	}
	for i, in := range m.Inputs {
		m.index[in.Name] = i
	}
	if schema.PII != nil && len(schema.PII.Columns) > 0 {
		m.PII = &PII{Action: schema.PII.Action, Columns: slices.Clone(schema.PII.Columns)}
	}
	if m.Reference, err = readReference(filepath.Join(dir, ReferenceFile), m); err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	return m, nil
}

// checkPII checks schema.json's "pii" object: a known action and named
// fields.
func checkPII(p *PII) error {
	if p == nil {
		return nil
	}
	if p.Action != pii.Drop && p.Action != pii.Pseudonymize {
		return fmt.Errorf("pii action is %q, want %q or %q", p.Action, pii.Drop, pii.Pseudonymize)
	}
	for i, c := range p.Columns {
		if c == "" {
			return fmt.Errorf("pii column %d has an empty name", i+1)
		}
	}
	return nil
}

// checkInputs checks that schema.json's inputs are the columns
// features.json reads, with matching types.
func checkInputs(inputs []Input, cols featureColumns) error {
	want := map[string]string{"number": TypeNumber, "text": TypeString, "time": TypeTimestamp}
	if len(inputs) != len(cols.Columns) {
		return fmt.Errorf("schema.json lists %d inputs, features.json reads %d columns", len(inputs), len(cols.Columns))
	}
	seen := map[string]bool{}
	for i, in := range inputs {
		c := cols.Columns[i]
		if in.Name == "" || seen[in.Name] {
			return fmt.Errorf("schema.json input %d has an empty or repeated name %q", i+1, in.Name)
		}
		seen[in.Name] = true
		if in.Name != c.Column || in.Type != want[c.Input] {
			return fmt.Errorf("schema.json input %d is %q (%s), features.json reads %q (%s)", i+1, in.Name, in.Type, c.Column, c.Input)
		}
	}
	return nil
}

// Predict scores records: each maps every input's name to its value (a
// number for a numeric input, a string for a text input, an RFC 3339
// string for a timestamp; nil for a missing value). A missing, unknown or
// wrongly typed field is an *InputError naming it. It returns the positive
// class's probability for a binary model, the prediction for regression.
func (m *Model) Predict(rows []map[string]any) ([]float64, error) {
	p, _, err := m.predict(rows)
	return p, err
}

// predict is Predict, returning also the table of the inputs it scored.
func (m *Model) predict(rows []map[string]any) ([]float64, *table.Table, error) {
	if len(rows) == 0 {
		return nil, nil, &InputError{Msg: "no records to score; send at least one"}
	}
	for i, row := range rows {
		if row == nil {
			return nil, nil, &InputError{Row: i + 1, Msg: "the record is null, want an object"}
		}
		if len(row) > len(m.Inputs) || !m.allKnown(row) {
			keys := make([]string, 0, len(row))
			for k := range row {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if _, ok := m.index[k]; !ok {
					return nil, nil, &InputError{Row: i + 1, Field: k, Msg: "unknown field; the model reads " + m.inputList()}
				}
			}
		}
	}
	t, err := m.inputTable(rows)
	if err != nil {
		return nil, nil, err
	}
	x, err := m.pipe.Transform(t)
	if err != nil {
		return nil, nil, &InputError{Msg: err.Error()}
	}
	p, err := m.model.Predict(x)
	if err != nil {
		return nil, nil, &InputError{Msg: fmt.Sprintf("the model cannot score the records: %v", err)}
	}
	if len(p) != len(rows) {
		return nil, nil, fmt.Errorf("predict: the model returned %d scores for %d records", len(p), len(rows))
	}
	for i, v := range p {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, nil, &InputError{Row: i + 1, Msg: fmt.Sprintf("the model's score is %v; check the magnitudes of the record's numbers", v)}
		}
	}
	return p, t, nil
}

// inputTable converts checked records to a table of the inputs, one
// column per input in schema order.
func (m *Model) inputTable(rows []map[string]any) (*table.Table, error) {
	cols := make([]*table.Column, len(m.Inputs))
	for j, in := range m.Inputs {
		c, err := column(in, rows)
		if err != nil {
			return nil, err
		}
		cols[j] = c
	}
	t, err := table.New(cols...)
	if err != nil {
		return nil, fmt.Errorf("build the input table: %w", err)
	}
	return t, nil
}

// allKnown reports whether every field of row is an input.
func (m *Model) allKnown(row map[string]any) bool {
	for k := range row {
		if _, ok := m.index[k]; !ok {
			return false
		}
	}
	return true
}

// inputList names the inputs for an error message.
func (m *Model) inputList() string {
	q := make([]string, len(m.Inputs))
	for i, in := range m.Inputs {
		q[i] = fmt.Sprintf("%q", in.Name)
	}
	return strings.Join(q, ", ")
}

// column builds the table column of input in from the records.
func column(in Input, rows []map[string]any) (*table.Column, error) {
	n := len(rows)
	bad := func(i int, v any, want string) error {
		return &InputError{Row: i + 1, Field: in.Name, Msg: fmt.Sprintf("want %s, found %s", want, describe(v))}
	}
	switch in.Type {
	case TypeNumber:
		vals := make([]float64, n)
		for i, row := range rows {
			v, ok := row[in.Name]
			if !ok {
				return nil, missing(i, in)
			}
			f, ok := number(v)
			if !ok {
				if _, num := v.(json.Number); num {
					return nil, &InputError{Row: i + 1, Field: in.Name, Msg: "the number is out of range; want a finite number a 64-bit float holds (magnitude below 1.8e308)"}
				}
				return nil, bad(i, v, "a number")
			}
			vals[i] = f
		}
		return table.NewFloat(in.Name, vals), nil
	case TypeString:
		c := &table.Column{Name: in.Name, Type: table.Category, Codes: make([]int32, n)}
		var d dict
		for i, row := range rows {
			v, ok := row[in.Name]
			switch {
			case !ok:
				return nil, missing(i, in)
			case v == nil:
				c.Codes[i] = -1
			default:
				s, ok := v.(string)
				if !ok {
					return nil, bad(i, v, "a string")
				}
				c.Codes[i] = d.code(c, s)
			}
		}
		return c, nil
	case TypeTimestamp:
		valid := table.NewBitmap(n, true)
		vals := make([]int64, n)
		for i, row := range rows {
			v, ok := row[in.Name]
			switch {
			case !ok:
				return nil, missing(i, in)
			case v == nil:
				valid.Clear(i)
			default:
				s, ok := v.(string)
				if !ok {
					return nil, bad(i, v, "an RFC 3339 timestamp string")
				}
				ts, err := parseTime(s)
				if err != nil || ts.Year() < 1678 || ts.Year() > 2261 {
					return nil, bad(i, v, "an RFC 3339 timestamp string")
				}
				vals[i] = ts.UnixNano()
			}
		}
		return table.NewTimestamp(in.Name, vals, valid), nil
	}
	return nil, fmt.Errorf("predict: input %q has type %q, want number, string or timestamp", in.Name, in.Type)
}

// dict dictionary-encodes a category column as table.NewText does,
// entries in order of first appearance, without a map while the
// dictionary is short.
type dict struct {
	index map[string]int32
}

// linearDict is the longest dictionary searched without a map.
const linearDict = 16

// code returns the code of s in c's dictionary, adding it if new.
func (d *dict) code(c *table.Column, s string) int32 {
	if d.index == nil {
		for k, e := range c.Dict {
			if e == s {
				return int32(k)
			}
		}
		if len(c.Dict) == linearDict {
			d.index = make(map[string]int32, 2*linearDict)
			for k, e := range c.Dict {
				d.index[e] = int32(k)
			}
		}
	} else if k, ok := d.index[s]; ok {
		return k
	}
	k := int32(len(c.Dict))
	c.Dict = append(c.Dict, s)
	if d.index != nil {
		d.index[s] = k
	}
	return k
}

// missing is the error for a record without the input's field.
func missing(i int, in Input) error {
	return &InputError{Row: i + 1, Field: in.Name, Msg: fmt.Sprintf("missing; want a %s (null for a missing value)", in.Type)}
}

// number reads a numeric value; nil is a missing value (NaN).
func number(v any) (float64, bool) {
	switch v := v.(type) {
	case nil:
		return math.NaN(), true
	case float64:
		return v, !math.IsInf(v, 0)
	case float32:
		return float64(v), !math.IsInf(float64(v), 0)
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case int32:
		return float64(v), true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil && !math.IsInf(f, 0)
	case bool:
		if v {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// parseTime reads an RFC 3339 timestamp or a date.
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, errors.New("not an RFC 3339 timestamp or a date")
	}
	return t, nil
}

// describe names a JSON value's type for an error message.
func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64, float32, int, int64, int32, json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("a %T", v)
}
