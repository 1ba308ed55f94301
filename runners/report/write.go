package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// File names of the report in a run directory.
const (
	// JSONFile is the machine-readable report.
	JSONFile = "report.json"
	// HTMLFile is the page for people.
	HTMLFile = "report.html"
)

// Write writes the report to dir/report.json (Marshal) and
// dir/report.html (HTML), creating dir if needed. Both are rendered before
// anything is written, so a report that cannot be rendered leaves dir
// untouched; each file is written to a temporary file in dir and renamed
// into place, so a reader never sees a half-written one.
func Write(dir string, r *Report) error {
	js, err := Marshal(r)
	if err != nil {
		return err
	}
	var page bytes.Buffer
	if err := HTML(&page, r); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := writeFile(filepath.Join(dir, JSONFile), js); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, HTMLFile), page.Bytes())
}

// writeFile writes data to name atomically: to a temporary file in the
// same directory, synced, then renamed over name.
func writeFile(name string, data []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", name, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("chmod %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("rename %s: %w", name, err)
	}
	return nil
}
