package local

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/slipway-ml/slipway/backends/output"
)

// Cache is the content-addressed store of step outputs under a state
// directory's cache/steps. An entry is a directory named by the step's run
// key holding out/<artifact>/... and manifest.json. Entries are made in
// cache/tmp and renamed into place whole, so an entry that exists is
// complete: a run killed at any point leaves at most a directory in tmp,
// which the next run removes.
type Cache struct {
	dir string
}

// Manifest describes a cache entry.
type Manifest struct {
	// Step is the id of the step that produced the entry.
	Step string `json:"step"`
	// Key is the run key: the step's cache key combined with the digests
	// of the inputs it actually read.
	Key string `json:"key"`
	// CacheKey is the step's compile-time cache key.
	CacheKey string `json:"cacheKey"`
	// Outputs maps each artifact the step wrote to its digest and files.
	Outputs map[string]Artifact `json:"outputs"`
	// RunID is the run that produced the entry.
	RunID string `json:"runId"`
	// Seconds is how long the step took.
	Seconds float64 `json:"seconds"`
	// Created is when the entry was made.
	Created time.Time `json:"created"`
}

// Artifact is one output of a step.
type Artifact struct {
	// Digest is the sha256 over the artifact's file names, sizes and
	// content digests.
	Digest string `json:"digest"`
	// Files are the artifact's files, sorted by path.
	Files []File `json:"files"`
}

// File is one file of an artifact.
type File struct {
	// Path is slash-separated, relative to the artifact's directory.
	Path string `json:"path"`
	// Size in bytes.
	Size int64 `json:"size"`
	// SHA256 is the hex digest of the content.
	SHA256 string `json:"sha256"`
}

// Entry is a committed cache entry.
type Entry struct {
	// Dir is the entry's directory.
	Dir string
	// Manifest describes it.
	Manifest Manifest
}

// OutputDir is the directory holding the named artifact.
func (e *Entry) OutputDir(name string) string {
	return filepath.Join(e.Dir, "out", filepath.FromSlash(name))
}

// OpenCache opens (creating) the cache under stateDir.
func OpenCache(stateDir string) (*Cache, error) {
	c := &Cache{dir: filepath.Join(stateDir, "cache")}
	for _, d := range []string{c.stepsDir(), c.tmpDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("open cache: %w", err)
		}
	}
	return c, nil
}

func (c *Cache) stepsDir() string { return filepath.Join(c.dir, "steps") }
func (c *Cache) tmpDir() string   { return filepath.Join(c.dir, "tmp") }

// Dir is the cache's directory.
func (c *Cache) Dir() string { return c.dir }

// entryDir is where the entry of a run key lives.
func (c *Cache) entryDir(key string) string {
	return filepath.Join(c.stepsDir(), strings.TrimPrefix(key, "sha256:"))
}

// Lookup returns the entry of a run key. An entry whose manifest is
// unreadable, names another key, or lists a file that is missing or has
// another size, is treated as absent (and removed).
func (c *Cache) Lookup(key string) (*Entry, bool) {
	dir := c.entryDir(key)
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, false
	}
	e := &Entry{Dir: dir}
	if json.Unmarshal(b, &e.Manifest) != nil || e.Manifest.Key != key || c.quickCheck(e) != nil {
		_ = c.remove(dir)
		return nil, false
	}
	return e, true
}

// quickCheck compares each file's size with the manifest.
func (c *Cache) quickCheck(e *Entry) error {
	for name, a := range e.Manifest.Outputs {
		for _, f := range a.Files {
			fi, err := os.Stat(filepath.Join(e.OutputDir(name), filepath.FromSlash(f.Path)))
			if err != nil {
				return err
			}
			if fi.Size() != f.Size {
				return fmt.Errorf("%s/%s: size %d, manifest says %d", name, f.Path, fi.Size(), f.Size)
			}
		}
	}
	return nil
}

// Verify re-hashes every file of every entry against its manifest and
// returns the problems found.
func (c *Cache) Verify() ([]string, error) {
	ents, err := os.ReadDir(c.stepsDir())
	if err != nil {
		return nil, fmt.Errorf("verify cache: %w", err)
	}
	var problems []string
	for _, d := range ents {
		key := "sha256:" + d.Name()
		e, ok := c.Lookup(key)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: unreadable or incomplete entry", d.Name()))
			continue
		}
		for _, name := range sortedKeys(e.Manifest.Outputs) {
			got, err := digestDir(e.OutputDir(name))
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %s: %v", d.Name(), name, err))
				continue
			}
			if got.Digest != e.Manifest.Outputs[name].Digest {
				problems = append(problems, fmt.Sprintf("%s: %s: content digest %s, manifest says %s", d.Name(), name, got.Digest, e.Manifest.Outputs[name].Digest))
			}
		}
	}
	return problems, nil
}

