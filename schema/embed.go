// Package schema embeds the CUE schema that Slipway specs are written
// against. The same files are published as a CUE module so that cue vet, cue
// fmt and editors see the definitions the compiler uses.
package schema

import (
	"embed"
	"io/fs"
	"sort"
	"strings"
)

//go:embed *.cue
var files embed.FS

// FS returns the schema's CUE files.
func FS() fs.FS { return files }

// Source returns the concatenated text of every schema file, sorted by name,
// as printed by `slipway schema`.
func Source() string {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		panic(err) // embedded at build time; cannot fail
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		data, err := fs.ReadFile(files, n)
		if err != nil {
			panic(err)
		}
		b.Write(data)
	}
	return b.String()
}

// Filename is the name under which the schema appears in error positions.
const Filename = "slipway.cue"

// ForPackage returns the schema as a file of the CUE package pkg, with the
// package's pipelines constrained by #Spec. Saved beside a spec (for example
// as slipway_schema.cue), it lets `cue vet`, `cue eval` and editors check
// the spec with the same definitions Slipway uses; Slipway itself loads the
// embedded schema and ignores nothing the file adds.
func ForPackage(pkg string) string {
	src := Source()
	src = strings.Replace(src, "package schema\n", "package "+pkg+"\n", 1)
	return src + "\n// pipelines of this package must satisfy #Spec.\npipelines: #Spec.pipelines\n"
}
