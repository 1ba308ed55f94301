// Package canonical encodes values as canonical JSON: object keys sorted,
// two-space indentation, no HTML escaping, a trailing newline. Equal values
// give equal bytes, which is what golden files, cache keys and compiled
// output rely on.
package canonical

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// JSON encodes v canonically.
func JSON(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return nil, fmt.Errorf("re-decode: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(generic); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return buf.Bytes(), nil
}
