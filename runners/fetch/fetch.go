// Package fetch fetches the dataset sources of a pipeline into a
// content-addressed cache, for the local runner.
//
// A source is a path relative to the pipeline directory, a file:// URL, an
// https URL, an S3 or GCS object (s3://bucket/key, gs://bucket/object, or
// go-getter's s3:: and gcs:: forms), or a file in a Git repository
// (git::https://host/repo//path?ref=rev). Sources are classified by
// check.ParseSource, the compiler's own rules.
//
// https, S3 and GCS files are fetched with hashicorp/go-getter, configured
// against its known weaknesses: an explicit allow-list of getters, no
// detectors, no netrc, no X-Terraform-Get, a size limit, timeouts, no
// symlinks. https requests, git included, go through a client that never
// uses a proxy, follows only https redirects and refuses non-public
// addresses after DNS resolution. Git files are read with go-git from the
// fetched commit's tree, without a checkout and without running git.
//
// An archive (by extension, or by the "archive" query parameter) is
// extracted by go-getter's LimitedDecompressors only after its digest is
// verified and its entries checked: it must hold exactly one regular file,
// with no links, absolute names or "..". That file becomes the dataset;
// the pinned digest is the archive's.
//
// The cache keeps every fetched file as CacheDir/sha256/<hex>, where <hex>
// is the sha256 of its content, and the file extracted from an archive as
// CacheDir/unpacked/<hex>, where <hex> is the sha256 of the archive. Files
// are written to CacheDir/tmp and renamed into place once verified, so an
// entry is never half-written.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/slipway-ml/slipway/runners/fetch/internal/source"
)

// Fetcher fetches dataset sources into a content-addressed cache. It is
// safe for concurrent use; concurrent fetches of the same source each
// verify their own copy and leave one entry.
type Fetcher struct {
	// CacheDir is the absolute root of the cache.
	CacheDir string

	cfg    config
	client *http.Client
}

// Request names a dataset to fetch.
type Request struct {
	// Source is the dataset's source as written in the pipeline.
	Source string
	// BaseDir is the pipeline directory: relative paths are read inside it
	// and no local path may leave it.
	BaseDir string
	// SHA256 is the expected hex sha256 of the file as fetched; for an
	// archive, of the archive as downloaded, not of the file inside. It may
	// be empty for local files, and for remote ones with WithUnpinned.
	SHA256 string
}

// Result is a fetched, verified dataset.
type Result struct {
	// Path is the read-only file in the cache: the fetched file, or the
	// file extracted from an archive.
	Path string
	// SHA256 is the hex sha256 of what was fetched: for an archive, of the
	// archive, which also names the extracted file in the cache.
	SHA256 string
	// Size is the size of the file at Path.
	Size int64
	// Name is the file's base name at the source, or inside the archive,
	// for readers that tell formats apart by extension.
	Name string
	// Cached reports that the cache held the file, so the source was not
	// read.
	Cached bool
}

// New returns a Fetcher caching under cacheDir, which it creates.
func New(cacheDir string, opts ...Option) (*Fetcher, error) {
	if cacheDir == "" {
		return nil, fmt.Errorf("new fetcher: cache directory is empty")
	}
	abs, err := filepath.Abs(cacheDir)
	if err != nil {
		return nil, fmt.Errorf("new fetcher: %w", err)
	}
	cfg := config{
		maxBytes: DefaultMaxBytes,
		maxFiles: DefaultMaxFiles,
		timeout:  DefaultTimeout,
		schemes:  slices.Clone(allSchemes),
		getenv:   os.Getenv,
	}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("new fetcher: %w", err)
		}
	}
	for _, d := range []string{blobDir, unpackedDir, tmpDir} {
		if err := os.MkdirAll(filepath.Join(abs, d), 0o755); err != nil {
			return nil, fmt.Errorf("new fetcher: create cache: %w", err)
		}
	}
	return &Fetcher{
		CacheDir: abs,
		cfg:      cfg,
		client:   newHTTPClient(cfg.httpClient, cfg.tlsConfig, cfg.private),
	}, nil
}

