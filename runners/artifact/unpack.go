package artifact

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
)

// Unpack verifies the artifact (Verify) and writes its files under dir,
// which it creates when needed. Each file is written to a temporary file
// beside it, synced and renamed into place, with mode 0644. Every path is
// checked (CheckPath) and every file is opened through an os.Root on dir,
// so nothing is written outside dir, not even through a symbolic link
// already in it.
func Unpack(a *Artifact, dir string) error {
	files, err := a.Files()
	if err != nil {
		return fmt.Errorf("unpack: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("unpack: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("unpack: %w", err)
	}
	defer root.Close()
	for _, f := range files {
		if err := CheckPath(f.Path); err != nil {
			return fmt.Errorf("unpack: %w", err)
		}
		if err := writeRooted(root, f.Path, f.Data); err != nil {
			return fmt.Errorf("unpack %s into %s: %w", f.Path, dir, err)
		}
	}
	return nil
}

// writeRooted writes data to name under root atomically.
func writeRooted(root *os.Root, name string, data []byte) error {
	name = filepath.FromSlash(name)
	if d := filepath.Dir(name); d != "." {
		if err := root.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	tmp := filepath.Join(filepath.Dir(name), "."+filepath.Base(name)+".tmp-"+rand.Text())
	w, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer root.Remove(tmp)
	_, err = w.Write(data)
	if err == nil {
		err = w.Chmod(0o644)
	}
	if err == nil {
		err = w.Sync()
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return root.Rename(tmp, name)
}
