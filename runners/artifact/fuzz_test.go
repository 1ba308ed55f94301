package artifact

import (
	"bytes"
	"errors"
	"maps"
	"os"
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// FuzzParseManifest feeds arbitrary bytes to ParseManifest and Load (with
// the blobs of a real artifact): neither may panic, an accepted manifest
// keeps every invariant ParseManifest promises, and Load accepts only
// blobs that match their descriptors.
func FuzzParseManifest(f *testing.F) {
	a := pack(f, fixture(f))
	f.Add(a.Manifest)
	f.Add(bytes.Replace(a.Manifest, []byte("model.bin"), []byte("../model.bin"), 1))
	f.Add(bytes.Replace(a.Manifest, []byte(ArtifactType), []byte("application/vnd.unknown.artifact.v1"), 1))
	f.Add(bytes.Replace(a.Manifest, []byte(LineageFile), []byte("lineage.txt"), 1))
	f.Add(bytes.Replace(a.Manifest, []byte(`"dev.slipway.task":"binary"`), []byte(`"dev.slipway.task":"regression"`), 1))
	f.Add(bytes.Replace(a.Manifest, []byte(`"roc_auc":0.875`), []byte(`"roc_auc":null`), 1))
	f.Add([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.cncf.model.manifest.v1+json","config":{"mediaType":"application/vnd.cncf.model.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[{"mediaType":"application/vnd.cncf.model.weight.v1.raw","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"annotations":{"org.cncf.model.filepath":"a/b"}}]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseManifest(b)
		if err != nil {
			return
		}
		if m.ArtifactType != ArtifactType || m.Config.MediaType != MediaTypeConfig || len(m.Layers) == 0 {
			t.Fatalf("accepted a manifest of another kind: %s", b)
		}
		seen := map[string]bool{}
		for _, l := range m.Layers {
			p := l.Annotations[AnnotationFilepath]
			if CheckPath(p) != nil || seen[p] || l.Size < 0 || l.Size > MaxLayerSize {
				t.Fatalf("accepted layer %q (size %d)", p, l.Size)
			}
			if p == LineageFile && (l.MediaType != MediaTypeDoc || l.Size > MaxLineageSize) {
				t.Fatalf("accepted lineage layer %s of %d bytes", l.MediaType, l.Size)
			}
			seen[p] = true
		}
		if !seen[LineageFile] {
			t.Fatalf("accepted a manifest without %s", LineageFile)
		}
		if v, ok := m.Annotations[AnnotationMetrics]; ok {
			if _, err := ParseMetrics(v); err != nil {
				t.Fatalf("accepted metrics annotation %q: %v", v, err)
			}
		}
		got, err := Load(b, func(d v1.Descriptor) ([]byte, error) {
			if d.MediaType == MediaTypeConfig {
				return a.Config, nil
			}
			if blob, ok := a.Blobs[d.Digest.String()]; ok {
				return blob, nil
			}
			return nil, os.ErrNotExist
		})
		if err != nil {
			var be *BlobError
			if errors.As(err, &be) && be.Err == nil {
				t.Fatalf("blob error without a cause: %v", err)
			}
			return
		}
		if got.Digest() != Digest(b) || got.Verify() != nil {
			t.Fatalf("Load returned an artifact that does not verify")
		}
	})
}

// FuzzParseConfig feeds arbitrary bytes to ParseConfig.
func FuzzParseConfig(f *testing.F) {
	a := pack(f, fixture(f))
	f.Add(a.Config)
	f.Add(bytes.Replace(a.Config, []byte(`"vendor":"slipway"`), []byte(`"vendor":"acme"`), 1))
	f.Add([]byte(`{"descriptor":{"name":"m","vendor":"slipway"},"config":{},"modelfs":{"type":"layers","diffIds":[]},"dev.slipway.lineage":{}}`))
	f.Add([]byte(`{"descriptor":{},"config":{},"modelfs":{"type":"layers","diffIds":["sha256:"]}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err != nil {
			return
		}
		if c.Descriptor.Vendor != Vendor || c.Descriptor.Name == "" || c.ModelFS.Type != "layers" {
			t.Fatalf("accepted config %s", b)
		}
		for _, d := range c.ModelFS.DiffIDs {
			if _, err := v1.NewHash(d); err != nil {
				t.Fatalf("accepted diffId %q", d)
			}
		}
	})
}

// FuzzSchemaFromFeatures feeds arbitrary features.json documents to
// SchemaFromFeatures.
func FuzzSchemaFromFeatures(f *testing.F) {
	b, err := os.ReadFile("testdata/features/features.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(bytes.Replace(b, []byte(`"text"`), []byte(`"blob"`), 1))
	f.Add([]byte(`{"version":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := SchemaFromFeatures(b)
		if err != nil {
			return
		}
		if s.Task != "binary" && s.Task != "regression" {
			t.Fatalf("task %q accepted", s.Task)
		}
		for _, in := range s.Inputs {
			if in.Type != TypeNumber && in.Type != TypeString && in.Type != TypeTimestamp {
				t.Fatalf("input %+v accepted", in)
			}
		}
	})
}

// FuzzParseLineage feeds arbitrary lineage.json documents to
// ParseLineage: an accepted one keeps every promised invariant and
// encodes and parses back to the same lineage.
func FuzzParseLineage(f *testing.F) {
	a := pack(f, fixture(f))
	b, err := a.File(LineageFile)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(bytes.Replace(b, []byte(LineageAPIVersion), []byte("slipway.dev/lineage/v2"), 1))
	f.Add(bytes.Replace(b, []byte(`"model": "logistic"`), []byte(`"model": "forest"`), 1))
	f.Add([]byte(`{"apiVersion":"slipway.dev/lineage/v1","pipeline":"a","model":"gbdt","task":"regression","slipwayVersion":"1"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseLineage(b)
		if err != nil {
			return
		}
		if l.APIVersion != LineageAPIVersion || CheckName(l.Pipeline) != nil || l.SlipwayVersion == "" ||
			!slices.Contains(modelKinds, l.Model) || !slices.Contains(tasks, l.Task) {
			t.Fatalf("accepted lineage %s", b)
		}
		enc, err := canonicalJSON(l, true)
		if err != nil {
			t.Fatalf("encode accepted lineage: %v", err)
		}
		back, err := ParseLineage(enc)
		if err != nil {
			t.Fatalf("re-encoded lineage does not parse: %v\n%s", err, enc)
		}
		if again, _ := canonicalJSON(back, true); !bytes.Equal(again, enc) {
			t.Fatalf("lineage changes when encoded twice:\n%s\n%s", enc, again)
		}
	})
}

// FuzzParseMetrics feeds arbitrary annotation values to ParseMetrics: an
// accepted value encodes back to a value that parses to the same
// metrics.
func FuzzParseMetrics(f *testing.F) {
	for _, seed := range []string{`{"accuracy":1,"log_loss":0.31,"roc_auc":0.875}`, `{}`, `null`, `[]`, `{"a":null}`, `{"a":"1"}`, `{"a":1e400}`, `{"a":1}{}`, ``} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMetrics(s)
		if err != nil {
			return
		}
		if m == nil || len(s) > MaxMetricsAnnotation {
			t.Fatalf("accepted %q as %v", s, m)
		}
		enc, err := canonicalJSON(m, false)
		if err != nil {
			t.Fatalf("encode accepted metrics %v: %v", m, err)
		}
		back, err := ParseMetrics(string(enc))
		if err != nil && len(enc) <= MaxMetricsAnnotation {
			t.Fatalf("re-encoded metrics %s do not parse: %v", enc, err)
		}
		if err == nil && !maps.Equal(back, m) {
			t.Fatalf("metrics %v became %v", m, back)
		}
	})
}
