package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// lockState takes an exclusive lock on the state directory, so that two
// runs never share its cache's temporary area.
func lockState(ctx context.Context, stateDir string) (func(), error) {
	return LockFile(ctx, filepath.Join(stateDir, "lock"))
}

// LockFile takes an exclusive lock on a file (made, with its directory,
// when missing), waiting while another process holds it until ctx ends.
// The returned function releases it.
func LockFile(ctx context.Context, name string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if err != syscall.EWOULDBLOCK {
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: %w", name, err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: another process holds it: %w", name, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
