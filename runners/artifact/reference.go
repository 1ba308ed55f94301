package artifact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	"github.com/slipway-ml/slipway/runners/train/table"
)

// ReferenceFile is the reference sample an artifact carries: training
// rows of the model's inputs, the data that live inputs are compared with
// for drift (slipway serve's gauges, slipway monitor --reference REF).
const ReferenceFile = "reference.jsonl"

// MaxReferenceRows is the most rows Reference keeps.
const MaxReferenceRows = 5000

// Reference writes the reference sample of a model: the schema's input
// columns of the given rows of t (the training rows), as JSON Lines, one
// object per row with the fields in schema order. Numbers are JSON
// numbers (null when missing), text is a string, a timestamp an RFC 3339
// string in UTC. With more than max rows (MaxReferenceRows when max ≤ 0),
// max rows evenly spaced over rows are kept, so the sample is
// deterministic and spans the whole period of time-ordered data.
func Reference(t *table.Table, s *Schema, rows []int, max int) ([]byte, error) {
	if max <= 0 {
		max = MaxReferenceRows
	}
	cols := make([]*table.Column, len(s.Inputs))
	for i, in := range s.Inputs {
		c := t.Column(in.Name)
		if c == nil {
			return nil, fmt.Errorf("reference sample: the data has no column %q, an input of the model", in.Name)
		}
		cols[i] = c
	}
	pick := rows
	if len(rows) > max {
		pick = make([]int, max)
		for i := range pick {
			pick[i] = rows[int(int64(i)*int64(len(rows))/int64(max))]
		}
	}
	var buf bytes.Buffer
	for _, r := range pick {
		if r < 0 || r >= t.Rows() {
			return nil, fmt.Errorf("reference sample: row %d is outside the data's %d rows", r, t.Rows())
		}
		buf.WriteByte('{')
		for i, in := range s.Inputs {
			if i > 0 {
				buf.WriteByte(',')
			}
			name, err := json.Marshal(in.Name)
			if err != nil {
				return nil, err
			}
			buf.Write(name)
			buf.WriteByte(':')
			buf.Write(referenceValue(cols[i], in.Type, r))
		}
		buf.WriteString("}\n")
	}
	return buf.Bytes(), nil
}

// referenceValue is the JSON form of row r of c as an input of type typ.
func referenceValue(c *table.Column, typ string, r int) []byte {
	if c.IsNull(r) {
		return []byte("null")
	}
	switch typ {
	case TypeNumber:
		v := c.Number(r)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return []byte("null")
		}
		return []byte(table.FormatNumber(v))
	default:
		s, ok := c.Text(r)
		if !ok {
			return []byte("null")
		}
		b, _ := json.Marshal(s) // a string always encodes
		return b
	}
}
