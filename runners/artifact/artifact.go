// Package artifact packs a trained model into one OCI image-spec 1.1
// artifact in the CNCF ModelPack shape, and reads such an artifact back.
//
// The manifest has mediaType application/vnd.oci.image.manifest.v1+json,
// artifactType application/vnd.cncf.model.manifest.v1+json and a config of
// mediaType application/vnd.cncf.model.config.v1+json. Every layer is one
// file, stored raw (uncompressed), annotated with its path
// (org.cncf.model.filepath) and its file metadata
// (org.cncf.model.file.metadata+json: mode 0644, uid and gid 0, the
// artifact's creation time as mtime, typeflag tar.TypeReg). The files:
//
//	model.bin        application/vnd.cncf.model.weight.v1.raw         the trained model
//	features.json    application/vnd.cncf.model.weight.config.v1.raw  the fitted feature transform
//	schema.json      application/vnd.cncf.model.weight.config.v1.raw  input and output schema (see Schema)
//	train.json       application/vnd.cncf.model.weight.config.v1.raw  how the model was trained
//	lineage.json     application/vnd.cncf.model.doc.v1.raw            the model's lineage (see Lineage)
//	evaluation.json  application/vnd.cncf.model.doc.v1.raw            the evaluation (optional)
//	gates.json       application/vnd.cncf.model.doc.v1.raw            the gates' verdicts (optional)
//	report.json      application/vnd.cncf.model.doc.v1.raw            the run report (optional)
//	report.html      application/vnd.cncf.model.doc.v1.raw            the run report page (optional)
//
// The config is exactly ModelPack's config JSON (descriptor, config,
// modelfs), valid against ModelPack's config schema, which allows no other
// key: descriptor.revision is the Git commit, descriptor.sourceURL,
// descriptor.datasetsURL and descriptor.version come from the Input.
// Slipway's lineage of the model (spec digest, Git commit, dataset
// digests, training parameters, Slipway version, metrics and gate
// verdicts) is the lineage.json layer; its key facts are also manifest
// annotations, so that a listing needs no layer: the
// org.opencontainers.image.* annotations (created, source, revision,
// version, title, description) and, under Slipway's reverse-DNS prefix
// dev.slipway, the spec digest, the Slipway version, the task and the
// headline metrics as a compact JSON object (see AnnotationMetrics).
//
// Packing is reproducible: the same Input gives byte-identical config and
// manifest, whatever the order of its files. Layers are sorted by path,
// every JSON document has sorted keys and no insignificant space, and the
// only time recorded is Input.Created (the Unix epoch when unset).
//
// Reading (Load, Verify, Unpack) re-hashes every blob and refuses a blob
// whose size or sha256 differs from its descriptor with a *BlobError, and
// refuses a manifest or config that is not a Slipway ModelPack artifact
// with an error matching ErrNotModelPack. A manifest without a
// lineage.json layer is a ModelPack model not packed by Slipway.
package artifact

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Media types and annotation keys of the artifact.
const (
	// MediaTypeManifest is the manifest's media type (OCI image manifest).
	MediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	// ArtifactType is the manifest's artifactType (a ModelPack model).
	ArtifactType = "application/vnd.cncf.model.manifest.v1+json"
	// MediaTypeConfig is the config's media type (ModelPack config).
	MediaTypeConfig = "application/vnd.cncf.model.config.v1+json"
	// MediaTypeWeight is a raw weights file.
	MediaTypeWeight = "application/vnd.cncf.model.weight.v1.raw"
	// MediaTypeWeightConfig is a raw file configuring the weights.
	MediaTypeWeightConfig = "application/vnd.cncf.model.weight.config.v1.raw"
	// MediaTypeDoc is a raw documentation file.
	MediaTypeDoc = "application/vnd.cncf.model.doc.v1.raw"
	// MediaTypeCode is a raw code file.
	MediaTypeCode = "application/vnd.cncf.model.code.v1.raw"
	// MediaTypeDataset is a raw dataset file.
	MediaTypeDataset = "application/vnd.cncf.model.dataset.v1.raw"

	// AnnotationFilepath is the layer annotation holding the file's path.
	AnnotationFilepath = "org.cncf.model.filepath"
	// AnnotationFileMetadata is the layer annotation holding the file's
	// metadata as JSON (FileMetadata).
	AnnotationFileMetadata = "org.cncf.model.file.metadata+json"
	// AnnotationMediaTypeUntested says whether the layer's media type was
	// guessed; always "false" here.
	AnnotationMediaTypeUntested = "org.cncf.model.file.mediatype.untested"

	// AnnotationCreated is the manifest's creation time (Input.Created).
	AnnotationCreated = "org.opencontainers.image.created"
	// AnnotationSource is the source repository (Input.Source).
	AnnotationSource = "org.opencontainers.image.source"
	// AnnotationRevision is the source's Git commit (Input.Revision).
	AnnotationRevision = "org.opencontainers.image.revision"
	// AnnotationVersion is the model's version (Input.Version).
	AnnotationVersion = "org.opencontainers.image.version"
	// AnnotationTitle is the title (Input.Title).
	AnnotationTitle = "org.opencontainers.image.title"
	// AnnotationDescription is the description (Input.Description).
	AnnotationDescription = "org.opencontainers.image.description"

	// AnnotationSpecDigest is the digest of the compiled pipeline spec
	// (Input.SpecDigest); omitted when empty.
	AnnotationSpecDigest = "dev.slipway.spec-digest"
	// AnnotationSlipwayVersion is the Slipway release that trained the
	// model.
	AnnotationSlipwayVersion = "dev.slipway.slipway-version"
	// AnnotationTask is the model's task: binary or regression.
	AnnotationTask = "dev.slipway.task"
	// AnnotationMetrics holds the metrics on the test rows (on the
	// validation rows when the evaluation had no test rows) as a compact
	// JSON object with sorted keys, {"accuracy":0.9,"roc_auc":0.95}; see
	// ParseMetrics. It is omitted when there is no evaluation, and holds
	// only the first metrics by name that fit in MaxMetricsAnnotation
	// bytes; lineage.json has them all.
	AnnotationMetrics = "dev.slipway.metrics"

	// LineageFile is the path of the lineage layer.
	LineageFile = "lineage.json"
	// LineageAPIVersion is the version of the Lineage object.
	LineageAPIVersion = "slipway.dev/lineage/v1"
	// Vendor is descriptor.vendor of every artifact Pack makes.
	Vendor = "slipway"
)

