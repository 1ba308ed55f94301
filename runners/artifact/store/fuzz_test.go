package store

import (
	"strings"
	"testing"
)

// FuzzResolve feeds arbitrary references to Resolve and Get: neither may
// panic, and a reference that resolves names a stored model artifact.
func FuzzResolve(f *testing.F) {
	s := open(f, f.TempDir())
	a := model(f, "churn", 1)
	d := put(f, s, "churn", a)
	for _, seed := range []string{"churn", "churn@" + d, d, "sha256:", "churn@", "@" + d, "Churn", "../churn", "churn@sha256:" + strings.Repeat("0", 64)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		desc, err := s.Resolve(ref)
		if err != nil {
			return
		}
		if desc.Digest.String() != d {
			t.Fatalf("Resolve(%q) = %s, but the store holds only %s", ref, desc.Digest, d)
		}
		got, err := s.Get(ref)
		if err != nil || got.Digest() != d {
			t.Fatalf("Get(%q) after Resolve succeeded: %v", ref, err)
		}
	})
}
