// Package lock reads and writes slipway.lock: the resolved digests of
// datasets and the champion model per pipeline and environment. The
// compiler reads it so that compiled output is hermetic; `slipway lock` and
// `slipway apply` write it.
package lock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/slipway-ml/slipway/compiler/diag"
)

// Filename is the lock file's name in a pipeline directory.
const Filename = "slipway.lock"

// Version is the lock format version this build reads and writes.
const Version = 1

// Lock is the content of slipway.lock.
type Lock struct {
	// Version is the format version.
	Version int `json:"version"`
	// Datasets maps "pipeline/dataset" to its resolved source.
	Datasets map[string]Dataset `json:"datasets,omitempty"`
	// Champions maps pipeline name, then environment name, to the model
	// serving there.
	Champions map[string]map[string]Champion `json:"champions,omitempty"`
	// History maps pipeline name, then environment name, to the models
	// that served there before the champion, newest first (at most
	// MaxHistory); `slipway rollback` restores the first.
	History map[string]map[string][]Champion `json:"history,omitempty"`
	// Images maps a runtime image reference, as a spec's image names it,
	// to the digest it was pushed as (`slipway image build --push REF
	// --lock DIR`); compiled targets then run REF@digest.
	Images map[string]string `json:"images,omitempty"`
}

// MaxHistory is how many earlier champions the lock keeps per environment.
const MaxHistory = 10

// Promote makes c the champion of a pipeline in an environment, keeping
// the one it replaces in the history. It reports whether anything changed:
// promoting the champion again changes nothing.
func (l *Lock) Promote(pipeline, env string, c Champion) bool {
	old, ok := l.Champion(pipeline, env)
	if ok && old.Digest == c.Digest {
		return false
	}
	if l.Champions == nil {
		l.Champions = map[string]map[string]Champion{}
	}
	if l.Champions[pipeline] == nil {
		l.Champions[pipeline] = map[string]Champion{}
	}
	l.Champions[pipeline][env] = c
	if ok {
		if l.History == nil {
			l.History = map[string]map[string][]Champion{}
		}
		if l.History[pipeline] == nil {
			l.History[pipeline] = map[string][]Champion{}
		}
		h := append([]Champion{old}, l.History[pipeline][env]...)
		l.History[pipeline][env] = h[:min(len(h), MaxHistory)]
	}
	return true
}

// Rollback restores the previous champion of a pipeline in an
// environment, and returns it; the champion it replaces is dropped.
func (l *Lock) Rollback(pipeline, env string) (Champion, error) {
	h := l.History[pipeline][env]
	if len(h) == 0 {
		return Champion{}, fmt.Errorf("rollback %s/%s: the lock records no earlier champion", pipeline, env)
	}
	l.Champions[pipeline][env] = h[0]
	l.History[pipeline][env] = h[1:]
	if len(h) == 1 {
		delete(l.History[pipeline], env)
	}
	return h[0], nil
}

// ImageDigest returns the locked digest of an image reference, or "".
func (l *Lock) ImageDigest(ref string) string {
	if l == nil {
		return ""
	}
	return l.Images[ref]
}

// Dataset is a resolved dataset source.
type Dataset struct {
	// Source is the source URL as resolved.
	Source string `json:"source"`
	// SHA256 is the hex digest of the fetched file.
	SHA256 string `json:"sha256"`
}

// Champion is the model currently serving in an environment.
type Champion struct {
	// Digest is the OCI manifest digest of the model artifact.
	Digest string `json:"digest"`
	// Metrics are the model's evaluation metrics.
	Metrics map[string]float64 `json:"metrics,omitempty"`
}

// DatasetDigest returns the locked sha256 of a dataset, or "".
func (l *Lock) DatasetDigest(pipeline, dataset string) string {
	if l == nil {
		return ""
	}
	return l.Datasets[pipeline+"/"+dataset].SHA256
}

// Champion returns the champion of a pipeline in an environment.
func (l *Lock) Champion(pipeline, env string) (Champion, bool) {
	if l == nil {
		return Champion{}, false
	}
	c, ok := l.Champions[pipeline][env]
	return c, ok
}