// Size limits enforced when reading.
const (
	// MaxManifestSize is the largest manifest read (4 MiB, the limit
	// registries commonly apply).
	MaxManifestSize = 4 << 20
	// MaxConfigSize is the largest config read.
	MaxConfigSize = 4 << 20
	// MaxLayerSize is the largest layer a manifest may declare.
	MaxLayerSize = 2 << 30
	// MaxLineageSize is the largest lineage.json read.
	MaxLineageSize = 4 << 20
	// MaxMetricsAnnotation is the largest AnnotationMetrics value.
	MaxMetricsAnnotation = 1024
)

// rawLayerTypes are the layer media types an artifact may hold.
var rawLayerTypes = []string{MediaTypeWeight, MediaTypeWeightConfig, MediaTypeDoc, MediaTypeCode, MediaTypeDataset}

// Artifact is a packed model: the exact bytes of its manifest and config
// and the contents of its layers.
type Artifact struct {
	// Manifest is the manifest's bytes; its sha256 is the artifact's
	// digest.
	Manifest []byte
	// Config is the config blob's bytes.
	Config []byte
	// Blobs holds the layers' contents by digest ("sha256:<hex>").
	Blobs map[string][]byte
}

// Digest returns the artifact's digest: the sha256 of its manifest, as
// "sha256:<hex>".
func (a *Artifact) Digest() string { return Digest(a.Manifest) }

// Digest returns "sha256:<hex>" of b.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// File is one file of an artifact.
type File struct {
	// Path is the file's slash-separated path relative to the model
	// directory, such as "model.bin".
	Path string
	// Data is the file's content.
	Data []byte
	// MediaType is the layer's media type. Pack fills it in for the
	// files it knows (see the package comment) and requires it, one of
	// the raw ModelPack layer types, for any other file.
	MediaType string
}

// ManifestOf parses and checks the artifact's manifest (see
// ParseManifest).
func (a *Artifact) ManifestOf() (*v1.Manifest, error) { return ParseManifest(a.Manifest) }

// ConfigOf parses and checks the artifact's config (see ParseConfig).
func (a *Artifact) ConfigOf() (*Config, error) { return ParseConfig(a.Config) }

// Verify checks the whole artifact: the manifest and config parse and
// describe a Slipway ModelPack artifact, the config's diffIds name the
// layers, and every blob has its descriptor's size and sha256.
func (a *Artifact) Verify() error {
	if a == nil {
		return fmt.Errorf("verify artifact: no artifact")
	}
	_, err := Load(a.Manifest, a.fetch)
	return err
}

// fetch returns the bytes the artifact holds for a descriptor.
func (a *Artifact) fetch(d v1.Descriptor) ([]byte, error) {
	if d.MediaType == MediaTypeConfig {
		return a.Config, nil
	}
	b, ok := a.Blobs[d.Digest.String()]
	if !ok {
		return nil, ErrBlobMissing
	}
	return b, nil
}

// Files returns the artifact's files in manifest order (sorted by path),
// after Verify.
func (a *Artifact) Files() ([]File, error) {
	if err := a.Verify(); err != nil {
		return nil, err
	}
	m, err := ParseManifest(a.Manifest)
	if err != nil {
		return nil, err
	}
	out := make([]File, 0, len(m.Layers))
	for _, l := range m.Layers {
		out = append(out, File{Path: l.Annotations[AnnotationFilepath], Data: a.Blobs[l.Digest.String()], MediaType: string(l.MediaType)})
	}
	return out, nil
}

// File returns the content of the file at path, after Verify.
func (a *Artifact) File(path string) ([]byte, error) {
	files, err := a.Files()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, f := range files {
		if f.Path == path {
			return f.Data, nil
		}
		names = append(names, f.Path)
	}
	slices.Sort(names)
	return nil, fmt.Errorf("artifact %s has no file %q (it has %q)", a.Digest(), path, names)
}
