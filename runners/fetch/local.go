package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/slipway-ml/slipway/runners/fetch/internal/source"
)

// copyLocal copies the local file of src into dst, hashing it on the way,
// and returns its hex sha256 and size. The file is opened through an
// os.Root on the pipeline directory (or an allowed local directory), so
// neither ".." nor a symbolic link can lead outside it.
func (f *Fetcher) copyLocal(ctx context.Context, src *source.Source, baseDir, dst string) (string, int64, error) {
	if baseDir == "" {
		return "", 0, fmt.Errorf("no pipeline directory given to read the local file %s in", src.Local)
	}
	base, err := filepath.Abs(baseDir)
	if err != nil {
		return "", 0, fmt.Errorf("pipeline directory %s: %w", baseDir, err)
	}
	rootDir, rel, err := f.localRoot(base, src)
	if err != nil {
		return "", 0, err
	}
	root, err := os.OpenRoot(rootDir)
	if err != nil {
		return "", 0, fmt.Errorf("open pipeline directory: %w", err)
	}
	defer root.Close()
	in, err := openRegular(root, rel)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return "", 0, fmt.Errorf("file %s does not exist in %s", filepath.FromSlash(rel), rootDir)
		case isEscape(err):
			return "", 0, fmt.Errorf("%s leads outside %s: only relative symbolic links that stay inside are followed", filepath.FromSlash(rel), rootDir)
		}
		return "", 0, err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return "", 0, fmt.Errorf("stat %s: %w", rel, err)
	}
	if fi.Size() > f.cfg.maxBytes {
		return "", 0, &limitError{what: "file " + filepath.FromSlash(rel), limit: f.cfg.maxBytes}
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", 0, fmt.Errorf("create %s: %w", dst, err)
	}
	h := sha256.New()
	body := &limitedBody{r: ctxReader{ctx, in}, total: fi.Size(), max: f.cfg.maxBytes, what: "file " + filepath.FromSlash(rel), source: src.Raw, progress: f.cfg.progress}
	n, err := io.Copy(io.MultiWriter(out, h), body)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, fmt.Errorf("copy %s: %w", rel, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// localRoot returns the directory a local source is read in and its path
// relative to it: base for a relative path; for an absolute one, base or
// the WithLocalDirs directory that holds it.
func (f *Fetcher) localRoot(base string, src *source.Source) (string, string, error) {
	if !src.Abs {
		return base, filepath.FromSlash(src.Local), nil
	}
	p := filepath.FromSlash(src.Local)
	dirs := append([]string{base}, f.cfg.localDirs...)
	for _, d := range dirs {
		d, err := filepath.Abs(d)
		if err != nil {
			continue
		}
		cands := []string{d}
		if real, err := filepath.EvalSymlinks(d); err == nil && real != d {
			cands = append(cands, real)
		}
		for _, c := range cands {
			if rel, err := filepath.Rel(c, p); err == nil && filepath.IsLocal(rel) {
				return d, rel, nil
			}
		}
	}
	return "", "", fmt.Errorf("local file %s is outside the pipeline directory %s%s", p, base, otherDirs(f.cfg.localDirs))
}

// otherDirs lists the extra local directories for a message.
func otherDirs(dirs []string) string {
	if len(dirs) == 0 {
		return ""
	}
	return " and the allowed directories " + strings.Join(dirs, ", ")
}

// openRegular opens name in root, refusing anything but a regular file
// (a FIFO would block, a directory is not a dataset).
func openRegular(root *os.Root, name string) (*os.File, error) {
	fi, err := root.Stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", name, fi.Mode().Type())
	}
	fh, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	if fi2, err := fh.Stat(); err != nil || !os.SameFile(fi, fi2) {
		fh.Close()
		return nil, fmt.Errorf("%s changed while it was opened", name)
	}
	return fh, nil
}

// isEscape reports an os.Root refusal of a path that leaves the root.
func isEscape(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && pe.Err != nil && pe.Err.Error() == "path escapes from parent"
}
