package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The ownership and permissions of the entries in the image's layer.
const (
	// UID is the user id of the nonroot user the image runs as.
	UID = 65532
	// GID is the group id of the nonroot user's group.
	GID = 65532
	// userName names UID and GID in /etc/passwd, /etc/group and the tar
	// headers.
	userName = "nonroot"

	modeDir    = 0o755
	modeFile   = 0o644
	modeBinary = 0o755
	modeTmp    = 0o1777
)

// The paths the layer puts the binary and the CA bundle at.
const (
	// BinaryPath is where the image holds the slipway binary.
	BinaryPath = "/usr/local/bin/slipway"
	// CACertsPath is where the image holds the CA bundle; SSL_CERT_FILE
	// points at it.
	CACertsPath = "/etc/ssl/certs/ca-certificates.crt"
	// WorkingDir is the image's working directory.
	WorkingDir = "/work"
)

// gzipLevel is the fixed compression level of the layer; the level is part
// of the layer's bytes, so it must never follow a default that may change.
// Level 6 compresses a Go binary as well as level 9 in a quarter of the time.
const gzipLevel = 6

// entry is one file or directory of the layer.
type entry struct {
	name string // path without a leading slash; directories end in "/"
	mode int64
	body []byte // nil for a directory
}

// rootfs returns the entries of the image's file system, sorted by name.
func rootfs(binary, caCerts []byte) []entry {
	passwd := "root:x:0:0:root:/root:/sbin/nologin\n" +
		fmt.Sprintf("%s:x:%d:%d:%s:/home/%s:/sbin/nologin\n", userName, UID, GID, userName, userName)
	group := "root:x:0:\n" + fmt.Sprintf("%s:x:%d:\n", userName, GID)
	files := []entry{
		{name: strings.TrimPrefix(BinaryPath, "/"), mode: modeBinary, body: binary},
		{name: strings.TrimPrefix(CACertsPath, "/"), mode: modeFile, body: caCerts},
		{name: "etc/passwd", mode: modeFile, body: []byte(passwd)},
		{name: "etc/group", mode: modeFile, body: []byte(group)},
		{name: "tmp/", mode: modeTmp},
		{name: "home/" + userName + "/", mode: modeDir},
		{name: strings.TrimPrefix(WorkingDir, "/") + "/", mode: modeDir},
	}
	dirs := map[string]bool{}
	var out []entry
	for _, f := range files {
		// Add every parent directory once, so that a runtime extracting
		// the layer never has to invent one with its own owner and mode.
		parts := strings.Split(strings.TrimSuffix(f.name, "/"), "/")
		for i := 1; i < len(parts); i++ {
			d := strings.Join(parts[:i], "/") + "/"
			if !dirs[d] {
				dirs[d] = true
				out = append(out, entry{name: d, mode: modeDir})
			}
		}
		if strings.HasSuffix(f.name, "/") {
			if dirs[f.name] {
				continue
			}
			dirs[f.name] = true
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// writable lists what the nonroot user owns: its home, the working
// directory and /tmp. Everything else (the binary, /etc) belongs to root,
// so the running process cannot change it.
var writable = map[string]bool{"tmp/": true, "home/" + userName + "/": true, strings.TrimPrefix(WorkingDir, "/") + "/": true}

// tarEntries writes entries as an uncompressed ustar archive; every entry
// has the same modification time; the nonroot user owns only the writable
// directories, root everything else.
func tarEntries(entries []entry, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{
			Name:    e.name,
			Mode:    e.mode,
			Uname:   "root",
			Gname:   "root",
			ModTime: mtime,
			Format:  tar.FormatUSTAR,
		}
		if writable[e.name] {
			h.Uid, h.Gid, h.Uname, h.Gname = UID, GID, userName, userName
		}
		if e.body == nil {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("write tar header for %s: %w", e.name, err)
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, fmt.Errorf("write %s into the layer: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("close the layer's tar stream: %w", err)
	}
	return buf.Bytes(), nil
}

// gzipBytes compresses b with a fixed level and a header that carries no
// file name, no modification time and no comment, so the same input always
// gives the same bytes (with a given Go release's compress/flate).
func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzipLevel)
	if err != nil {
		return nil, fmt.Errorf("start gzip at level %d: %w", gzipLevel, err)
	}
	zw.Header = gzip.Header{OS: 255}
	if _, err := zw.Write(b); err != nil {
		return nil, fmt.Errorf("compress the layer: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress the layer: %w", err)
	}
	return buf.Bytes(), nil
}

// layer is an in-memory tar+gzip layer that knows both of its digests.
type layer struct {
	tar, gz        []byte
	digest, diffID v1.Hash
}

var _ v1.Layer = (*layer)(nil)

// newLayer compresses an uncompressed tar stream into a layer.
func newLayer(tarBytes []byte) (*layer, error) {
	gz, err := gzipBytes(tarBytes)
	if err != nil {
		return nil, err
	}
	digest, _, err := v1.SHA256(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("hash the compressed layer: %w", err)
	}
	diffID, _, err := v1.SHA256(bytes.NewReader(tarBytes))
	if err != nil {
		return nil, fmt.Errorf("hash the uncompressed layer: %w", err)
	}
	return &layer{tar: tarBytes, gz: gz, digest: digest, diffID: diffID}, nil
}

// Digest returns the sha256 of the compressed layer.
func (l *layer) Digest() (v1.Hash, error) { return l.digest, nil }

// DiffID returns the sha256 of the uncompressed tar stream.
func (l *layer) DiffID() (v1.Hash, error) { return l.diffID, nil }

// Compressed returns the tar+gzip bytes.
func (l *layer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.gz)), nil
}

// Uncompressed returns the tar bytes.
func (l *layer) Uncompressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.tar)), nil
}

// Size returns the size of the compressed layer.
func (l *layer) Size() (int64, error) { return int64(len(l.gz)), nil }

// MediaType returns the OCI tar+gzip layer type.
func (l *layer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }
