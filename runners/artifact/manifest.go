package artifact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"unicode"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ParseManifest decodes a manifest and checks that it describes a Slipway
// ModelPack artifact: schemaVersion 2, mediaType MediaTypeManifest,
// artifactType ArtifactType, a config of MediaTypeConfig, layers each of
// a raw ModelPack layer type, of a size at most MaxLayerSize, with a
// safe, unique org.cncf.model.filepath, among them a lineage.json of
// MediaTypeDoc at most MaxLineageSize bytes, and an AnnotationMetrics, if
// any, that ParseMetrics reads. A manifest of another kind, or without
// lineage.json, gives an error matching ErrNotModelPack; a layer path
// that could escape a directory, one matching ErrUnsafePath.
func ParseManifest(b []byte) (*v1.Manifest, error) {
	if len(b) > MaxManifestSize {
		return nil, fmt.Errorf("manifest is %d bytes, more than the %d allowed", len(b), MaxManifestSize)
	}
	var m v1.Manifest
	if err := decodeJSON(b, &m); err != nil {
		return nil, fmt.Errorf("parse manifest: %w", err)
	}
	if m.SchemaVersion != 2 {
		return nil, fmt.Errorf("manifest schemaVersion is %d, want 2", m.SchemaVersion)
	}
	if m.MediaType != MediaTypeManifest {
		return nil, notModelPack("manifest mediaType is %q, want %q", m.MediaType, MediaTypeManifest)
	}
	if m.ArtifactType != ArtifactType {
		return nil, notModelPack("artifactType is %q, want %q", m.ArtifactType, ArtifactType)
	}
	if m.Config.MediaType != MediaTypeConfig {
		return nil, notModelPack("config mediaType is %q, want %q", m.Config.MediaType, MediaTypeConfig)
	}
	if err := checkDescriptor(m.Config, MaxConfigSize); err != nil {
		return nil, fmt.Errorf("manifest config: %w", err)
	}
	if len(m.Layers) == 0 {
		return nil, notModelPack("the manifest has no layers; a model artifact has at least model.bin")
	}
	seen := map[string]bool{}
	for i, l := range m.Layers {
		p := l.Annotations[AnnotationFilepath]
		where := fmt.Sprintf("manifest layer %d (%q)", i+1, p)
		if !slices.Contains(rawLayerTypes, string(l.MediaType)) {
			return nil, notModelPack("%s has mediaType %q, want one of %q", where, l.MediaType, rawLayerTypes)
		}
		if err := checkDescriptor(l, MaxLayerSize); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if p == "" {
			return nil, fmt.Errorf("%s has no %s annotation", where, AnnotationFilepath)
		}
		if err := CheckPath(p); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if seen[p] {
			return nil, fmt.Errorf("%s: the path appears twice", where)
		}
		seen[p] = true
		if p == LineageFile {
			if l.MediaType != MediaTypeDoc {
				return nil, fmt.Errorf("%s has mediaType %q, want %q", where, l.MediaType, MediaTypeDoc)
			}
			if l.Size > MaxLineageSize {
				return nil, fmt.Errorf("%s: size %d is more than the %d allowed", where, l.Size, MaxLineageSize)
			}
		}
	}
	if !seen[LineageFile] {
		return nil, notModelPack("the manifest has no %s layer: a ModelPack model not packed by Slipway", LineageFile)
	}
	if v, ok := m.Annotations[AnnotationMetrics]; ok {
		if _, err := ParseMetrics(v); err != nil {
			return nil, fmt.Errorf("manifest: %w", err)
		}
	}
	return &m, nil
}

// checkDescriptor checks a descriptor's digest algorithm and size.
func checkDescriptor(d v1.Descriptor, max int64) error {
	if d.Digest.Algorithm != "sha256" || len(d.Digest.Hex) != 64 {
		return fmt.Errorf("digest %q is not a sha256 digest", d.Digest.String())
	}
	if d.Size < 0 || d.Size > max {
		return fmt.Errorf("size %d is outside 0..%d", d.Size, max)
	}
	return nil
}

// decodeJSON decodes one JSON value and refuses trailing data.
func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// CheckPath checks that p is a plain relative slash-separated path that
// stays inside its directory: not empty, not absolute, no "." or ".."
// element, no empty element, no backslash and no control character. Its
// error matches ErrUnsafePath.
func CheckPath(p string) error {
	if p == "" || p == "." || !fs.ValidPath(p) {
		return fmt.Errorf("%w: %q must be a relative path without \".\", \"..\" or empty elements", ErrUnsafePath, p)
	}
	if strings.ContainsRune(p, '\\') {
		return fmt.Errorf("%w: %q holds a backslash", ErrUnsafePath, p)
	}
	if strings.ContainsFunc(p, unicode.IsControl) {
		return fmt.Errorf("%w: %q holds a control character", ErrUnsafePath, p)
	}
	return nil
}

