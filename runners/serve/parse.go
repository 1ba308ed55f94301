package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// parseRecords reads /predict's body: one JSON object or an array of
// objects. Numbers are float64s, or json.Numbers when one is out of a
// float64's range, so that scoring names the field that holds it.
func parseRecords(b []byte) ([]map[string]any, error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			return nil, diagnose(b)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		v = nil
		if dec.Decode(&v) != nil {
			return nil, diagnose(b)
		}
	}
	switch v := v.(type) {
	case map[string]any:
		return []map[string]any{v}, nil
	case []any:
		rows := make([]map[string]any, len(v))
		for i, e := range v {
			o, ok := e.(map[string]any)
			if !ok {
				return nil, &InputError{Row: i + 1, Msg: fmt.Sprintf("want an object, found %s", describe(e))}
			}
			rows[i] = o
		}
		return rows, nil
	}
	return nil, &InputError{Msg: fmt.Sprintf("the body is %s, want an object or an array of objects", describe(v))}
}

// diagnose says what is wrong with a body that is not one JSON value.
func diagnose(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return &InputError{Msg: "the body is empty, want a JSON object or an array of objects"}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var v any
	if err := dec.Decode(&v); err != nil {
		return &InputError{Msg: "the body is not valid JSON", detail: err.Error()}
	}
	if dec.More() {
		return &InputError{Msg: "the body holds more than one JSON value, want one object or one array"}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &InputError{Msg: "the body has data after its JSON value"}
	}
	return &InputError{Msg: "the body is not valid JSON"}
}