// Read reads dir/slipway.lock from fsys. A missing file is an empty lock.
// root is the absolute name that fsys's root stands for in positions.
func Read(fsys fs.FS, dir, root string) (*Lock, diag.Diagnostics) {
	name := strings.TrimPrefix(dir+"/"+Filename, "./")
	data, err := fs.ReadFile(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return &Lock{Version: Version}, nil
	}
	file := strings.TrimSuffix(root, "/") + "/" + name
	var ds diag.Diagnostics
	if err != nil {
		ds.Errorf(diag.Pos{File: file}, "", "lock", "cannot read the lock file: %v", err)
		return nil, ds
	}
	l, err := Parse(data)
	if err != nil {
		var pe *ParseError
		pos := diag.Pos{File: file}
		if errors.As(err, &pe) {
			pos.Line, pos.Column = pe.Line, pe.Column
		}
		ds.Errorf(pos, "", "lock", "%v", err)
		return nil, ds
	}
	return l, nil
}

// ParseError is a syntax or content error in a lock file, with the
// position where it was found.
type ParseError struct {
	// Line and Column are 1-based; 0 when unknown.
	Line, Column int
	// Msg says what is wrong.
	Msg string
}

// Error is the message (which names the position).
func (e *ParseError) Error() string { return e.Msg }

// Parse decodes a lock file strictly: unknown fields, a wrong version and
// malformed digests are errors.
func Parse(data []byte) (*Lock, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var l Lock
	if err := dec.Decode(&l); err != nil {
		line, col := 0, 0
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			line, col = lineCol(data, max(se.Offset-1, 0))
		case errors.As(err, &te):
			line, col = lineCol(data, te.Offset)
		}
		return nil, &ParseError{Line: line, Column: col, Msg: fmt.Sprintf("invalid lock file: %v", err)}
	}
	if dec.More() {
		return nil, &ParseError{Msg: "invalid lock file: data after the top-level object"}
	}
	if l.Version != Version {
		return nil, &ParseError{Msg: fmt.Sprintf("lock file version %d is not supported (this Slipway reads version %d)", l.Version, Version)}
	}
	for _, k := range sortedKeys(l.Datasets) {
		if !isHex64(l.Datasets[k].SHA256) {
			return nil, &ParseError{Msg: fmt.Sprintf("dataset %q: sha256 must be 64 lower-case hex digits", k)}
		}
	}
	for _, p := range sortedKeys(l.Champions) {
		for _, e := range sortedKeys(l.Champions[p]) {
			d := l.Champions[p][e].Digest
			if !strings.HasPrefix(d, "sha256:") || !isHex64(strings.TrimPrefix(d, "sha256:")) {
				return nil, &ParseError{Msg: fmt.Sprintf("champion %s/%s: digest %q must be sha256:<64 hex digits>", p, e, d)}
			}
		}
	}
	for _, p := range sortedKeys(l.History) {
		for _, e := range sortedKeys(l.History[p]) {
			for _, c := range l.History[p][e] {
				if !strings.HasPrefix(c.Digest, "sha256:") || !isHex64(strings.TrimPrefix(c.Digest, "sha256:")) {
					return nil, &ParseError{Msg: fmt.Sprintf("history %s/%s: digest %q must be sha256:<64 hex digits>", p, e, c.Digest)}
				}
			}
		}
	}
	for _, ref := range sortedKeys(l.Images) {
		d := l.Images[ref]
		if !strings.HasPrefix(d, "sha256:") || !isHex64(strings.TrimPrefix(d, "sha256:")) {
			return nil, &ParseError{Msg: fmt.Sprintf("image %q: digest %q must be sha256:<64 hex digits>", ref, d)}
		}
	}
	return &l, nil
}

// Marshal encodes the lock with sorted keys and a trailing newline.
func (l *Lock) Marshal() ([]byte, error) {
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode lock: %w", err)
	}
	return append(data, '\n'), nil
}

func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line, col := 1, 1
	for _, b := range data[:off] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
