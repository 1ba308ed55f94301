package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// inferTensor is one input of an inference request.
type inferTensor struct {
	Name       string          `json:"name"`
	Shape      []int64         `json:"shape"`
	Datatype   string          `json:"datatype"`
	Parameters map[string]any  `json:"parameters,omitempty"`
	Data       json.RawMessage `json:"data"`
}

// inferRequest is an Open Inference Protocol v2 inference request: one
// input per column.
type inferRequest struct {
	ID         string         `json:"id,omitempty"`
	Parameters map[string]any `json:"parameters,omitempty"`
	Inputs     []inferTensor  `json:"inputs"`
	Outputs    []struct {
		Name       string         `json:"name"`
		Parameters map[string]any `json:"parameters,omitempty"`
	} `json:"outputs,omitempty"`
}

// outputTensor is one output of an inference response.
type outputTensor struct {
	Name     string    `json:"name"`
	Datatype string    `json:"datatype"`
	Shape    []int64   `json:"shape"`
	Data     []float64 `json:"data"`
}

// inferResponse is an Open Inference Protocol v2 inference response.
type inferResponse struct {
	ModelName    string         `json:"model_name"`
	ModelVersion string         `json:"model_version"`
	ID           string         `json:"id,omitempty"`
	Outputs      []outputTensor `json:"outputs"`
}

// numericTypes are the datatypes a numeric input accepts.
var numericTypes = map[string]bool{
	"BOOL": true, "UINT8": true, "UINT16": true, "UINT32": true, "UINT64": true,
	"INT8": true, "INT16": true, "INT32": true, "INT64": true,
	"FP16": true, "FP32": true, "FP64": true,
}

func (h *handler) infer(w http.ResponseWriter, r *http.Request) {
	if !h.known(w, r) {
		return
	}
	bp, ok := h.body(w, r)
	if !ok {
		return
	}
	req, err := parseInfer(*bp)
	putBuffer(bp)
	if err != nil {
		refuse(w, http.StatusBadRequest, err, nil)
		return
	}
	rows, err := h.m.inferRows(req)
	if err != nil {
		refuse(w, http.StatusBadRequest, err, nil)
		return
	}
	p, ok := h.score(w, rows)
	if !ok {
		return
	}
	out := getBuffer()
	*out = h.out.appendInfer((*out)[:0], req.ID, p)
	writeBody(w, http.StatusOK, *out)
	putBuffer(out)
}

// parseInfer decodes an inference request, refusing unknown fields.
func parseInfer(b []byte) (*inferRequest, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	req := new(inferRequest)
	if err := dec.Decode(req); err != nil {
		return nil, &InputError{Msg: "the body is not an inference request", detail: err.Error()}
	}
	if dec.More() {
		return nil, &InputError{Msg: "the body has data after the inference request"}
	}
	return req, nil
}

// inferRows turns an inference request's columns into records, checking
// each input's name, datatype, shape and data.
func (m *Model) inferRows(req *inferRequest) ([]map[string]any, error) {
	for _, o := range req.Outputs {
		if o.Name != m.Output {
			return nil, &InputError{Field: o.Name, Msg: fmt.Sprintf("unknown output; the model returns %q", m.Output)}
		}
	}
	if len(req.Inputs) == 0 {
		return nil, &InputError{Msg: "the request has no inputs; send one per column: " + m.inputList()}
	}
	cols := make([][]any, len(m.Inputs))
	n := -1
	for _, t := range req.Inputs {
		i, ok := m.index[t.Name]
		if !ok {
			return nil, &InputError{Field: t.Name, Msg: "unknown input; the model reads " + m.inputList()}
		}
		if cols[i] != nil {
			return nil, &InputError{Field: t.Name, Msg: "the input appears twice"}
		}
		in := m.Inputs[i]
		want := datatype(in.Type)
		if (want == "FP64" && !numericTypes[t.Datatype]) || (want == "BYTES" && t.Datatype != "BYTES") {
			return nil, &InputError{Field: t.Name, Msg: fmt.Sprintf("datatype %q, want %s", t.Datatype, want)}
		}
		data, err := flatten(t.Data)
		if err != nil {
			var ie *InputError
			if errors.As(err, &ie) {
				ie.Field = t.Name
				return nil, ie
			}
			return nil, &InputError{Field: t.Name, Msg: err.Error()}
		}
		if err := checkShape(t.Shape, len(data)); err != nil {
			return nil, &InputError{Field: t.Name, Msg: err.Error()}
		}
		if n >= 0 && len(data) != n {
			return nil, &InputError{Field: t.Name, Msg: fmt.Sprintf("%d values, the other inputs have %d", len(data), n)}
		}
		n = len(data)
		if data == nil {
			data = []any{}
		}
		cols[i] = data
	}
	for i, in := range m.Inputs {
		if cols[i] == nil {
			return nil, &InputError{Field: in.Name, Msg: fmt.Sprintf("missing input; want datatype %s, shape [n]", datatype(in.Type))}
		}
	}
	rows := make([]map[string]any, n)
	for r := range rows {
		row := make(map[string]any, len(cols))
		for i, data := range cols {
			row[m.Inputs[i].Name] = data[r]
		}
		rows[r] = row
	}
	return rows, nil
}

// flatten reads a tensor's data, flat or nested, in row-major order.
func flatten(raw json.RawMessage) ([]any, error) {
	if len(raw) == 0 {
		return nil, fmt.Errorf("no data")
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, &InputError{Msg: "a number is out of range; want finite numbers a 64-bit float holds (magnitude below 1.8e308)"}
		}
		return nil, &InputError{Msg: "data is not JSON", detail: err.Error()}
	}
	top, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("data is %s, want an array", describe(v))
	}
	for _, e := range top {
		if _, nested := e.([]any); nested {
			return flattenInto(nil, top), nil
		}
	}
	return top, nil
}

// flattenInto appends the leaves of a nested array in row-major order.
func flattenInto(out, a []any) []any {
	for _, e := range a {
		if sub, ok := e.([]any); ok {
			out = flattenInto(out, sub)
		} else {
			out = append(out, e)
		}
	}
	return out
}

// checkShape checks that shape is [n] or [n, 1] for n values.
func checkShape(shape []int64, n int) error {
	ok := (len(shape) == 1 && shape[0] == int64(n)) || (len(shape) == 2 && shape[0] == int64(n) && shape[1] == 1)
	if !ok {
		return fmt.Errorf("shape %v does not fit %d values; want [%d] or [%d, 1]", shape, n, n, n)
	}
	return nil
}
