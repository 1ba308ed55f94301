// Command slipway is the CLI of Slipway, the declarative GitOps pipeline
// compiler for machine learning. Every command parses its flags and makes
// one call into a library package; nothing else lives here.
package main

import (
	"os"
)

func main() {
	os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
