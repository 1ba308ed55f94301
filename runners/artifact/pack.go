package artifact

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway-ml/slipway/compiler/version"
)

// Input is what Pack packs.
type Input struct {
	// Name is the pipeline's name (lower-case letters, digits and dashes,
	// starting with a letter, at most 63 characters): descriptor.name and
	// the default title.
	Name string
	// Version is the model's version (org.opencontainers.image.version,
	// descriptor.version); omitted when empty.
	Version string
	// Title and Description are for people. Title defaults to Name,
	// Description to "<kind> <task> model of the Slipway pipeline <name>".
	Title       string
	Description string
	// Authors and Licenses (SPDX expressions) go to the descriptor.
	Authors  []string
	Licenses []string
	// DocURL is the documentation's address.
	DocURL string
	// Source is the source repository's address
	// (org.opencontainers.image.source, descriptor.sourceURL).
	Source string
	// DatasetsURL are the datasets' addresses (descriptor.datasetsURL).
	DatasetsURL []string
	// Revision is the Git commit of the spec
	// (org.opencontainers.image.revision, descriptor.revision and
	// lineage.json's commit).
	Revision string
	// Created is the artifact's creation time, for example the commit's
	// time; the Unix epoch when zero. It is truncated to the second and
	// written in UTC. Packing never reads the clock.
	Created time.Time
	// ParamSize is the model's parameter count as ModelPack writes it
	// (for example "12k"); omitted when empty.
	ParamSize string
	// SpecDigest is the digest of the compiled pipeline spec
	// (dev.slipway.spec-digest and lineage.json).
	SpecDigest string
	// Datasets maps each dataset's name to its content digest
	// (lineage.json).
	Datasets map[string]string
	// SlipwayVersion is the Slipway release (dev.slipway.slipway-version
	// and lineage.json); defaults to this build's.
	SlipwayVersion string
	// PII is how the pipeline treats personal data (schema.json's pii);
	// nil or without columns when no column is PII.
	PII *PII
	// Files are the model's files: model.bin, train.json and
	// features.json are required; evaluation.json, gates.json,
	// report.json and report.html are optional; schema.json and
	// lineage.json are made by Pack and must not be given. Any other file
	// needs a MediaType. ReadFiles collects them from the steps'
	// directories.
	Files []File
}

// knownFiles gives the media type of each file Pack knows.
var knownFiles = map[string]string{
	"model.bin":       MediaTypeWeight,
	"train.json":      MediaTypeWeightConfig,
	"features.json":   MediaTypeWeightConfig,
	"schema.json":     MediaTypeWeightConfig,
	LineageFile:       MediaTypeDoc,
	"evaluation.json": MediaTypeDoc,
	"gates.json":      MediaTypeDoc,
	"report.json":     MediaTypeDoc,
	"report.html":     MediaTypeDoc,
	ReferenceFile:     MediaTypeDataset,
}

// requiredFiles must be among Input.Files.
var requiredFiles = []string{"features.json", "model.bin", "train.json"}

// modelKinds are the model kinds a model.bin may hold.
var modelKinds = []string{"gbdt", "logistic", "mlp"}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

// CheckName checks a pipeline name: lower-case letters, digits and
// dashes, starting with a letter, at most 63 characters.
func CheckName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("pipeline name %q: want lower-case letters, digits and dashes, starting with a letter, at most 63 characters", name)
	}
	return nil
}

// FileMetadata is the value of a layer's org.cncf.model.file.metadata+json
// annotation, as ModelPack defines it (Typeflag is a byte, so JSON holds
// tar.TypeReg '0' as the number 48).
type FileMetadata struct {
	// Name is the file's base name.
	Name string `json:"name"`
	// Mode is the permission bits, 0644.
	Mode uint32 `json:"mode"`
	// UID and GID are 0.
	UID uint32 `json:"uid"`
	GID uint32 `json:"gid"`
	// Size is the file's size in bytes.
	Size int64 `json:"size"`
	// ModTime is the artifact's creation time (RFC 3339, UTC).
	ModTime string `json:"mtime"`
	// Typeflag is tar.TypeReg, a regular file.
	Typeflag byte `json:"typeflag"`
}

