package load

import (
	"fmt"
	"os"
	"cuelang.org/go/cue"
	"testing"
)

func TestTmp(t *testing.T) {
	dir := os.Getenv("D")
	pkg, ds := Load(Options{FS: os.DirFS(dir), Dir: ".", Root: dir})
	for _, d := range ds { fmt.Println(d) }
	if pkg == nil { return }
	for _, d := range Validate(pkg) { fmt.Println(d) }
}

func TestTmp2(t *testing.T) {
	dir := os.Getenv("D")
	pkg, _ := Load(Options{FS: os.DirFS(dir), Dir: ".", Root: dir})
	walkLeaves(pkg.Value, func(v cue.Value) { fmt.Println(v.Path(), v.Validate(cue.Concrete(true)) != nil) })
	it, err := pkg.Value.LookupPath(cue.ParsePath("pipelines.demo")).Fields()
	fmt.Println(err)
	for it.Next() { fmt.Println(it.Selector()) }
}
