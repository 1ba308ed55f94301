package serve

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"

	"github.com/slipway-ml/slipway/runners/artifact"
	"github.com/slipway-ml/slipway/runners/train/table"
)

// ReferenceFile is the optional file of a model directory that holds the
// reference sample for drift: JSON Lines, one object per line mapping
// each input's name to its value as a request carries it (a number, a
// string, an RFC 3339 timestamp string, or null); artifact.Reference
// writes it.
const ReferenceFile = artifact.ReferenceFile

// MaxReferenceRows is the most records a reference sample may hold.
const MaxReferenceRows = artifact.MaxReferenceRows

// maxReferenceLine bounds one line of the reference file.
const maxReferenceLine = 1 << 20

// readReference reads the reference sample at path into a table of m's
// inputs, converted as requests are. A missing file gives nil; a bad one
// is an error naming file:line.
func readReference(path string, m *Model) (*table.Table, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ReferenceFile, err)
	}
	defer f.Close()
	t, err := parseReference(f, m)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// parseReference reads a reference sample: see ReferenceFile.
func parseReference(r io.Reader, m *Model) (*table.Table, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxReferenceLine)
	var rows []map[string]any
	var lines []int
	at := func(line int, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", ReferenceFile, line, fmt.Sprintf(format, args...))
	}
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if len(rows) == MaxReferenceRows {
			return nil, at(line, "more than %d records; a reference sample holds at most %d", MaxReferenceRows, MaxReferenceRows)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				return nil, at(line, "a number is out of range; want finite numbers a 64-bit float holds (magnitude below 1.8e308)")
			}
			return nil, at(line, "not a JSON value: %v", err)
		}
		row, ok := v.(map[string]any)
		if !ok {
			return nil, at(line, "found %s, want an object mapping the model's inputs (%s) to values", describe(v), m.inputList())
		}
		keys := make([]string, 0, len(row))
		for k := range row {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if _, ok := m.index[k]; !ok {
				return nil, at(line, "field %q: unknown field; the model reads %s", k, m.inputList())
			}
		}
		rows = append(rows, row)
		lines = append(lines, line)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, at(line+1, "the line is over %d bytes", maxReferenceLine)
		}
		return nil, fmt.Errorf("read %s: %w", ReferenceFile, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s holds no records; want one JSON object per line", ReferenceFile)
	}
	t, err := m.inputTable(rows)
	if err != nil {
		var ie *InputError
		if errors.As(err, &ie) && ie.Row > 0 {
			e := *ie
			e.Row = 0
			return nil, at(lines[ie.Row-1], "%s", e.Error())
		}
		return nil, fmt.Errorf("%s: %w", ReferenceFile, err)
	}
	return t, nil
}
