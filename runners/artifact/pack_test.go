package artifact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/slipway-ml/slipway/compiler/version"
)

// fixture is the model in testdata, with fixed metadata.
func fixture(t testing.TB) Input {
	t.Helper()
	files, err := ReadFiles(Dirs{Model: "testdata/model", Features: "testdata/features", Evaluation: "testdata/evaluation", Run: "testdata/run"})
	if err != nil {
		t.Fatal(err)
	}
	return Input{
		Name:           "churn",
		Version:        "1.2.0",
		Authors:        []string{"ML team <ml@example.com>"},
		Licenses:       []string{"Apache-2.0"},
		Source:         "https://github.com/example/ml",
		DatasetsURL:    []string{"s3://example-ml/customers.parquet"},
		Revision:       "0123456789abcdef0123456789abcdef01234567",
		Created:        time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		SpecDigest:     "sha256:" + strings.Repeat("ab", 32),
		Datasets:       map[string]string{"customers": "sha256:" + strings.Repeat("cd", 32)},
		SlipwayVersion: "0.1.0",
		Files:          files,
	}
}

func pack(t testing.TB, in Input) *Artifact {
	t.Helper()
	a, err := Pack(in)
	if err != nil {
		t.Fatalf("Pack: %v", err)
	}
	return a
}

func TestPackDeterministic(t *testing.T) {
	in := fixture(t)
	a := pack(t, in)
	b := pack(t, in)
	if a.Digest() != b.Digest() || !bytes.Equal(a.Manifest, b.Manifest) || !bytes.Equal(a.Config, b.Config) {
		t.Fatalf("two packs of one input differ: %s vs %s", a.Digest(), b.Digest())
	}
	rev := in
	rev.Files = slices.Clone(in.Files)
	slices.Reverse(rev.Files)
	if c := pack(t, rev); c.Digest() != a.Digest() {
		t.Fatalf("reversed file order changed the digest: %s vs %s", c.Digest(), a.Digest())
	}
	rot := in
	rot.Files = append(slices.Clone(in.Files[3:]), in.Files[:3]...)
	if c := pack(t, rot); c.Digest() != a.Digest() {
		t.Fatalf("rotated file order changed the digest: %s vs %s", c.Digest(), a.Digest())
	}
	// Any change to the input changes the digest.
	changed := in
	changed.Created = in.Created.Add(time.Second)
	if c := pack(t, changed); c.Digest() == a.Digest() {
		t.Fatal("a different creation time gave the same digest")
	}
	// Sub-second parts of Created are dropped.
	ns := in
	ns.Created = in.Created.Add(123 * time.Millisecond)
	if c := pack(t, ns); c.Digest() != a.Digest() {
		t.Fatal("sub-second creation time changed the digest")
	}
	if err := a.Verify(); err != nil {
		t.Fatalf("Verify of a fresh pack: %v", err)
	}
}

