package fetch

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	getter "github.com/hashicorp/go-getter"

	"github.com/slipway-ml/slipway/runners/fetch/internal/archivecheck"
	"github.com/slipway-ml/slipway/runners/fetch/internal/source"
)

// tarCompression maps a compressed-tar archive kind to the decompressor of
// its compression layer.
var tarCompression = map[string]string{
	"tar.gz": "gz", "tgz": "gz",
	"tar.bz2": "bz2", "tbz2": "bz2",
	"tar.xz": "xz", "txz": "xz",
	"tar.zst": "zst", "tzst": "zst",
}

// tarOverhead is the room left for tar headers when a compressed tar is
// decompressed: 1 MiB plus 16 KiB per allowed entry.
func tarOverhead(maxFiles int) int64 { return 1<<20 + int64(maxFiles)*16<<10 }

// unpack extracts the one file of the archive at archivePath into work and
// returns its path and base name. Entries are checked before anything is
// extracted, and the extracted tree is checked again.
func (f *Fetcher) unpack(ctx context.Context, archivePath string, src *source.Source, work string) (string, string, error) {
	maxBytes, maxFiles := f.cfg.maxBytes, f.cfg.maxFiles
	kind := src.Archive
	if comp, ok := tarCompression[kind]; ok {
		limit := maxBytes + tarOverhead(maxFiles)
		tarPath := filepath.Join(work, "archive.tar")
		if err := decompressFile(comp, archivePath, tarPath, limit, &limitError{what: "decompressed archive", limit: maxBytes}); err != nil {
			return "", "", err
		}
		archivePath, kind = tarPath, "tar"
	}
	if err := ctx.Err(); err != nil {
		return "", "", err
	}
	switch kind {
	case "tar", "zip":
		m, err := inspectArchiveFile(kind, archivePath, maxFiles, maxBytes)
		if err != nil {
			return "", "", err
		}
		out := filepath.Join(work, "out")
		d := getter.LimitedDecompressors(maxFiles+1, maxBytes+1)[kind]
		if err := d.Decompress(out, archivePath, true, 0o077); err != nil {
			return "", "", fmt.Errorf("extract %s archive: %w", kind, err)
		}
		p, err := checkExtracted(out, m.Name, m.Size)
		if err != nil {
			return "", "", err
		}
		return p, path.Base(m.Name), nil
	}
	name := strings.TrimSuffix(src.Name, "."+kind)
	if name == "" || name == src.Name {
		name = src.Name
	}
	out := filepath.Join(work, "unpacked")
	if err := decompressFile(kind, archivePath, out, maxBytes, &limitError{what: "decompressed file", limit: maxBytes}); err != nil {
		return "", "", err
	}
	return out, name, nil
}

// decompressFile decompresses the single-file format kind from src to dst
// with go-getter, failing with tooLarge when the result would exceed limit
// bytes.
func decompressFile(kind, src, dst string, limit int64, tooLarge *limitError) error {
	d, ok := getter.LimitedDecompressors(0, limit+1)[kind]
	if !ok {
		return fmt.Errorf("unknown compression %q", kind)
	}
	if err := d.Decompress(dst, src, false, 0o077); err != nil {
		return fmt.Errorf("decompress %s: %w", kind, err)
	}
	fi, err := os.Stat(dst)
	if err != nil {
		return fmt.Errorf("decompress %s: %w", kind, err)
	}
	if fi.Size() > limit {
		return tooLarge
	}
	return nil
}

// inspectArchiveFile checks the tar or zip archive at p with
// archivecheck and returns its one file, refusing one over maxBytes.
func inspectArchiveFile(kind, p string, maxFiles int, maxBytes int64) (archivecheck.Member, error) {
	fh, err := os.Open(p)
	if err != nil {
		return archivecheck.Member{}, err
	}
	defer fh.Close()
	var m archivecheck.Member
	if kind == "tar" {
		m, err = archivecheck.Tar(fh, maxFiles)
	} else {
		var fi os.FileInfo
		if fi, err = fh.Stat(); err == nil {
			m, err = archivecheck.Zip(fh, fi.Size(), maxFiles)
		}
	}
	if err != nil {
		return archivecheck.Member{}, err
	}
	if m.Size > maxBytes {
		return archivecheck.Member{}, &limitError{what: fmt.Sprintf("archive entry %q", m.Name), limit: maxBytes}
	}
	return m, nil
}

// checkExtracted makes the extracted tree at out writable by its owner
// only, and checks that it holds exactly one file, member, of size bytes,
// and nothing but directories besides. It returns the file's path.
func checkExtracted(out, member string, size int64) (string, error) {
	var found string
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.Chmod(p, 0o700)
		case d.Type().IsRegular():
			if found != "" {
				return fmt.Errorf("extracted archive holds more than one file")
			}
			found = p
			return os.Chmod(p, 0o600)
		}
		return fmt.Errorf("extracted archive holds %s, which is not a regular file", p)
	})
	if err != nil {
		return "", fmt.Errorf("check extracted archive: %w", err)
	}
	want := filepath.Join(out, filepath.FromSlash(member))
	if found != want {
		return "", fmt.Errorf("check extracted archive: found %q, want %q", found, want)
	}
	fi, err := os.Stat(found)
	if err != nil {
		return "", fmt.Errorf("check extracted archive: %w", err)
	}
	if fi.Size() != size {
		return "", fmt.Errorf("check extracted archive: %s has %d bytes, the archive says %d", member, fi.Size(), size)
	}
	return found, nil
}
