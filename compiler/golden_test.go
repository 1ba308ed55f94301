package compiler_test

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/slipway-ml/slipway/compiler/canonical"
	"github.com/slipway-ml/slipway/compiler/compilertest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestGoldenIR compiles every example and compares its IR with
// testdata/golden/<example>.txtar; compiling twice must give the same bytes.
func TestGoldenIR(t *testing.T) {
	for _, dir := range compilertest.Examples(t, "../examples") {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			first, err := canonical.JSON(compilertest.Compile(t, dir).Program)
			if err != nil {
				t.Fatal(err)
			}
			second, err := canonical.JSON(compilertest.Compile(t, dir).Program)
			if err != nil {
				t.Fatal(err)
			}
			if string(first) != string(second) {
				t.Fatalf("compiling %s twice gave different IR", name)
			}
			compilertest.Golden(t, filepath.Join("testdata", "golden", name+".txtar"),
				"IR of examples/"+name+"; rewrite with `make golden`.",
				map[string][]byte{"ir.json": first}, *update)
		})
	}
}