func TestPackManifest(t *testing.T) {
	in := fixture(t)
	a := pack(t, in)
	canon, err := canonicalJSON(json.RawMessage(a.Manifest), false)
	if err != nil || !bytes.Equal(canon, a.Manifest) {
		t.Fatalf("manifest is not canonical JSON (sorted keys, compact):\n%s", a.Manifest)
	}
	m, err := ParseManifest(a.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != MediaTypeManifest || m.ArtifactType != ArtifactType || m.Config.MediaType != MediaTypeConfig {
		t.Fatalf("manifest types: %s, %s, config %s", m.MediaType, m.ArtifactType, m.Config.MediaType)
	}
	wantAnn := map[string]string{
		AnnotationCreated:        "2025-01-02T03:04:05Z",
		AnnotationSource:         in.Source,
		AnnotationRevision:       in.Revision,
		AnnotationVersion:        "1.2.0",
		AnnotationTitle:          "churn",
		AnnotationDescription:    "logistic binary model of the Slipway pipeline churn",
		AnnotationSpecDigest:     in.SpecDigest,
		AnnotationSlipwayVersion: "0.1.0",
		AnnotationTask:           "binary",
		AnnotationMetrics:        `{"accuracy":1,"log_loss":0.31,"roc_auc":0.875}`,
	}
	if !maps.Equal(m.Annotations, wantAnn) {
		t.Errorf("annotations = %v, want %v", m.Annotations, wantAnn)
	}
	wantLayers := []struct{ path, mt string }{
		{"evaluation.json", MediaTypeDoc}, {"features.json", MediaTypeWeightConfig}, {"gates.json", MediaTypeDoc},
		{"lineage.json", MediaTypeDoc}, {"model.bin", MediaTypeWeight}, {"report.html", MediaTypeDoc}, {"report.json", MediaTypeDoc},
		{"schema.json", MediaTypeWeightConfig}, {"train.json", MediaTypeWeightConfig},
	}
	if len(m.Layers) != len(wantLayers) {
		t.Fatalf("%d layers, want %d", len(m.Layers), len(wantLayers))
	}
	for i, l := range m.Layers {
		w := wantLayers[i]
		if got := l.Annotations[AnnotationFilepath]; got != w.path || string(l.MediaType) != w.mt {
			t.Errorf("layer %d = %s %s, want %s %s", i, got, l.MediaType, w.path, w.mt)
		}
		if l.Annotations[AnnotationMediaTypeUntested] != "false" {
			t.Errorf("layer %s: untested = %q", w.path, l.Annotations[AnnotationMediaTypeUntested])
		}
		var fm FileMetadata
		if err := json.Unmarshal([]byte(l.Annotations[AnnotationFileMetadata]), &fm); err != nil {
			t.Fatalf("layer %s metadata: %v", w.path, err)
		}
		want := FileMetadata{Name: w.path, Mode: 0o644, Size: l.Size, ModTime: "2025-01-02T03:04:05Z", Typeflag: '0'}
		if fm != want {
			t.Errorf("layer %s metadata = %+v, want %+v", w.path, fm, want)
		}
		if !strings.Contains(l.Annotations[AnnotationFileMetadata], `"typeflag":48`) {
			t.Errorf("layer %s metadata %s: typeflag is not the byte '0' (48)", w.path, l.Annotations[AnnotationFileMetadata])
		}
		if b := a.Blobs[l.Digest.String()]; int64(len(b)) != l.Size || Digest(b) != l.Digest.String() {
			t.Errorf("layer %s: blob does not match its descriptor", w.path)
		}
	}
	model, err := a.File("model.bin")
	if err != nil {
		t.Fatal(err)
	}
	if want := fileData(t, in, "model.bin"); !bytes.Equal(model, want) {
		t.Error("model.bin in the artifact differs from the input")
	}
}

func fileData(t *testing.T, in Input, p string) []byte {
	t.Helper()
	for _, f := range in.Files {
		if f.Path == p {
			return f.Data
		}
	}
	t.Fatalf("no %s in the input", p)
	return nil
}

func TestPackConfig(t *testing.T) {
	in := fixture(t)
	in.ParamSize = "5"
	a := pack(t, in)
	var raw map[string]any
	if err := json.Unmarshal(a.Config, &raw); err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(maps.Keys(raw)); !slices.Equal(got, []string{"config", "descriptor", "modelfs"}) {
		t.Fatalf("config keys = %v, want exactly ModelPack's descriptor, config and modelfs", got)
	}
	if errs := conformConfig(t, a.Config); len(errs) > 0 {
		t.Errorf("config breaks ModelPack's config schema: %q", errs)
	}
	c, err := a.ConfigOf()
	if err != nil {
		t.Fatal(err)
	}
	wantDesc := ModelDescriptor{
		CreatedAt: "2025-01-02T03:04:05Z", Authors: in.Authors, Vendor: "slipway", Family: "logistic", Name: "churn",
		Version: "1.2.0", Title: "churn", Description: "logistic binary model of the Slipway pipeline churn",
		SourceURL: in.Source, DatasetsURL: in.DatasetsURL, Revision: in.Revision, Licenses: in.Licenses,
	}
	if gotJ, wantJ := mustJSON(t, c.Descriptor), mustJSON(t, wantDesc); gotJ != wantJ {
		t.Errorf("descriptor = %s\nwant %s", gotJ, wantJ)
	}
	wantCfg := `{"architecture":"logistic","format":"slipway-logistic-v1","paramSize":"5","precision":"fp64","quantization":"none","capabilities":{"inputTypes":["other"],"outputTypes":["other"]}}`
	if got := mustJSON(t, c.Config); got != wantCfg {
		t.Errorf("config = %s\nwant %s", got, wantCfg)
	}
	m, _ := a.ManifestOf()
	var layerDigests []string
	for _, l := range m.Layers {
		layerDigests = append(layerDigests, l.Digest.String())
	}
	if c.ModelFS.Type != "layers" || !slices.Equal(c.ModelFS.DiffIDs, layerDigests) {
		t.Errorf("modelfs = %+v, want the layer digests %v", c.ModelFS, layerDigests)
	}
}

func TestPackLineage(t *testing.T) {
	in := fixture(t)
	a := pack(t, in)
	l, err := a.Lineage()
	if err != nil {
		t.Fatal(err)
	}
	if l.APIVersion != LineageAPIVersion || l.Pipeline != "churn" || l.SpecDigest != in.SpecDigest || l.Commit != in.Revision ||
		l.SlipwayVersion != "0.1.0" || l.Model != "logistic" || l.Task != "binary" || !maps.Equal(l.Datasets, in.Datasets) {
		t.Errorf("lineage = %+v", l)
	}
	if got := l.Metrics["test"]; got["roc_auc"] != 0.875 || got["accuracy"] != 1 || len(got) != 3 {
		t.Errorf("lineage test metrics = %v", got)
	}
	if len(l.Gates) != 1 || l.Gates[0].Name != "auc" || !l.Gates[0].Passed || l.Gates[0].Value == nil || *l.Gates[0].Value != 0.875 {
		t.Errorf("lineage gates = %+v", l.Gates)
	}
	var params map[string]any
	if err := json.Unmarshal(l.Parameters, &params); err != nil || params["Solver"] != "lbfgs" {
		t.Errorf("lineage parameters = %s (%v)", l.Parameters, err)
	}
	b, err := a.File(LineageFile)
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "apiVersion": "slipway.dev/lineage/v1",
  "commit": "0123456789abcdef0123456789abcdef01234567",
  "datasets": {
    "customers": "sha256:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
  },
  "gates": [
    {
      "metric": "roc_auc",
      "name": "auc",
      "passed": true,
      "split": "test",
      "value": 0.875
    }
  ],
  "metrics": {
    "test": {
      "accuracy": 1,
      "log_loss": 0.31,
      "roc_auc": 0.875
    }
  },
  "model": "logistic",
  "parameters": {
    "C": 1,
    "ClassWeight": "",
    "FitIntercept": true,
    "L1Ratio": 0,
    "MaxIter": 100,
    "Solver": "lbfgs",
    "Threads": 1,
    "Tol": 0.0001,
    "Weights": [
      1,
      1
    ]
  },
  "pipeline": "churn",
  "slipwayVersion": "0.1.0",
  "specDigest": "sha256:abababababababababababababababababababababababababababababababab",
  "task": "binary"
}
`
	if string(b) != want {
		t.Errorf("lineage.json =\n%s\nwant\n%s", b, want)
	}
	// The manifest's metrics annotation is the lineage's test metrics.
	m, _ := a.ManifestOf()
	got, err := ParseMetrics(m.Annotations[AnnotationMetrics])
	if err != nil || !maps.Equal(got, l.Metrics["test"]) {
		t.Errorf("metrics annotation = %v (%v), want %v", got, err, l.Metrics["test"])
	}
}

func TestPackMetricsAnnotation(t *testing.T) {
	many := map[string]float64{}
	for i := range 100 {
		many[fmt.Sprintf("metric_%03d", i)] = 0.123456789
	}
	tests := []struct {
		name    string
		metrics map[string]map[string]float64
		want    string
	}{
		{"none", nil, ""},
		{"test", map[string]map[string]float64{"test": {"rmse": 2.5, "mae": 1}, "validation": {"rmse": 3}}, `{"mae":1,"rmse":2.5}`},
		{"validation only", map[string]map[string]float64{"validation": {"rmse": 3}}, `{"rmse":3}`},
		{"empty test split", map[string]map[string]float64{"test": {}, "validation": {"rmse": 3}}, `{"rmse":3}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := metricsAnnotation(&Lineage{Metrics: tt.metrics})
			if err != nil || got != tt.want {
				t.Errorf("metricsAnnotation = %q, %v, want %q", got, err, tt.want)
			}
		})
	}
	got, err := metricsAnnotation(&Lineage{Metrics: map[string]map[string]float64{"test": many}})
	if err != nil || len(got) > MaxMetricsAnnotation || len(got) < MaxMetricsAnnotation-40 {
		t.Fatalf("metrics annotation of 100 metrics is %d bytes (%v), want close to but at most %d", len(got), err, MaxMetricsAnnotation)
	}
	parsed, err := ParseMetrics(got)
	if err != nil || len(parsed) == 0 || len(parsed) == len(many) {
		t.Fatalf("ParseMetrics of the cut annotation = %d metrics, %v", len(parsed), err)
	}
	names := slices.Sorted(maps.Keys(many))
	if kept := slices.Sorted(maps.Keys(parsed)); !slices.Equal(kept, names[:len(kept)]) {
		t.Errorf("kept %v, want the first metrics by name", kept)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPackSchema(t *testing.T) {
	a := pack(t, fixture(t))
	b, err := a.File("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "inputs": [
    {
      "name": "age",
      "type": "number"
    },
    {
      "name": "plan",
      "type": "string"
    },
    {
      "name": "signup",
      "type": "timestamp"
    }
  ],
  "output": {
    "label": "churned",
    "maximum": 1,
    "minimum": 0,
    "name": "probability",
    "positive": "yes",
    "type": "number"
  },
  "task": "binary",
  "version": 1
}
`
	if string(b) != want {
		t.Errorf("schema.json =\n%s\nwant\n%s", b, want)
	}
}

func TestPackDefaults(t *testing.T) {
	in := fixture(t)
	in.Created = time.Time{}
	in.Version, in.Source, in.Revision, in.SlipwayVersion = "", "", "", ""
	in.Files = slices.DeleteFunc(slices.Clone(in.Files), func(f File) bool {
		return f.Path != "model.bin" && f.Path != "train.json" && f.Path != "features.json"
	})
	a := pack(t, in)
	m, err := a.ManifestOf()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		AnnotationCreated:        "1970-01-01T00:00:00Z",
		AnnotationTitle:          "churn",
		AnnotationDescription:    "logistic binary model of the Slipway pipeline churn",
		AnnotationSpecDigest:     in.SpecDigest,
		AnnotationSlipwayVersion: version.Version,
		AnnotationTask:           "binary",
	}
	if !maps.Equal(m.Annotations, want) {
		t.Errorf("annotations = %v, want %v", m.Annotations, want)
	}
	if len(m.Layers) != 5 {
		t.Errorf("%d layers, want model.bin, train.json, features.json, schema.json, lineage.json", len(m.Layers))
	}
	l, err := a.Lineage()
	if err != nil {
		t.Fatal(err)
	}
	if l.SlipwayVersion != version.Version || l.Commit != "" || l.Metrics != nil || l.Gates != nil {
		t.Errorf("lineage = %+v", l)
	}
}

func TestPackExtraFile(t *testing.T) {
	in := fixture(t)
	in.Files = append(slices.Clone(in.Files), File{Path: "docs/README.md", Data: []byte("# churn\n"), MediaType: MediaTypeDoc})
	a := pack(t, in)
	b, err := a.File("docs/README.md")
	if err != nil || string(b) != "# churn\n" {
		t.Fatalf("docs/README.md = %q, %v", b, err)
	}
}

func TestPackErrors(t *testing.T) {
	replace := func(p string, data string) func(*Input) {
		return func(in *Input) {
			for i, f := range in.Files {
				if f.Path == p {
					in.Files[i].Data = []byte(data)
				}
			}
		}
	}
	tests := []struct {
		name   string
		change func(*Input)
		want   string
	}{
		{"bad name", func(in *Input) { in.Name = "Churn_1" }, `pipeline name "Churn_1"`},
		{"no model.bin", func(in *Input) {
			in.Files = slices.DeleteFunc(in.Files, func(f File) bool { return f.Path == "model.bin" })
		}, "no model.bin among the files"},
		{"schema.json given", func(in *Input) { in.Files = append(in.Files, File{Path: "schema.json", Data: []byte("{}")}) }, "schema.json is derived"},
		{"lineage.json given", func(in *Input) {
			in.Files = append(in.Files, File{Path: "lineage.json", Data: []byte("{}"), MediaType: MediaTypeDoc})
		}, "lineage.json is made from the input"},
		{"unknown file", func(in *Input) { in.Files = append(in.Files, File{Path: "notes.txt"}) }, `"notes.txt": unknown file and no media type`},
		{"bad media type", func(in *Input) {
			in.Files = append(in.Files, File{Path: "notes.txt", MediaType: "application/vnd.cncf.model.doc.v1.tar"})
		}, `media type "application/vnd.cncf.model.doc.v1.tar"`},
		{"escaping path", func(in *Input) { in.Files = append(in.Files, File{Path: "../x", MediaType: MediaTypeDoc}) }, "unsafe file path"},
		{"absolute path", func(in *Input) { in.Files = append(in.Files, File{Path: "/etc/x", MediaType: MediaTypeDoc}) }, "unsafe file path"},
		{"duplicate", func(in *Input) { in.Files = append(in.Files, in.Files[0]) }, "is given twice"},
		{"unknown model kind", replace("train.json", `{"model":"forest","task":"binary"}`), `model kind "forest"`},
		{"task mismatch", replace("train.json", `{"model":"gbdt","task":"regression"}`), `train.json says task "regression", features.json "binary"`},
		{"bad features", replace("features.json", `{"version":2}`), "read features.json"},
		{"bad evaluation", replace("evaluation.json", `[`), "read evaluation.json"},
		{"bad gates", replace("gates.json", `{}`), "read gates.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := fixture(t)
			in.Files = slices.Clone(in.Files)
			tt.change(&in)
			_, err := Pack(in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Pack error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestReadFilesRequired(t *testing.T) {
	if _, err := ReadFiles(Dirs{Model: "testdata/model"}); err == nil || !strings.Contains(err.Error(), "features.json") {
		t.Errorf("ReadFiles without a features directory: %v", err)
	}
	if _, err := ReadFiles(Dirs{Model: "testdata/features", Features: "testdata/features"}); err == nil || !strings.Contains(err.Error(), "model.bin") {
		t.Errorf("ReadFiles without model.bin: %v", err)
	}
	files, err := ReadFiles(Dirs{Model: "testdata/model", Features: "testdata/features", Run: "testdata/evaluation"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Path)
	}
	if !slices.Equal(names, []string{"model.bin", "train.json", "features.json"}) {
		t.Errorf("files = %v", names)
	}
}

// tamper returns a copy of the artifact with one layer's blob changed.
func tamper(t *testing.T, a *Artifact, file string, change func([]byte) []byte) *Artifact {
	t.Helper()
	m, err := ParseManifest(a.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	b := &Artifact{Manifest: a.Manifest, Config: a.Config, Blobs: maps.Clone(a.Blobs)}
	for _, l := range m.Layers {
		if l.Annotations[AnnotationFilepath] == file {
			d := l.Digest.String()
			if change == nil {
				delete(b.Blobs, d)
			} else {
				b.Blobs[d] = change(bytes.Clone(a.Blobs[d]))
			}
			return b
		}
	}
	t.Fatalf("no layer %s", file)
	return nil
}

func TestVerifyTamper(t *testing.T) {
	a := pack(t, fixture(t))
	tests := []struct {
		name string
		art  *Artifact
		want error
		blob string
	}{
		{"changed layer", tamper(t, a, "model.bin", func(b []byte) []byte { b[0] ^= 1; return b }), ErrBlobDigest, `layer "model.bin"`},
		{"truncated layer", tamper(t, a, "features.json", func(b []byte) []byte { return b[:len(b)-1] }), ErrBlobTruncated, `layer "features.json"`},
		{"longer layer", tamper(t, a, "train.json", func(b []byte) []byte { return append(b, ' ') }), ErrBlobTooLong, `layer "train.json"`},
		{"missing layer", tamper(t, a, "schema.json", nil), ErrBlobMissing, `layer "schema.json"`},
		{"changed config", &Artifact{Manifest: a.Manifest, Config: bytes.Replace(a.Config, []byte("churn"), []byte("chirn"), 1), Blobs: a.Blobs}, ErrBlobDigest, "config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.art.Verify()
			var be *BlobError
			if !errors.Is(err, tt.want) || !errors.As(err, &be) || be.Blob != tt.blob {
				t.Fatalf("Verify = %v, want %v on %s", err, tt.want, tt.blob)
			}
			if !strings.Contains(err.Error(), be.Digest) || !strings.HasPrefix(be.Digest, "sha256:") {
				t.Errorf("error %q does not name the blob's digest", err)
			}
			if err := Unpack(tt.art, t.TempDir()); !errors.Is(err, tt.want) {
				t.Errorf("Unpack of a tampered artifact = %v, want %v", err, tt.want)
			}
		})
	}
}

// rewrite decodes the artifact's manifest, changes it and encodes it
// again.
func rewrite(t *testing.T, manifest []byte, change func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(manifest, &m); err != nil {
		t.Fatal(err)
	}
	change(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func layerAt(m map[string]any, i int) map[string]any {
	return m["layers"].([]any)[i].(map[string]any)
}

func TestParseManifestRejects(t *testing.T) {
	a := pack(t, fixture(t))
	tests := []struct {
		name   string
		change func(m map[string]any)
		is     error
		want   string
	}{
		{"artifactType", func(m map[string]any) { m["artifactType"] = "application/vnd.unknown.artifact.v1" }, ErrNotModelPack, "artifactType"},
		{"no artifactType", func(m map[string]any) { delete(m, "artifactType") }, ErrNotModelPack, "artifactType"},
		{"mediaType", func(m map[string]any) { m["mediaType"] = "application/vnd.docker.distribution.manifest.v2+json" }, ErrNotModelPack, "mediaType"},
		{"config type", func(m map[string]any) {
			m["config"].(map[string]any)["mediaType"] = "application/vnd.oci.image.config.v1+json"
		}, ErrNotModelPack, "config mediaType"},
		{"tar layer", func(m map[string]any) { layerAt(m, 0)["mediaType"] = "application/vnd.cncf.model.doc.v1.tar" }, ErrNotModelPack, "layer 1"},
		{"no layers", func(m map[string]any) { m["layers"] = []any{} }, ErrNotModelPack, "no layers"},
		{"schemaVersion", func(m map[string]any) { m["schemaVersion"] = 1 }, nil, "schemaVersion is 1"},
		{"escaping path", func(m map[string]any) {
			layerAt(m, 0)["annotations"].(map[string]any)[AnnotationFilepath] = "../../etc/cron.d/x"
		}, ErrUnsafePath, "unsafe file path"},
		{"absolute path", func(m map[string]any) {
			layerAt(m, 0)["annotations"].(map[string]any)[AnnotationFilepath] = "/etc/passwd"
		}, ErrUnsafePath, "unsafe file path"},
		{"backslash path", func(m map[string]any) {
			layerAt(m, 0)["annotations"].(map[string]any)[AnnotationFilepath] = `..\x`
		}, ErrUnsafePath, "backslash"},
		{"no path", func(m map[string]any) {
			delete(layerAt(m, 0)["annotations"].(map[string]any), AnnotationFilepath)
		}, nil, "no org.cncf.model.filepath"},
		{"duplicate path", func(m map[string]any) {
			layerAt(m, 1)["annotations"].(map[string]any)[AnnotationFilepath] = "evaluation.json"
		}, nil, "appears twice"},
		{"huge layer", func(m map[string]any) { layerAt(m, 0)["size"] = float64(MaxLayerSize + 1) }, nil, "outside 0.."},
		{"negative size", func(m map[string]any) { m["config"].(map[string]any)["size"] = -1 }, nil, "outside 0.."},
		{"sha512", func(m map[string]any) { layerAt(m, 0)["digest"] = "sha512:" + strings.Repeat("0", 128) }, nil, "sha512"},
		{"no lineage layer", func(m map[string]any) {
			m["layers"] = slices.Delete(m["layers"].([]any), 3, 4)
		}, ErrNotModelPack, "no lineage.json layer"},
		{"lineage renamed", func(m map[string]any) {
			layerAt(m, 3)["annotations"].(map[string]any)[AnnotationFilepath] = "docs/lineage.json"
		}, ErrNotModelPack, "not packed by Slipway"},
		{"lineage media type", func(m map[string]any) { layerAt(m, 3)["mediaType"] = MediaTypeWeight }, nil, `want "application/vnd.cncf.model.doc.v1.raw"`},
		{"huge lineage", func(m map[string]any) { layerAt(m, 3)["size"] = float64(MaxLineageSize + 1) }, nil, "more than the"},
		{"metrics not JSON", func(m map[string]any) {
			m["annotations"].(map[string]any)[AnnotationMetrics] = "auc=0.9"
		}, nil, "want a JSON object of numbers"},
		{"metrics array", func(m map[string]any) {
			m["annotations"].(map[string]any)[AnnotationMetrics] = "[0.9]"
		}, nil, "want a JSON object of numbers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := rewrite(t, a.Manifest, tt.change)
			_, err := ParseManifest(b)
			if err == nil || (tt.is != nil && !errors.Is(err, tt.is)) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseManifest = %v, want %v containing %q", err, tt.is, tt.want)
			}
			// Unpack refuses the same manifest and writes nothing.
			dir := t.TempDir()
			if err := Unpack(&Artifact{Manifest: b, Config: a.Config, Blobs: a.Blobs}, dir+"/out"); err == nil {
				t.Fatal("Unpack accepted the manifest")
			}
		})
	}
	if _, err := ParseManifest(append(bytes.Clone(a.Manifest), "{}"...)); err == nil || !strings.Contains(err.Error(), "trailing data") {
		t.Errorf("trailing data: %v", err)
	}
	if _, err := ParseManifest(make([]byte, MaxManifestSize+1)); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("huge manifest: %v", err)
	}
}

func TestParseConfigRejects(t *testing.T) {
	a := pack(t, fixture(t))
	tests := []struct {
		name   string
		change func(m map[string]any)
		is     error
		want   string
	}{
		{"vendor", func(m map[string]any) { m["descriptor"].(map[string]any)["vendor"] = "acme" }, ErrNotModelPack, "not packed by Slipway"},
		{"no name", func(m map[string]any) { delete(m["descriptor"].(map[string]any), "name") }, nil, "descriptor.name is empty"},
		{"modelfs type", func(m map[string]any) { m["modelfs"].(map[string]any)["type"] = "tar" }, ErrNotModelPack, "modelfs.type"},
		{"diffId", func(m map[string]any) { m["modelfs"].(map[string]any)["diffIds"] = []any{"sha256:xyz"} }, nil, "diffIds[0]"},
		{"createdAt", func(m map[string]any) { m["descriptor"].(map[string]any)["createdAt"] = "yesterday" }, nil, "createdAt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig(rewrite(t, a.Config, tt.change))
			if err == nil || (tt.is != nil && !errors.Is(err, tt.is)) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseConfig = %v, want %v containing %q", err, tt.is, tt.want)
			}
		})
	}
}

func TestParseLineageRejects(t *testing.T) {
	a := pack(t, fixture(t))
	b, err := a.File(LineageFile)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(m map[string]any)
		want   string
	}{
		{"apiVersion", func(m map[string]any) { m["apiVersion"] = "slipway.dev/lineage/v9" }, "this build reads"},
		{"pipeline", func(m map[string]any) { m["pipeline"] = "Churn" }, `pipeline name "Churn"`},
		{"model", func(m map[string]any) { m["model"] = "forest" }, `model is "forest"`},
		{"task", func(m map[string]any) { delete(m, "task") }, `task is ""`},
		{"slipwayVersion", func(m map[string]any) { m["slipwayVersion"] = "" }, "slipwayVersion is empty"},
		{"metrics type", func(m map[string]any) { m["metrics"] = []any{1} }, "parse lineage.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseLineage(rewrite(t, b, tt.change)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseLineage = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if _, err := ParseLineage(append(bytes.Clone(b), "{}"...)); err == nil || !strings.Contains(err.Error(), "trailing data") {
		t.Errorf("trailing data: %v", err)
	}
	if _, err := ParseLineage(make([]byte, MaxLineageSize+1)); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("huge lineage: %v", err)
	}
}

// withLineage returns a copy of the artifact whose lineage.json is lb,
// its manifest (changed by change, when not nil) and config rewritten to
// match, so that every blob matches its descriptor.
func withLineage(t *testing.T, a *Artifact, lb []byte, change func(m map[string]any)) *Artifact {
	t.Helper()
	m, err := ParseManifest(a.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(m.Layers, func(l v1.Descriptor) bool { return l.Annotations[AnnotationFilepath] == LineageFile })
	if lb == nil {
		lb = a.Blobs[m.Layers[i].Digest.String()]
	}
	d := Digest(lb)
	c := rewrite(t, a.Config, func(cm map[string]any) { cm["modelfs"].(map[string]any)["diffIds"].([]any)[i] = d })
	man := rewrite(t, a.Manifest, func(mm map[string]any) {
		layerAt(mm, i)["digest"], layerAt(mm, i)["size"] = d, len(lb)
		mm["config"].(map[string]any)["digest"], mm["config"].(map[string]any)["size"] = Digest(c), len(c)
		if change != nil {
			change(mm)
		}
	})
	blobs := maps.Clone(a.Blobs)
	blobs[d] = lb
	return &Artifact{Manifest: man, Config: c, Blobs: blobs}
}

func TestLoadLineageMismatch(t *testing.T) {
	a := pack(t, fixture(t))
	lb, err := a.File(LineageFile)
	if err != nil {
		t.Fatal(err)
	}
	lineage := func(change func(m map[string]any)) []byte { return rewrite(t, lb, change) }
	annotate := func(k, v string) func(m map[string]any) {
		return func(m map[string]any) { m["annotations"].(map[string]any)[k] = v }
	}
	tests := []struct {
		name string
		art  *Artifact
		want string
	}{
		{"unchanged", withLineage(t, a, nil, nil), ""},
		{"pipeline", withLineage(t, a, lineage(func(m map[string]any) { m["pipeline"] = "fraud" }), nil), `config descriptor.name is "churn", but lineage.json says "fraud"`},
		{"model", withLineage(t, a, lineage(func(m map[string]any) { m["model"] = "gbdt" }), nil), "config descriptor.family"},
		{"apiVersion", withLineage(t, a, lineage(func(m map[string]any) { m["apiVersion"] = "v0" }), nil), "this build reads"},
		{"not JSON", withLineage(t, a, []byte("lineage"), nil), "parse lineage.json"},
		{"revision", withLineage(t, a, nil, annotate(AnnotationRevision, strings.Repeat("f", 40))), "annotation org.opencontainers.image.revision"},
		{"spec digest", withLineage(t, a, nil, annotate(AnnotationSpecDigest, "sha256:"+strings.Repeat("0", 64))), "annotation dev.slipway.spec-digest"},
		{"slipway version", withLineage(t, a, nil, annotate(AnnotationSlipwayVersion, "9.9.9")), "annotation dev.slipway.slipway-version"},
		{"task", withLineage(t, a, nil, annotate(AnnotationTask, "regression")), "annotation dev.slipway.task"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.art.Verify()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Verify of a rebuilt artifact: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify = %v, want an error containing %q", err, tt.want)
			}
			if _, err := tt.art.Lineage(); err == nil {
				t.Error("Lineage of a mismatched artifact succeeded")
			}
		})
	}
	if _, err := tamper(t, a, LineageFile, func(b []byte) []byte { b[0] ^= 1; return b }).Lineage(); !errors.Is(err, ErrBlobDigest) {
		t.Errorf("Lineage of a changed lineage.json = %v, want %v", err, ErrBlobDigest)
	}
}

func TestLoadDiffIDMismatch(t *testing.T) {
	a := pack(t, fixture(t))
	c := rewrite(t, a.Config, func(m map[string]any) {
		ids := m["modelfs"].(map[string]any)["diffIds"].([]any)
		ids[0], ids[1] = ids[1], ids[0]
	})
	ch, _ := v1.NewHash(Digest(c))
	man := rewrite(t, a.Manifest, func(m map[string]any) {
		m["config"].(map[string]any)["digest"] = ch.String()
		m["config"].(map[string]any)["size"] = len(c)
	})
	err := (&Artifact{Manifest: man, Config: c, Blobs: a.Blobs}).Verify()
	if err == nil || !strings.Contains(err.Error(), "diffIds[0]") {
		t.Fatalf("Verify with swapped diffIds = %v", err)
	}
}
