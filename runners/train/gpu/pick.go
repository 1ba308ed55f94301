// Package gpu chooses the device training runs on. The first NVIDIA GPU is
// opened once per process and shared by every trainer; without a driver or
// a device, "auto" trains on the CPU and "gpu" fails saying why.
package gpu

import (
	"fmt"
	"sync"

	"github.com/slipway-ml/slipway/runners/train/gpu/cuda"
)

// MinMajor is the lowest compute capability's major version the embedded
// PTX (target sm_80) runs on.
const MinMajor = 8

// Device values a pipeline may declare.
const (
	CPU  = "cpu"
	GPU  = "gpu"
	Auto = "auto"
)

var (
	once    sync.Once
	shared  *cuda.Context
	openErr error
	// open opens a device; tests replace it.
	open = cuda.Open
)

// opened opens device 0 once and checks it is new enough.
func opened() (*cuda.Context, error) {
	once.Do(func() {
		c, err := open(0)
		if err != nil {
			openErr = err
			return
		}
		if major, minor := c.ComputeCapability(); major < MinMajor {
			_ = c.Close()
			openErr = fmt.Errorf("%s has compute capability %d.%d, below %d.0, the PTX target (sm_80)", c.DeviceName(), major, minor, MinMajor)
			return
		}
		shared = c
	})
	return shared, openErr
}

// Pick returns the context training should use for the declared device:
// "cpu" (or "") gives nil; "gpu" gives the shared context or an error
// saying why there is none; "auto" gives the context, or nil after one
// line through logf ("no NVIDIA GPU (…): training on the CPU"). logf may
// be nil.
func Pick(want string, logf func(format string, a ...any)) (*cuda.Context, error) {
	switch want {
	case "", CPU:
		return nil, nil
	case GPU:
		c, err := opened()
		if err != nil {
			return nil, fmt.Errorf("device %q: %w", want, err)
		}
		return c, nil
	case Auto:
		c, err := opened()
		if err != nil {
			if logf != nil {
				logf("no NVIDIA GPU (%v): training on the CPU", err)
			}
			return nil, nil
		}
		return c, nil
	}
	return nil, fmt.Errorf("unknown device %q (want cpu, gpu or auto)", want)
}

// Name is the device name a trainer reports: "gpu:NVIDIA H200" or "cpu".
func Name(c *cuda.Context) string {
	if c == nil {
		return CPU
	}
	return "gpu:" + c.DeviceName()
}