// trainDoc is the part of train.json Pack reads.
type trainDoc struct {
	Model  string          `json:"model"`
	Task   string          `json:"task"`
	Params json.RawMessage `json:"params"`
}

// evaluationDoc is the part of evaluation.json Pack reads.
type evaluationDoc struct {
	Splits map[string]*struct {
		Metrics map[string]*float64 `json:"metrics"`
	} `json:"splits"`
}

// Pack packs a trained model into an artifact. The same Input always
// gives the same bytes, whatever the order of Input.Files.
func Pack(in Input) (*Artifact, error) {
	if err := CheckName(in.Name); err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	files, err := collect(in.Files)
	if err != nil {
		return nil, fmt.Errorf("pack %s: %w", in.Name, err)
	}
	var td trainDoc
	if err := json.Unmarshal(files["train.json"].Data, &td); err != nil {
		return nil, fmt.Errorf("pack %s: read train.json: %w", in.Name, err)
	}
	if !slices.Contains(modelKinds, td.Model) {
		return nil, fmt.Errorf("pack %s: train.json names model kind %q, want one of %q", in.Name, td.Model, modelKinds)
	}
	schema, err := SchemaFromFeatures(files["features.json"].Data)
	if err != nil {
		return nil, fmt.Errorf("pack %s: %w", in.Name, err)
	}
	if td.Task != schema.Task {
		return nil, fmt.Errorf("pack %s: train.json says task %q, features.json %q", in.Name, td.Task, schema.Task)
	}
	if in.PII != nil && len(in.PII.Columns) > 0 {
		pp := &PII{Action: in.PII.Action, Columns: slices.Clone(in.PII.Columns)}
		slices.Sort(pp.Columns)
		pp.Columns = slices.Compact(pp.Columns)
		if pp.Action != "drop" && pp.Action != "pseudonymize" {
			return nil, fmt.Errorf("pack %s: PII action %q, want drop or pseudonymize", in.Name, pp.Action)
		}
		schema.PII = pp
	}
	sb, err := canonicalJSON(schema, true)
	if err != nil {
		return nil, fmt.Errorf("pack %s: encode schema.json: %w", in.Name, err)
	}
	files["schema.json"] = File{Path: "schema.json", Data: sb, MediaType: MediaTypeWeightConfig}

	lin := &Lineage{
		APIVersion: LineageAPIVersion, Pipeline: in.Name, SpecDigest: in.SpecDigest, Commit: in.Revision,
		Datasets: in.Datasets, SlipwayVersion: in.SlipwayVersion, Model: td.Model, Task: td.Task, Parameters: td.Params,
	}
	if lin.SlipwayVersion == "" {
		lin.SlipwayVersion = version.Version
	}
	if f, ok := files["evaluation.json"]; ok {
		var ev evaluationDoc
		if err := json.Unmarshal(f.Data, &ev); err != nil {
			return nil, fmt.Errorf("pack %s: read evaluation.json: %w", in.Name, err)
		}
		for split, se := range ev.Splits {
			if se == nil {
				continue
			}
			for name, v := range se.Metrics {
				if v == nil {
					continue // undefined on this split
				}
				if lin.Metrics == nil {
					lin.Metrics = map[string]map[string]float64{}
				}
				if lin.Metrics[split] == nil {
					lin.Metrics[split] = map[string]float64{}
				}
				lin.Metrics[split][name] = *v
			}
		}
	}
	if f, ok := files["gates.json"]; ok {
		if err := json.Unmarshal(f.Data, &lin.Gates); err != nil {
			return nil, fmt.Errorf("pack %s: read gates.json: %w", in.Name, err)
		}
	}
	lb, err := canonicalJSON(lin, true)
	if err != nil {
		return nil, fmt.Errorf("pack %s: encode %s: %w", in.Name, LineageFile, err)
	}
	if len(lb) > MaxLineageSize {
		return nil, fmt.Errorf("pack %s: %s is %d bytes, more than the %d allowed", in.Name, LineageFile, len(lb), MaxLineageSize)
	}
	files[LineageFile] = File{Path: LineageFile, Data: lb, MediaType: MediaTypeDoc}
	metrics, err := metricsAnnotation(lin)
	if err != nil {
		return nil, fmt.Errorf("pack %s: %w", in.Name, err)
	}

	created := in.Created
	if created.IsZero() {
		created = time.Unix(0, 0)
	}
	stamp := created.UTC().Truncate(time.Second).Format(time.RFC3339)

	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	a := &Artifact{Blobs: make(map[string][]byte, len(paths))}
	layers := make([]v1.Descriptor, 0, len(paths))
	diffIDs := make([]string, 0, len(paths))
	for _, p := range paths {
		f := files[p]
		d := Digest(f.Data)
		h, err := v1.NewHash(d)
		if err != nil {
			return nil, fmt.Errorf("pack %s: %s: %w", in.Name, p, err)
		}
		meta, err := canonicalJSON(FileMetadata{Name: path.Base(p), Mode: 0o644, Size: int64(len(f.Data)), ModTime: stamp, Typeflag: tar.TypeReg}, false)
		if err != nil {
			return nil, fmt.Errorf("pack %s: %s: %w", in.Name, p, err)
		}
		layers = append(layers, v1.Descriptor{
			MediaType: types.MediaType(f.MediaType), Size: int64(len(f.Data)), Digest: h,
			Annotations: map[string]string{
				AnnotationFilepath:          p,
				AnnotationFileMetadata:      string(meta),
				AnnotationMediaTypeUntested: "false",
			},
		})
		diffIDs = append(diffIDs, d)
		a.Blobs[d] = bytes.Clone(f.Data)
	}

	title := in.Title
	if title == "" {
		title = in.Name
	}
	desc := in.Description
	if desc == "" {
		desc = fmt.Sprintf("%s %s model of the Slipway pipeline %s", td.Model, td.Task, in.Name)
	}
	cfg := Config{
		Descriptor: ModelDescriptor{
			CreatedAt: stamp, Authors: in.Authors, Vendor: Vendor, Family: td.Model, Name: in.Name,
			Version: in.Version, Title: title, Description: desc, DocURL: in.DocURL, SourceURL: in.Source,
			DatasetsURL: in.DatasetsURL, Revision: in.Revision, Licenses: in.Licenses,
		},
		Config: ModelConfig{
			Architecture: td.Model, Format: "slipway-" + td.Model + "-v1", ParamSize: in.ParamSize,
			Precision: "fp64", Quantization: "none",
			Capabilities: &Capabilities{InputTypes: []string{"other"}, OutputTypes: []string{"other"}},
		},
		ModelFS: ModelFS{Type: "layers", DiffIDs: diffIDs},
	}
	if a.Config, err = canonicalJSON(cfg, false); err != nil {
		return nil, fmt.Errorf("pack %s: encode config: %w", in.Name, err)
	}
	ch, err := v1.NewHash(Digest(a.Config))
	if err != nil {
		return nil, fmt.Errorf("pack %s: config: %w", in.Name, err)
	}
	ann := map[string]string{
		AnnotationCreated: stamp, AnnotationTitle: title, AnnotationDescription: desc,
		AnnotationSlipwayVersion: lin.SlipwayVersion, AnnotationTask: td.Task,
	}
	for k, v := range map[string]string{
		AnnotationSource: in.Source, AnnotationRevision: in.Revision, AnnotationVersion: in.Version,
		AnnotationSpecDigest: in.SpecDigest, AnnotationMetrics: metrics,
	} {
		if v != "" {
			ann[k] = v
		}
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     MediaTypeManifest,
		ArtifactType:  ArtifactType,
		Config:        v1.Descriptor{MediaType: MediaTypeConfig, Size: int64(len(a.Config)), Digest: ch},
		Layers:        layers,
		Annotations:   ann,
	}
	if a.Manifest, err = canonicalJSON(m, false); err != nil {
		return nil, fmt.Errorf("pack %s: encode manifest: %w", in.Name, err)
	}
	if len(a.Manifest) > MaxManifestSize {
		return nil, fmt.Errorf("pack %s: the manifest is %d bytes, more than the %d allowed", in.Name, len(a.Manifest), MaxManifestSize)
	}
	return a, nil
}

