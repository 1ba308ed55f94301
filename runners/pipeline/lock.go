package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/slipway-ml/slipway/backends/output"
	"github.com/slipway-ml/slipway/compiler"
	"github.com/slipway-ml/slipway/compiler/check"
	"github.com/slipway-ml/slipway/compiler/lock"
	"github.com/slipway-ml/slipway/runners/fetch"
)

// LockOptions configure Lock.
type LockOptions struct {
	// Compiled is the compiled package.
	Compiled *compiler.Result
	// StateDir holds the data cache. Default ".slipway".
	StateDir string
	// Update fetches again sources that the lock already pins, and takes
	// their new digests.
	Update bool
	// FetchOptions are extra fetcher options (tests).
	FetchOptions []fetch.Option
}

// LockChange is one dataset whose locked digest Lock set or changed.
type LockChange struct {
	// Dataset is "pipeline/dataset".
	Dataset string `json:"dataset"`
	// Source is the dataset's source.
	Source string `json:"source"`
	// Old and New are the digests before and after ("" when none).
	Old string `json:"old,omitempty"`
	New string `json:"new"`
}

// Lock resolves every remote dataset source that the spec does not pin
// with a sha256 — fetching it into the data cache and hashing it — and
// writes the digests to the package's slipway.lock, keeping its champions.
// Local files are not locked: the compiler digests them by content. It
// returns what changed; the lock file is rewritten only when something
// did, atomically.
func Lock(ctx context.Context, o LockOptions) ([]LockChange, error) {
	if o.StateDir == "" {
		o.StateDir = ".slipway"
	}
	l := o.Compiled.Lock
	if l == nil {
		l = &lock.Lock{Version: lock.Version}
	}
	f, err := fetch.New(filepath.Join(o.StateDir, "data"), append([]fetch.Option{fetch.WithUnpinned(true)}, o.FetchOptions...)...)
	if err != nil {
		return nil, err
	}
	var changes []LockChange
	for _, p := range o.Compiled.Program.Pipelines {
		for _, name := range sortedKeys(p.Spec.Datasets) {
			ds := p.Spec.Datasets[name]
			src, err := check.ParseSource(ds.Source)
			if err != nil {
				return nil, fmt.Errorf("lock %s/%s: %w", p.Name, name, err)
			}
			if src.Local || ds.SHA256 != "" {
				continue
			}
			key := p.Name + "/" + name
			old := l.Datasets[key].SHA256
			if old != "" && !o.Update {
				continue
			}
			res, err := f.Resolve(ctx, fetch.Request{Source: ds.Source, BaseDir: o.Compiled.Dir})
			if err != nil {
				return nil, fmt.Errorf("lock %s: %w", key, err)
			}
			if res.SHA256 == old && l.Datasets[key].Source == ds.Source {
				continue
			}
			if l.Datasets == nil {
				l.Datasets = map[string]lock.Dataset{}
			}
			l.Datasets[key] = lock.Dataset{Source: ds.Source, SHA256: res.SHA256}
			changes = append(changes, LockChange{Dataset: key, Source: ds.Source, Old: old, New: res.SHA256})
		}
	}
	if len(changes) == 0 {
		return nil, nil
	}
	b, err := l.Marshal()
	if err != nil {
		return nil, err
	}
	if err := output.WriteFile(filepath.Join(o.Compiled.Dir, lock.Filename), b); err != nil {
		return nil, fmt.Errorf("write lock: %w", err)
	}
	return changes, nil
}

// LockImage records in dir/slipway.lock that the runtime image ref was
// pushed as digest, keeping everything else in the lock; compiled targets
// then run ref@digest. It reports whether the lock changed.
func LockImage(dir, ref, digest string) (bool, error) {
	if h := strings.TrimPrefix(digest, "sha256:"); len(h) != 64 || h == digest || strings.Trim(h, "0123456789abcdef") != "" {
		return false, fmt.Errorf("lock image %s: digest %q must be sha256:<64 hex digits>", ref, digest)
	}
	name := filepath.Join(dir, lock.Filename)
	l, err := ReadLockFile(name)
	if err != nil {
		return false, err
	}
	if l.Images[ref] == digest {
		return false, nil
	}
	if l.Images == nil {
		l.Images = map[string]string{}
	}
	l.Images[ref] = digest
	return true, WriteLockFile(name, l)
}

// ReadLockFile reads a slipway.lock; a missing file is an empty lock.
func ReadLockFile(path string) (*lock.Lock, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &lock.Lock{Version: lock.Version}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read lock: %w", err)
	}
	l, err := lock.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// WriteLockFile writes a lock atomically.
func WriteLockFile(path string, l *lock.Lock) error {
	b, err := l.Marshal()
	if err != nil {
		return err
	}
	if err := output.WriteFile(path, b); err != nil {
		return fmt.Errorf("write lock: %w", err)
	}
	return nil
}