// Fetcher returns the bytes of the blob a descriptor names. It should
// read at most d.Size+1 bytes (ReadBlob does), so that a blob longer than
// its descriptor is detected without reading all of it. An error matching
// ErrBlobMissing or fs.ErrNotExist means the blob is not there.
type Fetcher func(d v1.Descriptor) ([]byte, error)

// ReadBlob reads r for the blob d: at most d.Size+1 bytes.
func ReadBlob(r io.Reader, d v1.Descriptor) ([]byte, error) {
	var buf bytes.Buffer
	if d.Size >= 0 && d.Size < 64<<20 {
		buf.Grow(int(d.Size) + 1)
	}
	_, err := buf.ReadFrom(io.LimitReader(r, d.Size+1))
	return buf.Bytes(), err
}

// Load reads an artifact: it parses the manifest (ParseManifest), fetches
// the config and every layer, checks each one's size and sha256 against
// its descriptor (a *BlobError naming the blob when they differ), parses
// the config (ParseConfig), checks that its diffIds are the layers'
// digests in order, parses lineage.json (ParseLineage) and checks that it
// agrees with the config (pipeline name, model kind) and the manifest's
// annotations (revision, spec digest, Slipway version, task).
func Load(manifest []byte, fetch Fetcher) (*Artifact, error) {
	m, err := ParseManifest(manifest)
	if err != nil {
		return nil, err
	}
	cfg, err := fetchBlob(fetch, m.Config, "config")
	if err != nil {
		return nil, err
	}
	c, err := ParseConfig(cfg)
	if err != nil {
		return nil, err
	}
	if len(c.ModelFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("config lists %d diffIds for the manifest's %d layers", len(c.ModelFS.DiffIDs), len(m.Layers))
	}
	a := &Artifact{Manifest: manifest, Config: cfg, Blobs: make(map[string][]byte, len(m.Layers))}
	for i, l := range m.Layers {
		d := l.Digest.String()
		if c.ModelFS.DiffIDs[i] != d {
			return nil, fmt.Errorf("config diffIds[%d] is %s, but layer %d (%q) is %s", i, c.ModelFS.DiffIDs[i], i+1, l.Annotations[AnnotationFilepath], d)
		}
		if _, ok := a.Blobs[d]; ok {
			continue
		}
		b, err := fetchBlob(fetch, l, fmt.Sprintf("layer %q", l.Annotations[AnnotationFilepath]))
		if err != nil {
			return nil, err
		}
		a.Blobs[d] = b
	}
	for _, l := range m.Layers {
		if l.Annotations[AnnotationFilepath] != LineageFile {
			continue
		}
		lin, err := ParseLineage(a.Blobs[l.Digest.String()])
		if err != nil {
			return nil, err
		}
		if err := checkLineage(m, c, lin); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// fetchBlob fetches one blob and checks it against its descriptor.
func fetchBlob(fetch Fetcher, d v1.Descriptor, what string) ([]byte, error) {
	b, err := fetch(d)
	if err != nil {
		var be *BlobError
		switch {
		case errors.As(err, &be):
			return nil, err
		case errors.Is(err, ErrBlobMissing), errors.Is(err, fs.ErrNotExist):
			return nil, &BlobError{Blob: what, Digest: d.Digest.String(), Err: ErrBlobMissing}
		}
		return nil, fmt.Errorf("read %s %s: %w", what, d.Digest, err)
	}
	if err := CheckBlob(b, d, what); err != nil {
		return nil, err
	}
	return b, nil
}

// CheckBlob checks b against its descriptor: a *BlobError naming the blob
// (what, for example "config") when the size or the sha256 differs.
func CheckBlob(b []byte, d v1.Descriptor, what string) error {
	n := int64(len(b))
	switch {
	case n < d.Size:
		return &BlobError{Blob: what, Digest: d.Digest.String(), Err: ErrBlobTruncated, Detail: fmt.Sprintf("read %d of %d bytes", n, d.Size)}
	case n > d.Size:
		return &BlobError{Blob: what, Digest: d.Digest.String(), Err: ErrBlobTooLong, Detail: fmt.Sprintf("more than the %d bytes declared", d.Size)}
	}
	if got := Digest(b); got != d.Digest.String() {
		return &BlobError{Blob: what, Digest: d.Digest.String(), Err: ErrBlobDigest, Detail: "its content hashes to " + got}
	}
	return nil
}
