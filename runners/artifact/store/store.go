// Package store keeps model artifacts in a local OCI image layout
// (by default .slipway/oci; the caller passes the directory), readable by
// any tool that reads OCI layouts (skopeo, oras, crane).
//
// Every Put adds the artifact's manifest to index.json twice: once
// annotated org.opencontainers.image.ref.name=<name>@<digest>, which
// stays, and once annotated ref.name=<name>, which moves to the newest
// artifact of that name ("latest"). Tag keeps other images beside the
// models under a tag, such as a cosign signature under
// sha256-<hex>.sig.
//
// Reads re-hash every blob they touch (the layout package does not): a
// blob whose size or sha256 differs from its descriptor gives an
// *artifact.BlobError naming the blob. Writes are atomic: each blob and
// index.json is written to a temporary file in its directory, synced and
// renamed into place, so a crash never leaves a half-written file under
// its final name. Writers in one process are serialised (also across
// Store values open on the same directory); writers in different
// processes are not, and may lose each other's index.json updates.
package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway-ml/slipway/runners/artifact"
)

// ErrNoTag is the error of Image for a tag the store does not hold.
var ErrNoTag = errors.New("no such tag")

// AnnotationRefName is the index annotation naming a manifest.
const AnnotationRefName = "org.opencontainers.image.ref.name"

// DefaultDir is the store's usual directory, relative to the project.
const DefaultDir = ".slipway/oci"

// layoutFile is the oci-layout file's content.
const layoutFile = `{"imageLayoutVersion":"1.0.0"}`

// maxImageBlob bounds each blob Image reads into memory.
const maxImageBlob = 64 << 20

// Store is a local artifact store. It is safe for concurrent use.
type Store struct {
	dir  string
	path layout.Path
	mu   *sync.Mutex
}

// locks serialises writers by absolute store directory.
var locks sync.Map

