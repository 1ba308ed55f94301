// Command genrepo writes a synthetic repository of Slipway pipeline
// packages for benchmarks:
//
//	go run ./bench/gen/cmd/genrepo -n 200 -out DIR
//
// It writes DIR/p000 ... DIR/pNNN, one package each (see package gen), and
// prints the package directories, one a line, when -list is set.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/slipway-ml/slipway/bench/gen"
)

func main() {
	n := flag.Int("n", 200, "number of pipeline packages to write")
	out := flag.String("out", "", "directory to write them into (created if missing)")
	list := flag.Bool("list", false, "print the package directories written, one a line")
	flag.Parse()
	if *out == "" || *n < 0 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: genrepo -n N -out DIR [-list]")
		os.Exit(2)
	}
	if err := gen.Repo(*out, *n); err != nil {
		fmt.Fprintln(os.Stderr, "genrepo:", err)
		os.Exit(1)
	}
	if *list {
		for _, d := range gen.Dirs(*n) {
			fmt.Println(filepath.Join(*out, d))
		}
	}
}