// collect checks the input files and indexes them by path, with their
// media types filled in.
func collect(in []File) (map[string]File, error) {
	files := make(map[string]File, len(in)+1)
	for _, f := range in {
		if err := CheckPath(f.Path); err != nil {
			return nil, fmt.Errorf("file %w", err)
		}
		if _, dup := files[f.Path]; dup {
			return nil, fmt.Errorf("file %q is given twice", f.Path)
		}
		switch f.Path {
		case "schema.json":
			return nil, errors.New("schema.json is derived from features.json; do not give it")
		case LineageFile:
			return nil, fmt.Errorf("%s is made from the input and the other files; do not give it", LineageFile)
		}
		known, ok := knownFiles[f.Path]
		switch {
		case f.MediaType == "" && !ok:
			return nil, fmt.Errorf("file %q: unknown file and no media type (known files: %s)", f.Path, knownList())
		case f.MediaType == "":
			f.MediaType = known
		case !slices.Contains(rawLayerTypes, f.MediaType):
			return nil, fmt.Errorf("file %q: media type %q, want one of %q", f.Path, f.MediaType, rawLayerTypes)
		}
		files[f.Path] = f
	}
	for _, r := range requiredFiles {
		if _, ok := files[r]; !ok {
			return nil, fmt.Errorf("no %s among the files: a model needs %q", r, requiredFiles)
		}
	}
	return files, nil
}

