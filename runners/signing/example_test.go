package signing_test

import (
	"crypto/sha256"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/slipway-ml/slipway/runners/signing"
)

// The payload is byte-for-byte what cosign signs, so its digest is fixed.
func ExampleNewPayload() {
	digest, err := v1.NewHash("sha256:6a3d6fde3a3e64ee3a3bb4b46e2e4d6c4ed7d2b1a1c4c85c9a8e2b3f1f0e9d8c")
	if err != nil {
		panic(err)
	}
	p, err := signing.NewPayload("ghcr.io/acme/churn-model", digest)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(p))
	fmt.Printf("sha256:%x\n", sha256.Sum256(p))
	fmt.Println(signing.SignatureTag(digest))
	// Output:
	// {"critical":{"identity":{"docker-reference":"ghcr.io/acme/churn-model"},"image":{"docker-manifest-digest":"sha256:6a3d6fde3a3e64ee3a3bb4b46e2e4d6c4ed7d2b1a1c4c85c9a8e2b3f1f0e9d8c"},"type":"cosign container image signature"},"optional":null}
	// sha256:333b820076b8c4c73c4fbd189bdcd75f27bf4ed7894408b679a6cf33a70ff10c
	// sha256-6a3d6fde3a3e64ee3a3bb4b46e2e4d6c4ed7d2b1a1c4c85c9a8e2b3f1f0e9d8c.sig
}
