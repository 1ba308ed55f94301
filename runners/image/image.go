// Package image builds the container image that runs the slipway binary on
// the compiled targets (Argo Workflows, GitHub Actions, Helm), without
// Docker: one reproducible tar+gzip layer on an empty base, holding a static
// binary, a CA bundle and a nonroot user. It also pushes the image to a
// registry and writes it into a local OCI layout.
//
// The same Options always give the same manifest digest with a given Go
// release (the layer is compressed with compress/flate).
package image

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The OCI annotation keys Build sets on the manifest and, as labels, in the
// image config.
const (
	AnnotationCreated  = "org.opencontainers.image.created"
	AnnotationSource   = "org.opencontainers.image.source"
	AnnotationRevision = "org.opencontainers.image.revision"
	AnnotationVersion  = "org.opencontainers.image.version"
	AnnotationTitle    = "org.opencontainers.image.title"
)

// Title is the value of the org.opencontainers.image.title annotation.
const Title = "slipway"

// EnvPath is the image's PATH environment variable.
const EnvPath = "/usr/local/bin:/usr/bin:/bin"

// hostCACerts is the CA bundle Build reads when Options.CACerts is nil.
var hostCACerts = "/etc/ssl/certs/ca-certificates.crt"

// maxTarTime is the latest modification time a ustar header can hold
// (eleven octal digits of seconds).
var maxTarTime = time.Unix(1<<33-1, 0).UTC()

// Options describe the image Build makes.
type Options struct {
	// Binary is the content of the slipway executable: a statically linked
	// Linux ELF binary for the image's architecture. Required.
	Binary []byte
	// Platform is "linux/amd64" or "linux/arm64". Empty means the
	// architecture Binary is built for.
	Platform string
	// CACerts is the PEM CA bundle installed at /etc/ssl/certs. Nil means
	// the host's /etc/ssl/certs/ca-certificates.crt.
	CACerts []byte
	// Created is the image's creation time and the modification time of
	// every file in it, kept to whole seconds in UTC. The zero value means
	// the Unix epoch, which keeps builds reproducible.
	Created time.Time
	// Source is the org.opencontainers.image.source annotation (the
	// repository URL); empty leaves it out.
	Source string
	// Revision is the org.opencontainers.image.revision annotation (the
	// commit); empty leaves it out.
	Revision string
	// Version is the org.opencontainers.image.version annotation; empty
	// leaves it out.
	Version string
}

// Build returns the OCI image that runs Options.Binary as the nonroot user
// 65532 from /work, with Entrypoint ["/usr/local/bin/slipway"].
func Build(opts Options) (v1.Image, error) {
	platformArch, err := parsePlatform(opts.Platform)
	if err != nil {
		return nil, err
	}
	arch, err := checkStatic(opts.Binary, platformArch)
	if err != nil {
		return nil, err
	}
	caCerts, err := loadCACerts(opts.CACerts)
	if err != nil {
		return nil, err
	}
	created, err := creationTime(opts.Created)
	if err != nil {
		return nil, err
	}

	tarBytes, err := tarEntries(rootfs(opts.Binary, caCerts), created)
	if err != nil {
		return nil, err
	}
	l, err := newLayer(tarBytes)
	if err != nil {
		return nil, err
	}

	annotations := map[string]string{
		AnnotationCreated: created.Format(time.RFC3339),
		AnnotationTitle:   Title,
	}
	for k, v := range map[string]string{AnnotationSource: opts.Source, AnnotationRevision: opts.Revision, AnnotationVersion: opts.Version} {
		if v != "" {
			annotations[k] = v
		}
	}

	cfg := v1.ConfigFile{
		Architecture: arch,
		OS:           "linux",
		Created:      v1.Time{Time: created},
		History: []v1.History{{
			Created:   v1.Time{Time: created},
			CreatedBy: "slipway image build",
			Comment:   "static slipway binary, CA certificates and the nonroot user on an empty base",
		}},
		RootFS: v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{l.diffID}},
		Config: v1.Config{
			Entrypoint: []string{BinaryPath},
			User:       fmt.Sprintf("%d:%d", UID, GID),
			WorkingDir: WorkingDir,
			Env:        []string{"PATH=" + EnvPath, "SSL_CERT_FILE=" + CACertsPath},
			Labels:     annotations,
		},
	}
	rawConfig, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encode the image config: %w", err)
	}
	configDigest, configSize, err := v1.SHA256(bytes.NewReader(rawConfig))
	if err != nil {
		return nil, fmt.Errorf("hash the image config: %w", err)
	}

	manifest := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        v1.Descriptor{MediaType: types.OCIConfigJSON, Size: configSize, Digest: configDigest},
		Layers:        []v1.Descriptor{{MediaType: types.OCILayer, Size: int64(len(l.gz)), Digest: l.digest}},
		Annotations:   annotations,
	}
	rawManifest, err := json.Marshal(manifest)
	if err != nil {
		return nil, fmt.Errorf("encode the image manifest: %w", err)
	}
	img, err := partial.CompressedToImage(&core{manifest: rawManifest, config: rawConfig, layer: l})
	if err != nil {
		return nil, fmt.Errorf("assemble the image: %w", err)
	}
	return img, nil
}

// loadCACerts returns the given CA bundle, or the host's when it is nil,
// after checking that it holds at least one certificate.
func loadCACerts(b []byte) ([]byte, error) {
	from := "Options.CACerts"
	if b == nil {
		from = hostCACerts
		var err error
		b, err = os.ReadFile(hostCACerts)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read the CA bundle: %s does not exist on this host: install the ca-certificates package or pass the bundle in Options.CACerts", hostCACerts)
		}
		if err != nil {
			return nil, fmt.Errorf("read the CA bundle %s: %w", hostCACerts, err)
		}
	}
	if !x509.NewCertPool().AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("CA bundle %s holds no PEM certificate: want the PEM bundle that goes to %s", from, CACertsPath)
	}
	return b, nil
}

// creationTime returns t in UTC to the second, or the Unix epoch when t is
// zero, and refuses a time a tar header cannot hold.
func creationTime(t time.Time) (time.Time, error) {
	if t.IsZero() {
		return time.Unix(0, 0).UTC(), nil
	}
	t = t.UTC().Truncate(time.Second)
	if t.Before(time.Unix(0, 0)) || t.After(maxTarTime) {
		return time.Time{}, fmt.Errorf("creation time %s is outside what a tar header holds: want a time from %s to %s", t.Format(time.RFC3339), time.Unix(0, 0).UTC().Format(time.RFC3339), maxTarTime.Format(time.RFC3339))
	}
	return t, nil
}
