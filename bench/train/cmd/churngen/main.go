// Command churngen writes the synthetic churn data of the training
// benchmarks: DIR/train.csv and DIR/test.csv.
//
//	go run ./bench/train/cmd/churngen -train 1000000 -test 200000 -seed 1 -out bench/out/train
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/slipway-ml/slipway/bench/train/gen"
)

func main() {
	nTrain := flag.Int("train", 1_000_000, "training rows")
	nTest := flag.Int("test", 200_000, "test rows")
	seed := flag.Uint64("seed", 1, "seed")
	out := flag.String("out", ".", "output directory")
	flag.Parse()
	if err := run(*nTrain, *nTest, *seed, *out); err != nil {
		fmt.Fprintln(os.Stderr, "churngen:", err)
		os.Exit(1)
	}
}

func run(nTrain, nTest int, seed uint64, out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	g := gen.New(seed)
	for i, f := range []struct {
		name string
		n    int
	}{{"train.csv", nTrain}, {"test.csv", nTest}} {
		path := filepath.Join(out, f.name)
		w, err := os.Create(path)
		if err != nil {
			return err
		}
		pos, err := g.Write(w, f.n, uint64(i))
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		share := 0.0
		if f.n > 0 {
			share = float64(pos) / float64(f.n)
		}
		fmt.Fprintf(os.Stderr, "churngen: wrote %s (%d rows, %.1f%% churn)\n", path, f.n, 100*share)
	}
	return nil
}
