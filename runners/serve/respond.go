package serve

import (
	"encoding/json"
	"math"
	"strconv"
)

// responsePrefixes are the constant parts of the scoring responses,
// encoded once.
type responsePrefixes struct {
	// predictTail follows the predictions: `],"model":"<digest>"}`.
	predictTail []byte
	// inferHead opens an inference response up to the ID:
	// `{"model_name":…,"model_version":…`.
	inferHead []byte
	// inferOutput opens the output tensor up to its shape's value.
	inferOutput []byte
}

func newResponsePrefixes(m *Model) responsePrefixes {
	q := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b)
	}
	return responsePrefixes{
		predictTail: []byte(`],"model":` + q(m.Digest) + "}\n"),
		inferHead:   []byte(`{"model_name":` + q(m.Name) + `,"model_version":` + q(m.Digest)),
		inferOutput: []byte(`,"outputs":[{"name":` + q(m.Output) + `,"datatype":"FP64","shape":[`),
	}
}

// appendPredict appends /predict's answer (predictResponse) as
// json.Marshal writes it, with a newline.
func (o *responsePrefixes) appendPredict(b []byte, p []float64) []byte {
	b = append(b, `{"predictions":[`...)
	b = appendFloats(b, p)
	return append(b, o.predictTail...)
}

// appendInfer appends an inference response (inferResponse) as
// json.Marshal writes it, with a newline.
func (o *responsePrefixes) appendInfer(b []byte, id string, p []float64) []byte {
	b = append(b, o.inferHead...)
	if id != "" {
		q, _ := json.Marshal(id)
		b = append(b, `,"id":`...)
		b = append(b, q...)
	}
	b = append(b, o.inferOutput...)
	b = strconv.AppendInt(b, int64(len(p)), 10)
	b = append(b, `],"data":[`...)
	b = appendFloats(b, p)
	return append(b, "]}]}\n"...)
}

// appendFloats appends comma-separated JSON numbers.
func appendFloats(b []byte, p []float64) []byte {
	for i, v := range p {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONFloat(b, v)
	}
	return b
}

// appendJSONFloat appends a finite v as encoding/json writes a float64:
// the shortest decimal that reads back exactly, in exponent form below
// 1e-6 or from 1e21 in magnitude, with a one-digit negative exponent
// unpadded.
func appendJSONFloat(b []byte, v float64) []byte {
	format := byte('f')
	if a := math.Abs(v); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, v, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
