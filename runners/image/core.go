package image

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// core is the minimal form of the built image: its exact manifest and
// config bytes and its one layer. partial.CompressedToImage derives the
// rest of v1.Image from it.
type core struct {
	manifest, config []byte
	layer            *layer
}

var _ partial.CompressedImageCore = (*core)(nil)

// RawConfigFile returns the config bytes.
func (c *core) RawConfigFile() ([]byte, error) { return c.config, nil }

// MediaType returns the OCI image manifest type.
func (c *core) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

// RawManifest returns the manifest bytes.
func (c *core) RawManifest() ([]byte, error) { return c.manifest, nil }

// LayerByDigest returns the image's layer when h is its digest.
func (c *core) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if h == c.layer.digest {
		return c.layer, nil
	}
	return nil, fmt.Errorf("image has no layer with digest %s: its layer is %s", h, c.layer.digest)
}