// Open opens the store in dir, creating the directory and an empty OCI
// layout (oci-layout, index.json) when they are not there.
func Open(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	mu, _ := locks.LoadOrStore(abs, new(sync.Mutex))
	s := &Store{dir: abs, path: layout.Path(abs), mu: mu.(*sync.Mutex)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.MkdirAll(filepath.Join(abs, "blobs", "sha256"), 0o755); err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	b, err := os.ReadFile(filepath.Join(abs, "oci-layout"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := writeAtomic(filepath.Join(abs, "oci-layout"), []byte(layoutFile)); err != nil {
			return nil, fmt.Errorf("open store %s: %w", dir, err)
		}
	case err != nil:
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	default:
		var v struct {
			Version string `json:"imageLayoutVersion"`
		}
		if err := json.Unmarshal(b, &v); err != nil || v.Version != "1.0.0" {
			return nil, fmt.Errorf("open store %s: oci-layout is %q, want imageLayoutVersion 1.0.0", dir, b)
		}
	}
	if _, err := os.Stat(filepath.Join(abs, "index.json")); errors.Is(err, fs.ErrNotExist) {
		if err := s.writeIndex(&v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{}}); err != nil {
			return nil, fmt.Errorf("open store %s: %w", dir, err)
		}
	}
	if _, err := s.index(); err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	return s, nil
}

// Dir returns the store's directory (absolute).
func (s *Store) Dir() string { return s.dir }

// Put stores the artifact as the newest of the pipeline name and returns
// its digest. The artifact must verify (artifact.Verify) and must have
// been packed for that pipeline. Putting an artifact already stored makes
// it the newest again and repairs any of its blobs that changed on disk.
func (s *Store) Put(name string, a *artifact.Artifact) (string, error) {
	if err := artifact.CheckName(name); err != nil {
		return "", fmt.Errorf("store put: %w", err)
	}
	if err := a.Verify(); err != nil {
		return "", fmt.Errorf("store put %s: %w", name, err)
	}
	c, _ := a.ConfigOf()
	if c.Descriptor.Name != name {
		return "", fmt.Errorf("store put %s: the artifact was packed for pipeline %q", name, c.Descriptor.Name)
	}
	m, _ := a.ManifestOf()
	digest := a.Digest()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writeBlob(m.Config.Digest, a.Config); err != nil {
		return "", fmt.Errorf("store put %s: %w", name, err)
	}
	for _, l := range m.Layers {
		if err := s.writeBlob(l.Digest, a.Blobs[l.Digest.String()]); err != nil {
			return "", fmt.Errorf("store put %s: %w", name, err)
		}
	}
	h, _ := v1.NewHash(digest)
	if err := s.writeBlob(h, a.Manifest); err != nil {
		return "", fmt.Errorf("store put %s: %w", name, err)
	}
	desc := v1.Descriptor{MediaType: artifact.MediaTypeManifest, Size: int64(len(a.Manifest)), Digest: h, ArtifactType: artifact.ArtifactType}
	if err := s.updateIndex(desc, name+"@"+digest, name); err != nil {
		return "", fmt.Errorf("store put %s: %w", name, err)
	}
	return digest, nil
}

// updateIndex points each ref name at desc, replacing what they named.
func (s *Store) updateIndex(desc v1.Descriptor, refs ...string) error {
	idx, err := s.index()
	if err != nil {
		return err
	}
	idx.Manifests = slices.DeleteFunc(idx.Manifests, func(d v1.Descriptor) bool {
		return slices.Contains(refs, d.Annotations[AnnotationRefName])
	})
	for _, r := range refs {
		d := desc
		d.Annotations = map[string]string{AnnotationRefName: r}
		idx.Manifests = append(idx.Manifests, d)
	}
	slices.SortStableFunc(idx.Manifests, func(a, b v1.Descriptor) int {
		return strings.Compare(a.Annotations[AnnotationRefName], b.Annotations[AnnotationRefName])
	})
	return s.writeIndex(idx)
}

// index reads index.json.
func (s *Store) index() (*v1.IndexManifest, error) {
	ii, err := s.path.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("read index.json: %w", err)
	}
	idx, err := ii.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("read index.json: %w", err)
	}
	if idx.SchemaVersion != 2 {
		return nil, fmt.Errorf("read index.json: schemaVersion %d, want 2", idx.SchemaVersion)
	}
	return idx, nil
}

// writeIndex replaces index.json atomically.
func (s *Store) writeIndex(idx *v1.IndexManifest) error {
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return fmt.Errorf("encode index.json: %w", err)
	}
	return writeAtomic(filepath.Join(s.dir, "index.json"), append(b, '\n'))
}

// writeBlob stores data as the blob h, unless a sound copy is there.
func (s *Store) writeBlob(h v1.Hash, data []byte) error {
	if got := artifact.Digest(data); got != h.String() {
		return fmt.Errorf("blob %s: its content hashes to %s", h, got)
	}
	p := filepath.Join(s.dir, "blobs", h.Algorithm, h.Hex)
	if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, data) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return writeAtomic(p, data)
}

// writeAtomic writes a temporary file beside name, syncs it and renames
// it over name.
func writeAtomic(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// readBlob reads the blob d names (at most d.Size+1 bytes, refusing a
// symbolic link) without checking it.
func (s *Store) readBlob(d v1.Descriptor) ([]byte, error) {
	rc, err := s.path.Blob(d.Digest)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return artifact.ReadBlob(rc, d)
}

// readChecked reads the blob d names and checks its size and sha256.
func (s *Store) readChecked(d v1.Descriptor, what string) ([]byte, error) {
	b, err := s.readBlob(d)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &artifact.BlobError{Blob: what, Digest: d.Digest.String(), Err: artifact.ErrBlobMissing}
	}
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", what, d.Digest, err)
	}
	if err := artifact.CheckBlob(b, d, what); err != nil {
		return nil, err
	}
	return b, nil
}

