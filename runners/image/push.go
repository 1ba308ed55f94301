package image

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Push uploads img to the registry reference ref (a tag such as
// "ghcr.io/acme/slipway:v1", or a digest reference that must name img's
// digest) and returns the reference by digest that pulls exactly img.
//
// opts go to remote.Write after remote.WithContext(ctx). Without an auth
// option the push is anonymous; pass
// remote.WithAuthFromKeychain(authn.DefaultKeychain) to use the Docker
// credentials of the host.
func Push(ctx context.Context, img v1.Image, ref string, opts ...remote.Option) (name.Digest, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return name.Digest{}, fmt.Errorf("parse the image reference %q: %w", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		return name.Digest{}, fmt.Errorf("compute the image digest: %w", err)
	}
	if pinned, ok := r.(name.Digest); ok && pinned.DigestStr() != d.String() {
		return name.Digest{}, fmt.Errorf("reference %s pins the digest %s but the image's digest is %s: push it to a tag or to its own digest", ref, pinned.DigestStr(), d)
	}
	all := append([]remote.Option{remote.WithContext(ctx)}, opts...)
	if err := remote.Write(r, img, all...); err != nil {
		return name.Digest{}, fmt.Errorf("push the image to %s: %w", r.Name(), err)
	}
	return r.Context().Digest(d.String()), nil
}