// Fetch returns the dataset r names, from the cache when r.SHA256 is given
// and the cache holds a file of that digest (checked again; a corrupt entry
// is removed and fetched anew), otherwise by fetching it. Local files are
// always read and checked against r.SHA256, so a file changed after it was
// pinned is reported. A remote source without r.SHA256 is refused unless
// the Fetcher was made WithUnpinned(true).
func (f *Fetcher) Fetch(ctx context.Context, r Request) (*Result, error) {
	return f.fetch(ctx, r, f.cfg.unpinned)
}

// Resolve fetches r like Fetch but accepts a remote source without a
// SHA256, and returns the digest it found, for recording in a lock file.
// With r.SHA256 set it behaves exactly as Fetch.
func (f *Fetcher) Resolve(ctx context.Context, r Request) (*Result, error) {
	return f.fetch(ctx, r, true)
}

func (f *Fetcher) fetch(ctx context.Context, r Request, unpinned bool) (*Result, error) {
	res, err := f.get(ctx, r, unpinned)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", source.Redact(r.Source), err)
	}
	return res, nil
}

func (f *Fetcher) get(parent context.Context, r Request, unpinned bool) (*Result, error) {
	src, err := source.Parse(r.Source, f.cfg.getenv)
	if err != nil {
		return nil, err
	}
	want, err := source.ParseDigest(r.SHA256)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(f.cfg.schemes, src.Kind) {
		return nil, fmt.Errorf("%s sources are not allowed here (allowed: %s)", src.Kind, strings.Join(f.cfg.schemes, ", "))
	}
	remote := src.Kind != SchemeFile
	if remote && want == "" && !unpinned {
		return nil, fmt.Errorf("remote source has no sha256: pin it (slipway lock records it)")
	}
	if err := parent.Err(); err != nil {
		return nil, err
	}
	ctx := parent
	if f.cfg.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(parent, f.cfg.timeout)
		defer cancel()
	}
	res, err := f.acquire(ctx, src, r.BaseDir, want, remote)
	if err != nil {
		return nil, f.explain(parent, ctx, err)
	}
	return res, nil
}

// acquire returns the verified file from the cache or the source.
func (f *Fetcher) acquire(ctx context.Context, src *source.Source, baseDir, want string, remote bool) (*Result, error) {
	if remote && want != "" {
		res, err := f.lookup(ctx, want, src.Archive != "", src.Name)
		if err != nil || res != nil {
			return res, err
		}
	}
	work, err := os.MkdirTemp(filepath.Join(f.CacheDir, tmpDir), "fetch-")
	if err != nil {
		return nil, fmt.Errorf("create work directory: %w", err)
	}
	defer removeWork(work)
	download := filepath.Join(work, "download")
	var got string
	var size int64
	switch src.Kind {
	case SchemeFile:
		got, size, err = f.copyLocal(ctx, src, baseDir, download)
	case SchemeGit:
		got, size, err = f.fetchGit(ctx, src, work, download)
	default:
		if err = f.download(ctx, src, want, download); err == nil {
			got, size, err = hashFile(ctx, download)
		}
	}
	if err != nil {
		return nil, err
	}
	if size > f.cfg.maxBytes {
		return nil, &limitError{what: "file", limit: f.cfg.maxBytes}
	}
	if want != "" && got != want {
		return nil, &MismatchError{Expected: want, Actual: got}
	}
	if src.Archive == "" {
		return f.storeBlob(download, got, size, src.Name)
	}
	member, name, err := f.unpack(ctx, download, src, work)
	if err != nil {
		return nil, err
	}
	sum, msize, err := hashFile(ctx, member)
	if err != nil {
		return nil, err
	}
	return f.storeUnpacked(work, member, unpackedRecord{Archive: got, Name: name, SHA256: sum, Size: msize})
}

// explain turns the error of a failed fetch into one that says what
// happened in the user's terms, keeping errors.Is and errors.As working.
func (f *Fetcher) explain(parent, ctx context.Context, err error) error {
	var (
		le *limitError
		be *blockedAddrError
		re *redirectError
		me *MismatchError
	)
	switch {
	case errors.As(err, &le):
		return le
	case errors.As(err, &be):
		return be
	case errors.As(err, &re):
		return re
	case errors.As(err, &me):
		return me
	case parent.Err() != nil:
		return parent.Err()
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("timed out after %s: %w", f.cfg.timeout.Round(time.Millisecond), context.DeadlineExceeded)
	}
	return err
}