func knownList() string {
	var names []string
	for n := range knownFiles {
		names = append(names, n)
	}
	slices.Sort(names)
	return fmt.Sprintf("%q", names)
}

// Dirs are the step output directories a model's files come from.
type Dirs struct {
	// Model is the train step's output: model.bin, train.json.
	Model string
	// Features is the features step's output: features.json.
	Features string
	// Evaluation is the evaluate step's output: evaluation.json
	// (optional; "" skips it).
	Evaluation string
	// Run is the run directory: gates.json, report.json, report.html
	// (each optional; "" skips them).
	Run string
}

// ReadFiles reads a model's files from the step output directories. The
// model and features files are required; the evaluation and run files
// are read when present.
func ReadFiles(d Dirs) ([]File, error) {
	type src struct {
		dir, name string
		required  bool
	}
	srcs := []src{
		{d.Model, "model.bin", true}, {d.Model, "train.json", true}, {d.Features, "features.json", true},
		{d.Evaluation, "evaluation.json", false},
		{d.Run, "gates.json", false}, {d.Run, "report.json", false}, {d.Run, "report.html", false},
	}
	var out []File
	for _, s := range srcs {
		if s.dir == "" {
			if s.required {
				return nil, fmt.Errorf("read model files: no directory given for %s", s.name)
			}
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.dir, s.name))
		if errors.Is(err, fs.ErrNotExist) && !s.required {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read model files: %w", err)
		}
		out = append(out, File{Path: s.name, Data: b})
	}
	return out, nil
}

// canonicalJSON encodes v with sorted object keys at every level, no HTML
// escaping, compact or indented by two spaces (with a final newline).
func canonicalJSON(v any, indent bool) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(x); err != nil {
		return nil, err
	}
	out := buf.Bytes()
	if !indent {
		out = bytes.TrimSuffix(out, []byte("\n"))
	}
	return out, nil
}