// Resolve returns the descriptor a reference names: a pipeline name (its
// newest artifact), name@sha256:<hex>, or sha256:<hex>.
func (s *Store) Resolve(ref string) (v1.Descriptor, error) {
	idx, err := s.index()
	if err != nil {
		return v1.Descriptor{}, err
	}
	find := func(match func(v1.Descriptor) bool) (v1.Descriptor, bool) {
		i := slices.IndexFunc(idx.Manifests, match)
		if i < 0 {
			return v1.Descriptor{}, false
		}
		return idx.Manifests[i], true
	}
	switch name, dig, hasAt := strings.Cut(ref, "@"); {
	case strings.HasPrefix(ref, "sha256:"):
		h, err := v1.NewHash(ref)
		if err != nil {
			return v1.Descriptor{}, fmt.Errorf("reference %q: %w", ref, err)
		}
		if d, ok := find(func(d v1.Descriptor) bool { return d.Digest == h && isModel(d) }); ok {
			return d, nil
		}
		return v1.Descriptor{}, fmt.Errorf("store %s holds no model artifact %s", s.dir, ref)
	case hasAt:
		if err := artifact.CheckName(name); err != nil {
			return v1.Descriptor{}, fmt.Errorf("reference %q: %w", ref, err)
		}
		if _, err := v1.NewHash(dig); err != nil {
			return v1.Descriptor{}, fmt.Errorf("reference %q: %w", ref, err)
		}
		if d, ok := find(func(d v1.Descriptor) bool { return d.Annotations[AnnotationRefName] == ref }); ok {
			if d.Digest.String() != dig {
				return v1.Descriptor{}, fmt.Errorf("store %s: index.json entry %s points to %s", s.dir, ref, d.Digest)
			}
			return d, nil
		}
		return v1.Descriptor{}, fmt.Errorf("store %s holds no artifact %s", s.dir, ref)
	default:
		if err := artifact.CheckName(ref); err != nil {
			return v1.Descriptor{}, fmt.Errorf("reference %q (want a pipeline name, name@sha256:<hex> or sha256:<hex>): %w", ref, err)
		}
		if d, ok := find(func(d v1.Descriptor) bool { return d.Annotations[AnnotationRefName] == ref }); ok {
			return d, nil
		}
		return v1.Descriptor{}, fmt.Errorf("store %s holds no artifact of pipeline %q", s.dir, ref)
	}
}

// isModel reports whether an index entry is a model artifact.
func isModel(d v1.Descriptor) bool {
	return d.ArtifactType == artifact.ArtifactType || strings.Contains(d.Annotations[AnnotationRefName], "@")
}

// Get reads the artifact a reference names (see Resolve), re-hashing
// every blob.
func (s *Store) Get(ref string) (*artifact.Artifact, error) {
	d, err := s.Resolve(ref)
	if err != nil {
		return nil, fmt.Errorf("store get: %w", err)
	}
	man, err := s.readChecked(d, "manifest")
	if err != nil {
		return nil, fmt.Errorf("store get %s: %w", ref, err)
	}
	a, err := artifact.Load(man, s.readBlob)
	if err != nil {
		return nil, fmt.Errorf("store get %s: %w", ref, err)
	}
	return a, nil
}

// Entry describes one stored artifact.
type Entry struct {
	// Name is the pipeline's name.
	Name string
	// Digest is the artifact's digest.
	Digest string
	// Created is when the artifact was made (its created annotation).
	Created time.Time
	// Model and Task are the model kind (the config's descriptor.family)
	// and task (the dev.slipway.task annotation).
	Model, Task string
	// Metrics are the evaluation metrics on the test rows (the validation
	// rows when there were no test rows), from the dev.slipway.metrics
	// annotation; nil when the model was not evaluated.
	Metrics map[string]float64
	// Latest says the artifact is the newest of its pipeline.
	Latest bool
	// Signed says a signature is kept under the artifact's
	// sha256-<hex>.sig tag.
	Signed bool
	// Err is why the artifact's manifest or config could not be read;
	// the fields above but Name, Digest, Latest and Signed are then empty.
	Err error
}

