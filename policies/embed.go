// Package policies holds Slipway's built-in policy packs, written in CUE.
//
// A pack is a directory of CUE files in one package. Slipway fills the
// field `input` with the validated spec (every default applied, as JSON
// data) and reads the list `violations`, each element of the form
//
//	{rule: "production-signed", severity: "error" | "warning",
//	 path: ["pipelines", "churn", "artifact"], message: "..."}
//
// where path is the CUE path of the offending value, used to point at the
// user's text. Teams write their own packs the same way and select them with
// `--policy ./path/to/pack`.
package policies

import (
	"embed"
	"io/fs"
	"slices"
)

//go:embed */*.cue
var packs embed.FS

// Default is the pack used when none is selected.
const Default = "default"

// Names lists the built-in packs, sorted.
func Names() []string {
	entries, _ := fs.ReadDir(packs, ".")
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names
}

// Pack returns the files of a built-in pack, or false when there is none of
// that name.
func Pack(name string) (fs.FS, bool) {
	if !slices.Contains(Names(), name) {
		return nil, false
	}
	sub, err := fs.Sub(packs, name)
	if err != nil {
		return nil, false
	}
	return sub, true
}
