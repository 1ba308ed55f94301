package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Cache layout under Fetcher.CacheDir.
const (
	// blobDir holds fetched files, each named by the hex sha256 of its
	// content.
	blobDir = "sha256"
	// unpackedDir holds the file extracted from an archive, named by the
	// archive's hex sha256, next to a <hex>.json record of its own digest.
	unpackedDir = "unpacked"
	// tmpDir holds work in progress; it is empty between fetches.
	tmpDir = "tmp"
)

// unpackedRecord describes the file extracted from an archive.
type unpackedRecord struct {
	// Archive is the sha256 of the archive.
	Archive string `json:"archive"`
	// Name is the base name of the file inside the archive.
	Name string `json:"name"`
	// SHA256 is the sha256 of the extracted file.
	SHA256 string `json:"sha256"`
	// Size is the size of the extracted file.
	Size int64 `json:"size"`
}

// maxRecord bounds the size of an unpacked record read back.
const maxRecord = 64 << 10

func (f *Fetcher) blobPath(digest string) string {
	return filepath.Join(f.CacheDir, blobDir, digest)
}

func (f *Fetcher) unpackedPath(digest string) string {
	return filepath.Join(f.CacheDir, unpackedDir, digest)
}

// lookup returns the cache entry for digest after checking its content, or
// nil when there is none. A corrupt entry is removed. archive selects the
// extracted file of an archive rather than the fetched file itself; name
// is the source's file name.
func (f *Fetcher) lookup(ctx context.Context, digest string, archive bool, name string) (*Result, error) {
	if !archive {
		p := f.blobPath(digest)
		got, size, err := hashFile(ctx, p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil || got != digest {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, removeEntry(p)
		}
		return &Result{Path: p, SHA256: digest, Size: size, Name: name, Cached: true}, nil
	}
	p := f.unpackedPath(digest)
	rec, err := readRecord(p + ".json")
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Lstat(p); errors.Is(serr, fs.ErrNotExist) {
			return nil, nil
		}
	}
	if err == nil && rec.Archive == digest {
		got, size, herr := hashFile(ctx, p)
		if herr == nil && got == rec.SHA256 && size == rec.Size {
			return &Result{Path: p, SHA256: digest, Size: size, Name: rec.Name, Cached: true}, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return nil, errors.Join(removeEntry(p), removeEntry(p+".json"))
}

// readRecord reads an unpacked record.
func readRecord(p string) (*unpackedRecord, error) {
	fh, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var rec unpackedRecord
	if err := json.NewDecoder(io.LimitReader(fh, maxRecord)).Decode(&rec); err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	return &rec, nil
}

// removeEntry removes a corrupt cache entry; a missing one is fine.
func removeEntry(p string) error {
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove corrupt cache entry: %w", err)
	}
	return nil
}

// storeBlob moves the verified file tmp to the cache as digest.
func (f *Fetcher) storeBlob(tmp, digest string, size int64, name string) (*Result, error) {
	p := f.blobPath(digest)
	if err := place(tmp, p); err != nil {
		return nil, err
	}
	return &Result{Path: p, SHA256: digest, Size: size, Name: name}, nil
}

// storeUnpacked moves the file extracted from archive digest to the cache,
// its record first, so that a file in the cache always has one.
func (f *Fetcher) storeUnpacked(work, tmp string, rec unpackedRecord) (*Result, error) {
	p := f.unpackedPath(rec.Archive)
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode cache record: %w", err)
	}
	recTmp := filepath.Join(work, "record.json")
	if err := os.WriteFile(recTmp, append(b, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("write cache record: %w", err)
	}
	if err := place(recTmp, p+".json"); err != nil {
		return nil, err
	}
	if err := place(tmp, p); err != nil {
		return nil, err
	}
	return &Result{Path: p, SHA256: rec.Archive, Size: rec.Size, Name: rec.Name}, nil
}

// place makes tmp read-only and renames it to dst, replacing any entry
// there (a concurrent fetch of the same content writes the same bytes).
func place(tmp, dst string) error {
	if err := os.Chmod(tmp, 0o444); err != nil {
		return fmt.Errorf("store in cache: %w", err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("store in cache: %w", err)
	}
	return nil
}

// hashFile returns the hex sha256 and size of the file at p.
func hashFile(ctx context.Context, p string) (string, int64, error) {
	fh, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer fh.Close()
	h := sha256.New()
	n, err := io.Copy(h, ctxReader{ctx, fh})
	if err != nil {
		return "", 0, fmt.Errorf("hash %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// ctxReader stops reading once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// removeWork removes a work directory, first making every directory in it
// writable, since archives may carry read-only directory modes.
func removeWork(dir string) error {
	if err := os.RemoveAll(dir); err == nil {
		return nil
	}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(dir)
}
