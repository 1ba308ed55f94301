package image

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// AnnotationRefName is the index.json annotation that names an image in an
// OCI layout.
const AnnotationRefName = "org.opencontainers.image.ref.name"

// layoutMarker is the content of an OCI layout's oci-layout file.
const layoutMarker = `{"imageLayoutVersion":"1.0.0"}`

// maxIndexSize bounds the index.json WriteLayout reads back.
const maxIndexSize = 64 << 20

// WriteLayout stores img in the OCI image layout at dir (created when
// missing) under refName, the org.opencontainers.image.ref.name annotation
// in index.json. An image already stored under refName is replaced in the
// index; its blobs stay. Every blob is hashed as it is written and must
// match its digest, a blob already present is kept only when its content
// matches, and each file is written to a temporary file and renamed, so an
// interrupted write never leaves a partial blob or index.json behind.
func WriteLayout(dir string, img v1.Image, refName string) error {
	if strings.TrimSpace(refName) == "" {
		return fmt.Errorf("write the image into the layout %s: the reference name is empty: want a name such as slipway:v1", dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		return fmt.Errorf("create the OCI layout %s: %w", dir, err)
	}
	index, err := readIndex(dir)
	if err != nil {
		return err
	}
	desc, err := writeImageBlobs(dir, img)
	if err != nil {
		return fmt.Errorf("write the image into the layout %s: %w", dir, err)
	}
	desc.Annotations = map[string]string{AnnotationRefName: refName}

	kept := index.Manifests[:0]
	for _, m := range index.Manifests {
		if m.Annotations[AnnotationRefName] != refName {
			kept = append(kept, m)
		}
	}
	index.Manifests = append(kept, desc)
	raw, err := json.Marshal(index)
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Join(dir, "index.json"), err)
	}
	if err := writeFileAtomic(filepath.Join(dir, "oci-layout"), strings.NewReader(layoutMarker), nil); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, "index.json"), bytes.NewReader(raw), nil)
}

// readIndex returns the layout's index.json, or an empty index when the
// layout has none yet.
func readIndex(dir string) (*v1.IndexManifest, error) {
	path := filepath.Join(dir, "index.json")
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the OCI layout index: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxIndexSize+1))
	if err != nil {
		return nil, fmt.Errorf("read the OCI layout index %s: %w", path, err)
	}
	if len(b) > maxIndexSize {
		return nil, fmt.Errorf("OCI layout index %s is larger than %d bytes", path, maxIndexSize)
	}
	index, err := v1.ParseIndexManifest(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s is not an OCI image index: %w", path, err)
	}
	if index.SchemaVersion != 2 {
		return nil, fmt.Errorf("%s has schemaVersion %d: want 2", path, index.SchemaVersion)
	}
	return index, nil
}

// writeImageBlobs writes img's layers, config and manifest as blobs and
// returns the manifest's descriptor.
func writeImageBlobs(dir string, img v1.Image) (v1.Descriptor, error) {
	layers, err := img.Layers()
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("list the layers: %w", err)
	}
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return v1.Descriptor{}, fmt.Errorf("layer digest: %w", err)
		}
		rc, err := l.Compressed()
		if err != nil {
			return v1.Descriptor{}, fmt.Errorf("read layer %s: %w", d, err)
		}
		err = writeBlob(dir, d, rc)
		rc.Close()
		if err != nil {
			return v1.Descriptor{}, err
		}
	}
	cfgName, err := img.ConfigName()
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("config digest: %w", err)
	}
	rawConfig, err := img.RawConfigFile()
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("read the config: %w", err)
	}
	if err := writeBlob(dir, cfgName, bytes.NewReader(rawConfig)); err != nil {
		return v1.Descriptor{}, err
	}
	digest, err := img.Digest()
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("manifest digest: %w", err)
	}
	rawManifest, err := img.RawManifest()
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("read the manifest: %w", err)
	}
	mt, err := img.MediaType()
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("manifest media type: %w", err)
	}
	if err := writeBlob(dir, digest, bytes.NewReader(rawManifest)); err != nil {
		return v1.Descriptor{}, err
	}
	desc := v1.Descriptor{MediaType: mt, Size: int64(len(rawManifest)), Digest: digest}
	if cfg, err := img.ConfigFile(); err == nil && cfg.OS != "" && cfg.Architecture != "" {
		desc.Platform = &v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}
	}
	return desc, nil
}

// writeBlob stores r as blobs/sha256/<hex> unless a blob with that content
// is already there.
func writeBlob(dir string, want v1.Hash, r io.Reader) error {
	if _, err := hex.DecodeString(want.Hex); want.Algorithm != "sha256" || len(want.Hex) != 2*sha256.Size || err != nil {
		return fmt.Errorf("blob digest %q is not a sha256 digest: want sha256:<64 hex digits>", want.String())
	}
	path := filepath.Join(dir, "blobs", want.Algorithm, want.Hex)
	if f, err := os.Open(path); err == nil {
		got, _, herr := v1.SHA256(f)
		f.Close()
		if herr == nil && got == want {
			return nil
		}
	}
	return writeFileAtomic(path, r, &want)
}

// writeFileAtomic writes r to a temporary file next to path, checks its
// sha256 against want when want is not nil, and renames it to path.
func writeFileAtomic(path string, r io.Reader, want *v1.Hash) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	if _, err = io.Copy(io.MultiWriter(tmp, h), r); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if want != nil {
		if got := hex.EncodeToString(h.Sum(nil)); got != want.Hex {
			return fmt.Errorf("write %s: the content hashes to sha256:%s, not %s", path, got, *want)
		}
	}
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
