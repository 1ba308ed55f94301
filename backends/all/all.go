// Package all lists every backend Slipway ships, by target name.
package all

import (
	"slices"

	"github.com/slipway-ml/slipway/backends"
	"github.com/slipway-ml/slipway/backends/argo"
	"github.com/slipway-ml/slipway/backends/githubactions"
	"github.com/slipway-ml/slipway/backends/helm"
	"github.com/slipway-ml/slipway/backends/local"
)

// Backends returns every backend, sorted by name.
func Backends() []backends.Backend {
	bs := []backends.Backend{argo.New(), githubactions.New(), helm.New(), local.New()}
	slices.SortFunc(bs, func(a, b backends.Backend) int {
		if a.Name() < b.Name() {
			return -1
		}
		return 1
	})
	return bs
}

// Names returns the target names, sorted.
func Names() []string {
	var names []string
	for _, b := range Backends() {
		names = append(names, b.Name())
	}
	return names
}

// Lookup returns the backend for a target name.
func Lookup(name string) (backends.Backend, bool) {
	for _, b := range Backends() {
		if b.Name() == name {
			return b, true
		}
	}
	return nil, false
}
