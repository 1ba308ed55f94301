package artifact

import (
	"errors"
	"fmt"
)

// Errors a *BlobError wraps, to test with errors.Is.
var (
	// ErrBlobMissing: the blob is not there.
	ErrBlobMissing = errors.New("blob missing")
	// ErrBlobTruncated: the blob is shorter than its descriptor says.
	ErrBlobTruncated = errors.New("blob truncated")
	// ErrBlobTooLong: the blob is longer than its descriptor says.
	ErrBlobTooLong = errors.New("blob longer than its descriptor")
	// ErrBlobDigest: the blob's sha256 differs from its descriptor's
	// digest (its content changed).
	ErrBlobDigest = errors.New("blob digest mismatch")
)

// ErrNotModelPack is matched (errors.Is) by the error for a manifest or
// config that is not a Slipway ModelPack artifact.
var ErrNotModelPack = errors.New("not a Slipway ModelPack model artifact")

// ErrUnsafePath is matched by the error for a file path that is absolute,
// climbs out of its directory ("..") or is otherwise not a plain relative
// path.
var ErrUnsafePath = errors.New("unsafe file path")

// BlobError reports a blob whose content does not match its descriptor.
type BlobError struct {
	// Blob says which blob: "manifest", "config" or `layer "model.bin"`.
	Blob string
	// Digest is the digest the descriptor gives.
	Digest string
	// Err is ErrBlobMissing, ErrBlobTruncated, ErrBlobTooLong or
	// ErrBlobDigest.
	Err error
	// Detail says what was found, for example "read 10 of 20 bytes".
	Detail string
}

// Error says which blob, its digest, what is wrong and what was found.
func (e *BlobError) Error() string {
	s := fmt.Sprintf("%s %s: %v", e.Blob, e.Digest, e.Err)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns Err.
func (e *BlobError) Unwrap() error { return e.Err }

// notModelPack returns an error matching ErrNotModelPack with the reason.
func notModelPack(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotModelPack, fmt.Sprintf(format, args...))
}
