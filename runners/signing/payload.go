package signing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sigstore/sigstore/pkg/signature/payload"
)

// NewPayload returns the simple-signing payload that cosign signs for the
// manifest digest in the repository identity ("registry/repo"), exactly as
// sigstore's payload.Cosign writes it:
//
//	{"critical":{"identity":{"docker-reference":"<identity>"},"image":{"docker-manifest-digest":"sha256:<hex>"},"type":"cosign container image signature"},"optional":null}
func NewPayload(identity string, digest v1.Hash) ([]byte, error) {
	if err := checkDigest(digest); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	if err := checkIdentity(identity); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	ref, err := name.NewDigest(identity + "@" + digest.String())
	if err != nil {
		return nil, fmt.Errorf("payload: %s@%s is not a digest reference: %w", identity, digest, err)
	}
	b, err := payload.Cosign{Image: ref, ClaimedIdentity: identity}.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	return b, nil
}

// checkIdentity accepts a repository name without tag or digest.
func checkIdentity(identity string) error {
	if identity == "" {
		return errors.New("identity is empty; want the repository, registry/repo")
	}
	if _, err := name.NewRepository(identity); err != nil {
		return fmt.Errorf("identity %q is not a repository name (registry/repo): %w", identity, err)
	}
	return nil
}

// ParsePayload parses a simple-signing payload strictly: one JSON object
// with exactly the keys cosign writes (critical.identity.docker-reference,
// critical.image.docker-manifest-digest, critical.type, and an optional
// "optional" object), spelled in their exact case, with no key repeated and
// nothing after it. critical.type must be "cosign container image
// signature" (ErrPayloadType); any other defect gives ErrMalformedPayload.
// It does not check the digest or identity against anything.
func ParsePayload(b []byte) (payload.SimpleContainerImage, error) {
	var p payload.SimpleContainerImage
	if len(b) > MaxPayloadSize {
		return p, fmt.Errorf("%w: %d bytes, larger than the %d-byte limit", ErrMalformedPayload, len(b), MaxPayloadSize)
	}
	if !utf8.Valid(b) {
		return p, fmt.Errorf("%w: not valid UTF-8", ErrMalformedPayload)
	}
	if err := checkJSON(b); err != nil {
		return p, fmt.Errorf("%w: %w", ErrMalformedPayload, err)
	}
	top, err := object(b, "payload", []string{"critical"}, []string{"optional"})
	if err != nil {
		return p, fmt.Errorf("%w: %w", ErrMalformedPayload, err)
	}
	crit, err := object(top["critical"], "critical", []string{"identity", "image", "type"}, nil)
	if err != nil {
		return p, fmt.Errorf("%w: %w", ErrMalformedPayload, err)
	}
	ident, err := object(crit["identity"], "critical.identity", []string{"docker-reference"}, nil)
	if err != nil {
		return p, fmt.Errorf("%w: %w", ErrMalformedPayload, err)
	}
	img, err := object(crit["image"], "critical.image", []string{"docker-manifest-digest"}, nil)
	if err != nil {
		return p, fmt.Errorf("%w: %w", ErrMalformedPayload, err)
	}
	if err := str(crit["type"], "critical.type", &p.Critical.Type); err != nil {
		return p, fmt.Errorf("%w: %w", ErrMalformedPayload, err)
	}
	if p.Critical.Type != payload.CosignSignatureType {
		return p, fmt.Errorf("%w: critical.type is %q, want %q", ErrPayloadType, p.Critical.Type, payload.CosignSignatureType)
	}
	if err := str(ident["docker-reference"], "critical.identity.docker-reference", &p.Critical.Identity.DockerReference); err != nil {
		return p, fmt.Errorf("%w: %w", ErrMalformedPayload, err)
	}
	if p.Critical.Identity.DockerReference == "" {
		return p, fmt.Errorf("%w: critical.identity.docker-reference is empty", ErrMalformedPayload)
	}
	if err := str(img["docker-manifest-digest"], "critical.image.docker-manifest-digest", &p.Critical.Image.DockerManifestDigest); err != nil {
		return p, fmt.Errorf("%w: %w", ErrMalformedPayload, err)
	}
	h, err := v1.NewHash(p.Critical.Image.DockerManifestDigest)
	if err == nil {
		err = checkDigest(h)
	}
	if err != nil {
		return p, fmt.Errorf("%w: critical.image.docker-manifest-digest: %w", ErrMalformedPayload, err)
	}
	if opt, ok := top["optional"]; ok && string(opt) != "null" {
		if err := json.Unmarshal(opt, &p.Optional); err != nil || p.Optional == nil {
			return p, fmt.Errorf("%w: optional must be an object or null", ErrMalformedPayload)
		}
	}
	return p, nil
}

// object decodes raw as a JSON object whose keys are exactly the required
// ones plus any of the optional ones.
func object(raw json.RawMessage, where string, required, optional []string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, fmt.Errorf("%s must be a JSON object", where)
	}
	var unknown []string
	for k := range m {
		if !slices.Contains(required, k) && !slices.Contains(optional, k) {
			unknown = append(unknown, fmt.Sprintf("%q", k))
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("%s has unexpected keys %s; want %s", where, strings.Join(unknown, ", "), strings.Join(append(slices.Clone(required), optional...), ", "))
	}
	for _, k := range required {
		if _, ok := m[k]; !ok {
			return nil, fmt.Errorf("%s has no %q key", where, k)
		}
	}
	return m, nil
}

// str decodes raw as a JSON string.
func str(raw json.RawMessage, where string, dst *string) error {
	if err := json.Unmarshal(raw, dst); err != nil || !bytes.HasPrefix(bytes.TrimSpace(raw), []byte(`"`)) {
		return fmt.Errorf("%s must be a string", where)
	}
	return nil
}

// checkJSON accepts a single JSON value with no repeated object keys and
// nothing after it.
func checkJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := walk(dec, 0); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON document")
	}
	return nil
}

const maxDepth = 32

// walk reads one JSON value from dec, refusing repeated keys and nesting
// deeper than maxDepth.
func walk(dec *json.Decoder, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("JSON nested deeper than %d levels", maxDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("not a JSON document: %w", err)
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return fmt.Errorf("not a JSON document: %w", err)
			}
			k, _ := kt.(string)
			if seen[k] {
				return fmt.Errorf("key %q appears twice in one object", k)
			}
			seen[k] = true
			if err := walk(dec, depth+1); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return fmt.Errorf("not a JSON document: %w", err)
		}
	case json.Delim('['):
		for dec.More() {
			if err := walk(dec, depth+1); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return fmt.Errorf("not a JSON document: %w", err)
		}
	}
	return nil
}
