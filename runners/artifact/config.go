package artifact

import (
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Config is the artifact's config blob: exactly the ModelPack config
// JSON (descriptor, config, modelfs), with no key outside ModelPack's
// config schema. Slipway's lineage is in the lineage.json layer and the
// manifest's annotations, not here.
type Config struct {
	// Descriptor describes the model.
	Descriptor ModelDescriptor `json:"descriptor"`
	// Config says how to run the model.
	Config ModelConfig `json:"config"`
	// ModelFS lists the layers' contents.
	ModelFS ModelFS `json:"modelfs"`
}

// ModelDescriptor is ModelPack's descriptor object.
type ModelDescriptor struct {
	// CreatedAt is when the model was built (RFC 3339, UTC).
	CreatedAt string `json:"createdAt,omitempty"`
	// Authors are the people or organisation responsible.
	Authors []string `json:"authors,omitempty"`
	// Vendor is "slipway".
	Vendor string `json:"vendor,omitempty"`
	// Family is the model kind: gbdt, logistic or mlp.
	Family string `json:"family,omitempty"`
	// Name is the pipeline's name.
	Name string `json:"name,omitempty"`
	// Version is the model's version.
	Version string `json:"version,omitempty"`
	// Title and Description are for people.
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	// DocURL, SourceURL and DatasetsURL point to the documentation, the
	// source repository and the datasets.
	DocURL      string   `json:"docURL,omitempty"`
	SourceURL   string   `json:"sourceURL,omitempty"`
	DatasetsURL []string `json:"datasetsURL,omitempty"`
	// Revision is the source's Git commit.
	Revision string `json:"revision,omitempty"`
	// Licenses are SPDX license expressions.
	Licenses []string `json:"licenses,omitempty"`
}

// ModelConfig is ModelPack's config object.
type ModelConfig struct {
	// Architecture is the model kind: gbdt, logistic or mlp.
	Architecture string `json:"architecture,omitempty"`
	// Format is the weights' format, "slipway-<kind>-v1".
	Format string `json:"format,omitempty"`
	// ParamSize is the number of parameters, as Input.ParamSize gave it.
	ParamSize string `json:"paramSize,omitempty"`
	// Precision is "fp64": the models hold float64 values.
	Precision string `json:"precision,omitempty"`
	// Quantization is "none".
	Quantization string `json:"quantization,omitempty"`
	// Capabilities are the input and output modalities.
	Capabilities *Capabilities `json:"capabilities,omitempty"`
}

// Capabilities is ModelPack's capabilities object. Tabular inputs and
// scores are ModelPack's "other" modality.
type Capabilities struct {
	// InputTypes are the modalities the model reads.
	InputTypes []string `json:"inputTypes,omitempty"`
	// OutputTypes are the modalities the model returns.
	OutputTypes []string `json:"outputTypes,omitempty"`
}

// ModelFS is ModelPack's modelfs object: the layers' digests in order
// (a raw layer's diffId is its digest).
type ModelFS struct {
	// Type is "layers".
	Type string `json:"type"`
	// DiffIDs are the layers' digests, in manifest order.
	DiffIDs []string `json:"diffIds"`
}

// ParseConfig decodes a config blob and checks it is a Slipway ModelPack
// config: modelfs.type "layers" with sha256 diffIds, descriptor.vendor
// "slipway" and a descriptor name. A ModelPack config of another vendor
// gives an error matching ErrNotModelPack.
func ParseConfig(b []byte) (*Config, error) {
	if len(b) > MaxConfigSize {
		return nil, fmt.Errorf("config is %d bytes, more than the %d allowed", len(b), MaxConfigSize)
	}
	var c Config
	if err := decodeJSON(b, &c); err != nil {
		return nil, fmt.Errorf("parse config: %w", err)
	}
	if c.ModelFS.Type != "layers" {
		return nil, notModelPack("config modelfs.type is %q, want \"layers\"", c.ModelFS.Type)
	}
	for i, d := range c.ModelFS.DiffIDs {
		if h, err := v1.NewHash(d); err != nil || h.Algorithm != "sha256" {
			return nil, fmt.Errorf("config modelfs.diffIds[%d] is %q, want sha256:<64 hex digits>", i, d)
		}
	}
	if c.Descriptor.Vendor != Vendor {
		return nil, notModelPack("config descriptor.vendor is %q, want %q: a ModelPack model not packed by Slipway", c.Descriptor.Vendor, Vendor)
	}
	if c.Descriptor.Name == "" {
		return nil, fmt.Errorf("config descriptor.name is empty")
	}
	if c.Descriptor.CreatedAt != "" {
		if _, err := time.Parse(time.RFC3339, c.Descriptor.CreatedAt); err != nil {
			return nil, fmt.Errorf("config descriptor.createdAt %q is not an RFC 3339 time", c.Descriptor.CreatedAt)
		}
	}
	return &c, nil
}

// Created returns descriptor.createdAt as a time (zero when absent).
func (c *Config) Created() time.Time {
	t, _ := time.Parse(time.RFC3339, c.Descriptor.CreatedAt)
	return t
}
