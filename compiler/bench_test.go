// Benchmarks of validate+compile: `make bench` runs them (bench/go-bench.sh)
// and BENCHMARKS.md reports them.
//
//	BenchmarkCompileExamples/<example>   Compile of each examples/ package
//	BenchmarkCompileGenerated200/...     200 generated packages (bench/gen),
//	                                     one Compile each: sequential, and a
//	                                     pool of runtime.NumCPU() workers
//	BenchmarkCUEOnly...                  the same packages through CUE alone:
//	                                     schema, unification with #Spec,
//	                                     concrete validation and JSON export,
//	                                     what `cue export` does. Compile's
//	                                     overhead is measured against these.
//
// Every Compile gets the default policy pack and reads its package through
// os.DirFS, as `slipway validate` does.

package compiler_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	cueload "cuelang.org/go/cue/load"

	"github.com/slipway-ml/slipway/bench/gen"
	"github.com/slipway-ml/slipway/compiler"
	"github.com/slipway-ml/slipway/compiler/load"
	"github.com/slipway-ml/slipway/schema"
)

// benchExamples are the example packages, relative to this directory.
var benchExamples = []string{"churn", "churn-gpu", "minimal"}

// benchGenerated is the size of the generated repository.
const benchGenerated = 200

// benchCompile compiles the package in the absolute directory dir as the CLI
// does; any error diagnostic is an error.
func benchCompile(dir string) error {
	res, ds := compiler.Compile(context.Background(), compiler.Options{FS: os.DirFS(dir), Dir: ".", Root: dir})
	if res == nil || ds.HasErrors() {
		return fmt.Errorf("%s does not compile:\n%v", dir, ds)
	}
	return nil
}

// benchCUEOnly evaluates the package in dir with CUE alone, as `cue export
// -e pipelines` of the package and the schema does: load, unify with #Spec,
// check concreteness, marshal to JSON.
func benchCUEOnly(dir string) error {
	ctx := cuecontext.New()
	sch := ctx.CompileString(schema.Source(), cue.Filename(schema.Filename))
	files, err := filepath.Glob(filepath.Join(dir, "*.cue"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("%s: no .cue files (%v)", dir, err)
	}
	insts := cueload.Instances(files, &cueload.Config{Dir: dir, ModuleRoot: dir, Registry: load.Offline})
	if len(insts) != 1 || insts[0].Err != nil {
		return fmt.Errorf("%s: load: %v", dir, insts[0].Err)
	}
	v := sch.LookupPath(cue.ParsePath("#Spec")).Unify(ctx.BuildInstance(insts[0]))
	if err := v.Validate(cue.Concrete(true), cue.Final()); err != nil {
		return fmt.Errorf("%s: %v", dir, err)
	}
	if _, err := v.LookupPath(cue.ParsePath("pipelines")).MarshalJSON(); err != nil {
		return fmt.Errorf("%s: %v", dir, err)
	}
	return nil
}

func benchExampleDir(tb testing.TB, name string) string {
	dir, err := filepath.Abs(filepath.Join("..", "examples", name))
	if err != nil {
		tb.Fatal(err)
	}
	return dir
}

func BenchmarkCompileExamples(b *testing.B) {
	for _, name := range benchExamples {
		dir := benchExampleDir(b, name)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := benchCompile(dir); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCUEOnlyExamples(b *testing.B) {
	for _, name := range benchExamples {
		dir := benchExampleDir(b, name)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := benchCUEOnly(dir); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchRepo writes the generated repository into a temporary directory and
// returns the absolute package directories.
func benchRepo(b *testing.B, n int) []string {
	root := b.TempDir()
	if err := gen.Repo(root, n); err != nil {
		b.Fatal(err)
	}
	var dirs []string
	for _, d := range gen.Dirs(n) {
		dirs = append(dirs, filepath.Join(root, d))
	}
	return dirs
}

// benchAll runs each over every dir, with workers goroutines; one op is the
// whole repository. It reports ns/pipeline as well.
func benchAll(b *testing.B, dirs []string, workers int, each func(string) error) {
	b.ReportAllocs()
	for b.Loop() {
		if workers == 1 {
			for _, d := range dirs {
				if err := each(d); err != nil {
					b.Fatal(err)
				}
			}
			continue
		}
		work := make(chan string)
		errs := make(chan error, len(dirs))
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for d := range work {
					if err := each(d); err != nil {
						errs <- err
					}
				}
			})
		}
		for _, d := range dirs {
			work <- d
		}
		close(work)
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(dirs)), "ns/pipeline")
}

func benchGeneratedModes(b *testing.B, each func(string) error) {
	dirs := benchRepo(b, benchGenerated)
	b.Run("sequential", func(b *testing.B) { benchAll(b, dirs, 1, each) })
	b.Run(fmt.Sprintf("workers=%d", runtime.NumCPU()), func(b *testing.B) {
		benchAll(b, dirs, runtime.NumCPU(), each)
	})
}

func BenchmarkCompileGenerated200(b *testing.B) { benchGeneratedModes(b, benchCompile) }

func BenchmarkCUEOnlyGenerated200(b *testing.B) { benchGeneratedModes(b, benchCUEOnly) }