// List describes every stored artifact, sorted by name, newest first,
// then by digest. It reads and checks each manifest and config, not the
// layers.
func (s *Store) List() ([]Entry, error) {
	idx, err := s.index()
	if err != nil {
		return nil, fmt.Errorf("store list: %w", err)
	}
	refs := map[string]string{}
	for _, d := range idx.Manifests {
		refs[d.Annotations[AnnotationRefName]] = d.Digest.String()
	}
	var out []Entry
	for _, d := range idx.Manifests {
		name, dig, ok := strings.Cut(d.Annotations[AnnotationRefName], "@")
		if !ok {
			continue
		}
		e := Entry{Name: name, Digest: dig, Latest: refs[name] == dig}
		if sig, err := SignatureTag(dig); err == nil {
			_, e.Signed = refs[sig]
		}
		if dig != d.Digest.String() {
			e.Err = fmt.Errorf("index.json entry %s points to %s", d.Annotations[AnnotationRefName], d.Digest)
		} else {
			e.Err = s.describe(d, &e)
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Entry) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(a.Digest, b.Digest)
	})
	return out, nil
}

// describe fills in an entry from the artifact's manifest (its
// annotations) and config.
func (s *Store) describe(d v1.Descriptor, e *Entry) error {
	man, err := s.readChecked(d, "manifest")
	if err != nil {
		return err
	}
	m, err := artifact.ParseManifest(man)
	if err != nil {
		return err
	}
	cb, err := s.readChecked(m.Config, "config")
	if err != nil {
		return err
	}
	c, err := artifact.ParseConfig(cb)
	if err != nil {
		return err
	}
	e.Created, _ = time.Parse(time.RFC3339, m.Annotations[artifact.AnnotationCreated])
	e.Model, e.Task = c.Descriptor.Family, m.Annotations[artifact.AnnotationTask]
	if v, ok := m.Annotations[artifact.AnnotationMetrics]; ok {
		if e.Metrics, err = artifact.ParseMetrics(v); err != nil {
			return err
		}
	}
	return nil
}

// SignatureTag returns cosign's signature tag for an artifact digest:
// sha256:<hex> becomes sha256-<hex>.sig.
func SignatureTag(digest string) (string, error) {
	h, err := v1.NewHash(digest)
	if err != nil {
		return "", fmt.Errorf("signature tag: %w", err)
	}
	return h.Algorithm + "-" + h.Hex + ".sig", nil
}

var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)

// checkTag checks an image tag: the OCI tag grammar, and not a pipeline
// name (which names the newest model).
func checkTag(tag string) error {
	if !tagRE.MatchString(tag) {
		return fmt.Errorf("tag %q: want letters, digits, '_', '.' and '-', at most 128, not starting with '.' or '-'", tag)
	}
	if artifact.CheckName(tag) == nil {
		return fmt.Errorf("tag %q could be taken for a pipeline name; use a tag with a '.' or an upper-case letter, such as sha256-<hex>.sig", tag)
	}
	return nil
}

