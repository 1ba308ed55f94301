// Command probe opens the first GPU through package cuda and prints its
// name, or why it could not.
package main

import (
	"fmt"
	"os"

	"github.com/slipway-ml/slipway/runners/train/gpu/cuda"
)

func main() {
	c, err := cuda.Open(0)
	if err != nil {
		fmt.Println("no GPU:", err)
		return
	}
	defer c.Close()
	major, minor := c.ComputeCapability()
	fmt.Printf("gpu: %s (sm_%d%d, %d SMs)\n", c.DeviceName(), major, minor, c.Multiprocessors())
	os.Exit(0)
}
