package serve

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slipway-ml/slipway/runners/pii"
	"github.com/slipway-ml/slipway/runners/train/table"
)

// logColumn is an input field the request log carries.
type logColumn struct {
	index  int    // the column in the input table
	name   []byte // the field's name, JSON-quoted
	pseudo bool   // logged as its pseudonym
}

// logColumns lists the fields LogInputs logs: every input but the PII
// fields that are dropped, or to be pseudonymized without a key.
func logColumns(m *Model, key []byte) []logColumn {
	var cols []logColumn
	for j, in := range m.Inputs {
		c := logColumn{index: j}
		c.name, _ = json.Marshal(in.Name)
		if m.PII.Has(in.Name) {
			if m.PII.Action != pii.Pseudonymize || len(key) == 0 {
				continue
			}
			c.pseudo = true
		}
		cols = append(cols, c)
	}
	return cols
}

// loggedRecords are a request's scored records as the log shows them: a
// JSON array of objects, fields in schema order, PII fields as
// logColumns says.
type loggedRecords struct {
	t    *table.Table
	cols []logColumn
	key  []byte
}

// MarshalJSON writes the records.
func (l loggedRecords) MarshalJSON() ([]byte, error) {
	b := []byte{'['}
	cols := l.t.Columns()
	for i := range l.t.Rows() {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		for k, lc := range l.cols {
			if k > 0 {
				b = append(b, ',')
			}
			b = append(b, lc.name...)
			b = append(b, ':')
			b = appendValue(b, cols[lc.index], i, lc.pseudo, l.key)
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// MarshalText writes the records as MarshalJSON does, for text logs.
func (l loggedRecords) MarshalText() ([]byte, error) { return l.MarshalJSON() }

// appendValue appends row i of c as JSON: a number, a string (an RFC 3339
// timestamp), or null; pseudo replaces a value by its pseudonym under key,
// computed from its text as package pii does for training data.
func appendValue(b []byte, c *table.Column, i int, pseudo bool, key []byte) []byte {
	s, ok := c.Text(i)
	switch {
	case !ok:
		return append(b, "null"...)
	case pseudo:
		return strconv.AppendQuote(b, pii.Pseudonym(key, s))
	case c.Type == table.Float:
		return appendJSONFloat(b, c.Floats[i])
	case c.Type == table.Timestamp:
		return strconv.AppendQuote(b, time.Unix(0, c.Ints[i]).UTC().Format(time.RFC3339Nano))
	}
	q, _ := json.Marshal(s)
	return append(b, q...)
}

// logError returns the field and the message the log carries for a
// refused request: the message without the decoder's detail, and with
// the values of rows redacted, those of the PII fields when inputs are
// logged, of every field otherwise.
func (h *handler) logError(err error, rows []map[string]any) (field, msg string) {
	var ie *InputError
	if errors.As(err, &ie) {
		field, msg = ie.Field, ie.logText()
	} else {
		msg = err.Error()
	}
	if len(rows) == 0 {
		return field, msg
	}
	var secret []string
	for _, in := range h.m.Inputs {
		if h.logInputs && !h.m.PII.Has(in.Name) {
			continue
		}
		for _, row := range rows {
			secret = appendForms(secret, row[in.Name])
		}
	}
	if len(secret) == 0 {
		return field, msg
	}
	slices.SortFunc(secret, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	secret = slices.Compact(secret)
	pairs := make([]string, 0, 2*len(secret))
	for _, s := range secret {
		pairs = append(pairs, s, "[redacted]")
	}
	return field, strings.NewReplacer(pairs...).Replace(msg)
}

// appendForms appends the ways a message may spell v: as is, quoted,
// and for a number in its decimal forms.
func appendForms(out []string, v any) []string {
	switch v := v.(type) {
	case string:
		if v != "" {
			out = append(out, strconv.Quote(v), v)
		}
	case float64:
		if !math.IsNaN(v) {
			out = append(out, table.FormatNumber(v), strconv.FormatFloat(v, 'g', -1, 64))
		}
	case json.Number:
		out = append(out, string(v))
	}
	return out
}
