package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/slipway-ml/slipway/backends/output"
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
	if err := output.WriteFile(filepath.Join(dir, JSONFile), js); err != nil {
		return err
	}
	return output.WriteFile(filepath.Join(dir, HTMLFile), page.Bytes())
}