// Tag stores an image (for example a cosign signature manifest) under a
// tag, replacing what the tag named. Every blob is checked against its
// digest before it is written.
func (s *Store) Tag(tag string, img v1.Image) error {
	if err := checkTag(tag); err != nil {
		return fmt.Errorf("store tag: %w", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return fmt.Errorf("store tag %s: %w", tag, err)
	}
	type blob struct {
		h    v1.Hash
		data []byte
	}
	var blobs []blob
	for i, l := range layers {
		h, err := l.Digest()
		if err != nil {
			return fmt.Errorf("store tag %s: layer %d: %w", tag, i+1, err)
		}
		rc, err := l.Compressed()
		if err != nil {
			return fmt.Errorf("store tag %s: layer %d: %w", tag, i+1, err)
		}
		b, err := io.ReadAll(io.LimitReader(rc, maxImageBlob+1))
		rc.Close()
		if err != nil {
			return fmt.Errorf("store tag %s: layer %d: %w", tag, i+1, err)
		}
		if len(b) > maxImageBlob {
			return fmt.Errorf("store tag %s: layer %d is larger than %d bytes", tag, i+1, maxImageBlob)
		}
		blobs = append(blobs, blob{h, b})
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return fmt.Errorf("store tag %s: config: %w", tag, err)
	}
	ch, err := img.ConfigName()
	if err != nil {
		return fmt.Errorf("store tag %s: config: %w", tag, err)
	}
	man, err := img.RawManifest()
	if err != nil {
		return fmt.Errorf("store tag %s: manifest: %w", tag, err)
	}
	mt, err := img.MediaType()
	if err != nil {
		return fmt.Errorf("store tag %s: manifest: %w", tag, err)
	}
	if len(man) > artifact.MaxManifestSize {
		return fmt.Errorf("store tag %s: the manifest is %d bytes, more than the %d allowed", tag, len(man), artifact.MaxManifestSize)
	}
	mh, _ := v1.NewHash(artifact.Digest(man))
	blobs = append(blobs, blob{ch, cfg}, blob{mh, man})
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range blobs {
		if err := s.writeBlob(b.h, b.data); err != nil {
			return fmt.Errorf("store tag %s: %w", tag, err)
		}
	}
	return s.updateIndex(v1.Descriptor{MediaType: mt, Size: int64(len(man)), Digest: mh}, tag)
}

// Image returns the image stored under a tag. Its manifest, config and
// layers are read and checked at once (each at most 64 MiB).
func (s *Store) Image(tag string) (v1.Image, error) {
	if err := checkTag(tag); err != nil {
		return nil, fmt.Errorf("store image: %w", err)
	}
	idx, err := s.index()
	if err != nil {
		return nil, fmt.Errorf("store image %s: %w", tag, err)
	}
	i := slices.IndexFunc(idx.Manifests, func(d v1.Descriptor) bool { return d.Annotations[AnnotationRefName] == tag })
	if i < 0 {
		return nil, fmt.Errorf("store %s has no image tagged %s: %w", s.dir, tag, ErrNoTag)
	}
	d := idx.Manifests[i]
	if d.Size > artifact.MaxManifestSize {
		return nil, fmt.Errorf("store image %s: the manifest is %d bytes, more than the %d allowed", tag, d.Size, artifact.MaxManifestSize)
	}
	man, err := s.readChecked(d, "manifest")
	if err != nil {
		return nil, fmt.Errorf("store image %s: %w", tag, err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(man))
	if err != nil {
		return nil, fmt.Errorf("store image %s: parse manifest: %w", tag, err)
	}
	if m.Config.Size > maxImageBlob {
		return nil, fmt.Errorf("store image %s: config is %d bytes, more than %d", tag, m.Config.Size, maxImageBlob)
	}
	cfg, err := s.readChecked(m.Config, "config")
	if err != nil {
		return nil, fmt.Errorf("store image %s: %w", tag, err)
	}
	img := &checkedImage{manifest: man, config: cfg, mediaType: d.MediaType, layers: map[v1.Hash]v1.Layer{}}
	for i, l := range m.Layers {
		if l.Size > maxImageBlob {
			return nil, fmt.Errorf("store image %s: layer %d is %d bytes, more than %d", tag, i+1, l.Size, maxImageBlob)
		}
		b, err := s.readChecked(l, fmt.Sprintf("layer %d", i+1))
		if err != nil {
			return nil, fmt.Errorf("store image %s: %w", tag, err)
		}
		img.layers[l.Digest] = static.NewLayer(b, l.MediaType)
	}
	return partial.CompressedToImage(img)
}

// checkedImage is an image whose blobs were read and checked.
type checkedImage struct {
	manifest, config []byte
	mediaType        types.MediaType
	layers           map[v1.Hash]v1.Layer
}

func (c *checkedImage) RawConfigFile() ([]byte, error)      { return c.config, nil }
func (c *checkedImage) MediaType() (types.MediaType, error) { return c.mediaType, nil }
func (c *checkedImage) RawManifest() ([]byte, error)        { return c.manifest, nil }

func (c *checkedImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	l, ok := c.layers[h]
	if !ok {
		return nil, fmt.Errorf("image has no layer %s", h)
	}
	return l, nil
}
