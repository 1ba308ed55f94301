// Package pii keeps personal data out of features, logs and reports: it
// drops the columns a spec marks pii, or replaces their values by keyed
// pseudonyms (features.pii.action "drop" or "pseudonymize").
//
// A pseudonym is the first 32 hex digits (128 bits) of
// HMAC-SHA256(key, value), where value is the text of the value as
// table.Column.Text gives it. The same key and value give the same
// pseudonym in every column, dataset and run, so pseudonymized columns
// still join and group; without the key a pseudonym cannot be recomputed
// from a guessed value. 128 bits keep pseudonyms short while leaving a
// collision between two of a billion distinct values at odds below one in
// 10^20.
package pii

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"maps"
	"os"
	"slices"

	"github.com/slipway-ml/slipway/runners/train/table"
)

// The actions, as the spec's features.pii.action names them.
const (
	// Drop removes the columns.
	Drop = "drop"
	// Pseudonymize replaces each value by its pseudonym.
	Pseudonymize = "pseudonymize"
)

// KeyEnv is the environment variable a compiled pipeline sets, in the
// step that applies PII handling, from the secret features.pii.keySecret
// names.
const KeyEnv = "SLIPWAY_PII_KEY"

// MinKeyBytes is the shortest HMAC key accepted. A short key can be found
// by trying keys against a known value and its pseudonym.
const MinKeyBytes = 16

// PseudonymLen is the length of a pseudonym in hex digits.
const PseudonymLen = 32

// Apply applies action to the named columns of t and returns the result;
// t is not changed. "drop" removes the columns. "pseudonymize" replaces
// each value by Pseudonym(key, value), keeping nulls null; the column
// becomes a category column if it was one and a string column otherwise.
// Naming a column t lacks is an error, as is an unknown action, and for
// "pseudonymize" a key shorter than MinKeyBytes. The key never appears in
// an error.
func Apply(t *table.Table, columns []string, action string, key []byte) (*table.Table, error) {
	if action != Drop && action != Pseudonymize {
		return nil, fmt.Errorf("pii: unknown action %q; expected %q or %q", action, Drop, Pseudonymize)
	}
	set := make(map[string]bool, len(columns))
	for _, name := range columns {
		if t.Column(name) == nil {
			return nil, fmt.Errorf("pii: column %q is marked pii but is not in the data", name)
		}
		set[name] = true
	}
	if action == Drop {
		names := slices.Sorted(maps.Keys(set))
		out, err := t.Drop(names...)
		if err != nil {
			return nil, fmt.Errorf("pii: %w", err)
		}
		return out, nil
	}
	if err := checkKey(key, "the secret features.pii.keySecret names"); err != nil {
		return nil, err
	}
	if len(set) == 0 {
		return t, nil
	}
	mac := hmac.New(sha256.New, key)
	cols := make([]*table.Column, len(t.Columns()))
	for j, c := range t.Columns() {
		if set[c.Name] {
			cols[j] = pseudonymize(c, mac)
		} else {
			cols[j] = c
		}
	}
	out, err := table.New(cols...)
	if err != nil {
		return nil, fmt.Errorf("pii: %w", err)
	}
	return out, nil
}

// checkKey refuses a missing key, or one too short to keep pseudonyms
// from being reversed; from says where the key comes from.
func checkKey(key []byte, from string) error {
	if len(key) == 0 {
		return fmt.Errorf("pii: pseudonymize needs an HMAC key from %s, and it is empty or unset", from)
	}
	if len(key) < MinKeyBytes {
		return fmt.Errorf("pii: the HMAC key from %s is %d bytes; at least %d are needed", from, len(key), MinKeyBytes)
	}
	return nil
}

// Pseudonym returns the pseudonym of value under key: the first
// PseudonymLen hex digits of HMAC-SHA256(key, value).
func Pseudonym(key []byte, value string) string {
	return pseudonym(hmac.New(sha256.New, key), value)
}

func pseudonym(mac hash.Hash, value string) string {
	mac.Reset()
	mac.Write([]byte(value))
	var sum [sha256.Size]byte
	return hex.EncodeToString(mac.Sum(sum[:0])[:PseudonymLen/2])
}

// pseudonymize returns c with each value replaced by its pseudonym,
// computing each distinct value's once.
func pseudonymize(c *table.Column, mac hash.Hash) *table.Column {
	typ := table.String
	if c.Type == table.Category {
		typ = table.Category
	}
	n := c.Len()
	out := &table.Column{Name: c.Name, Type: typ, Codes: make([]int32, n)}
	codes := map[string]int32{} // pseudonym -> code in out
	code := func(p string) int32 {
		k, ok := codes[p]
		if !ok {
			k = int32(len(out.Dict))
			codes[p] = k
			out.Dict = append(out.Dict, p)
		}
		return k
	}
	if c.Type.Text() {
		byOld := make([]int32, len(c.Dict))
		for k := range byOld {
			byOld[k] = -1
		}
		for i, old := range c.Codes {
			if old < 0 {
				out.Codes[i] = -1
				continue
			}
			if byOld[old] < 0 {
				byOld[old] = code(pseudonym(mac, c.Dict[old]))
			}
			out.Codes[i] = byOld[old]
		}
		return out
	}
	byText := map[string]int32{}
	for i := range n {
		s, ok := c.Text(i)
		if !ok {
			out.Codes[i] = -1
			continue
		}
		k, seen := byText[s]
		if !seen {
			k = code(pseudonym(mac, s))
			byText[s] = k
		}
		out.Codes[i] = k
	}
	return out
}

// KeyFromEnv returns the HMAC key for pseudonymize: the value of the
// environment variable KeyEnv, which a compiled pipeline sets from the
// secret, or else of the variable named like the secret itself (as when
// running locally with the secret exported under its own name). The key
// must be at least MinKeyBytes long; errors name the secret and the
// variables, never the key.
func KeyFromEnv(secretName string) ([]byte, error) {
	where := fmt.Sprintf("secret %q (environment variable %s or %s)", secretName, KeyEnv, secretName)
	v := os.Getenv(KeyEnv)
	if v == "" && secretName != "" {
		v = os.Getenv(secretName)
	}
	if err := checkKey([]byte(v), where); err != nil {
		return nil, err
	}
	return []byte(v), nil
}