// Pending is an entry being made.
type Pending struct {
	c       *Cache
	dir     string
	outputs []string
}

// Begin starts an entry with an empty directory for each named output.
func (c *Cache) Begin(outputs []string) (*Pending, error) {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	dir := filepath.Join(c.tmpDir(), hex.EncodeToString(rnd[:]))
	p := &Pending{c: c, dir: dir, outputs: slices.Clone(outputs)}
	// The entry's directory exists even for a step with no outputs.
	if err := os.MkdirAll(filepath.Join(dir, "out"), 0o755); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	for _, o := range outputs {
		if err := os.MkdirAll(filepath.Join(dir, "out", filepath.FromSlash(o)), 0o755); err != nil {
			_ = c.remove(dir)
			return nil, fmt.Errorf("cache: %w", err)
		}
	}
	return p, nil
}

// OutputDir is the directory the step writes the named artifact into.
func (p *Pending) OutputDir(name string) string {
	return filepath.Join(p.dir, "out", filepath.FromSlash(name))
}

// Abort removes the pending entry.
func (p *Pending) Abort() { _ = p.c.remove(p.dir) }

// Commit digests the outputs, writes the manifest and renames the entry
// into place under key. When another process committed the same key
// first, its entry is kept and returned.
func (p *Pending) Commit(m Manifest) (*Entry, error) {
	m.Outputs = map[string]Artifact{}
	for _, o := range p.outputs {
		a, err := digestDir(p.OutputDir(o))
		if err != nil {
			p.Abort()
			return nil, fmt.Errorf("cache: output %s: %w", o, err)
		}
		m.Outputs[o] = a
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		p.Abort()
		return nil, fmt.Errorf("cache: %w", err)
	}
	if err := output.WriteFile(filepath.Join(p.dir, "manifest.json"), append(b, '\n')); err != nil {
		p.Abort()
		return nil, fmt.Errorf("cache: %w", err)
	}
	final := p.c.entryDir(m.Key)
	if err := os.Rename(p.dir, final); err != nil {
		p.Abort()
		if e, ok := p.c.Lookup(m.Key); ok {
			return e, nil
		}
		return nil, fmt.Errorf("cache: commit %s: %w", m.Step, err)
	}
	syncDir(p.c.stepsDir())
	return &Entry{Dir: final, Manifest: m}, nil
}

// CleanTmp removes what killed runs left in tmp. Call it only while
// holding the state lock.
func (c *Cache) CleanTmp() error {
	ents, err := os.ReadDir(c.tmpDir())
	if err != nil {
		return fmt.Errorf("clean cache: %w", err)
	}
	for _, e := range ents {
		if err := c.remove(filepath.Join(c.tmpDir(), e.Name())); err != nil {
			return fmt.Errorf("clean cache: %w", err)
		}
	}
	return nil
}

// remove deletes a directory tree, making read-only parts writable first.
func (c *Cache) remove(dir string) error {
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(path, 0o755)
		}
		return nil
	})
	return os.RemoveAll(dir)
}

// digestDir lists and hashes the regular files under dir. Symbolic links
// and other special files are refused.
func digestDir(dir string) (Artifact, error) {
	var a Artifact
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file", path)
		}
		rel, _ := filepath.Rel(dir, path)
		sum, size, err := hashFile(path)
		if err != nil {
			return err
		}
		a.Files = append(a.Files, File{Path: filepath.ToSlash(rel), Size: size, SHA256: sum})
		return nil
	})
	if err != nil {
		return Artifact{}, err
	}
	slices.SortFunc(a.Files, func(x, y File) int { return strings.Compare(x.Path, y.Path) })
	h := sha256.New()
	for _, f := range a.Files {
		fmt.Fprintf(h, "%s\x00%d\x00%s\n", f.Path, f.Size, f.SHA256)
	}
	a.Digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
	if a.Files == nil {
		a.Files = []File{}
	}
	return a, nil
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// syncDir flushes a directory's entries to disk, best effort.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// errNotRunnable marks a step the local runner does not execute.
var errNotRunnable = errors.New("not run locally")
