// Package cuda calls the NVIDIA CUDA driver API (libcuda.so.1) from pure
// Go through purego: no cgo and no CUDA SDK at build or run time. A
// Context owns one device's primary context on one goroutine locked to its
// OS thread (a CUDA context is current per thread); every call is
// funnelled to that goroutine. Kernels come as PTX text, compiled by the
// driver when loaded.
package cuda

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// ErrNoDriver reports that the driver library could not be loaded.
var ErrNoDriver = errors.New("no NVIDIA driver")

// ErrNoDevice reports a driver with no usable device, or a device ordinal
// out of range.
var ErrNoDevice = errors.New("no NVIDIA GPU")

// ErrClosed reports a call on a closed Context.
var ErrClosed = errors.New("cuda: context is closed")

// Device attributes read at Open (CUdevice_attribute values).
const (
	attrMultiprocessors = 16
	attrMajor           = 75
	attrMinor           = 76
	attrSharedOptin     = 97 // CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN
)

// Context is one device's primary context, owned by a goroutine locked to
// its OS thread. Its methods are safe for concurrent use: they run one at a
// time on the owning thread.
type Context struct {
	drv          *driver
	dev          int32
	ctx          uintptr
	name         string
	major, minor int
	sms          int
	sharedOptin  int
	totalMem     uint64

	mu     sync.Mutex // serialises callers; guards closed
	closed bool

	modMu  sync.Mutex
	shared map[string]*Module // Shared's modules, by PTX text
	work   chan func() error
	result chan error
}

// Open loads the driver ($SLIPWAY_LIBCUDA or libcuda.so.1), initialises
// it and makes device ordinal's primary context current on a new goroutine
// locked to its OS thread. The error wraps ErrNoDriver when the library
// cannot be loaded and ErrNoDevice when there is no such device.
func Open(ordinal int) (*Context, error) {
	drv, err := loadDriver()
	if err != nil {
		return nil, err
	}
	c := &Context{drv: drv, work: make(chan func() error), result: make(chan error)}
	ready := make(chan error)
	go c.own(ordinal, ready)
	if err := <-ready; err != nil {
		return nil, err
	}
	return c, nil
}

// own is the owning goroutine: it locks its thread, sets up the context
// and then runs the funnelled calls until the work channel closes. The
// thread stays locked, so it exits with the goroutine.
func (c *Context) own(ordinal int, ready chan<- error) {
	runtime.LockOSThread()
	if err := c.setup(ordinal); err != nil {
		ready <- err
		return
	}
	ready <- nil
	for f := range c.work {
		c.result <- f()
	}
}

// setup initialises the driver and the device on the owning thread.
func (c *Context) setup(ordinal int) error {
	d := c.drv
	if err := d.call("cuInit", 0); err != nil {
		var ce *CallError
		if errors.As(err, &ce) && ce.Result == 100 {
			return fmt.Errorf("%w: the driver (%s) found none: %v", ErrNoDevice, d.path, err)
		}
		if errors.As(err, &ce) && ce.Result == 34 {
			return fmt.Errorf("%w: %s is a stub library, not a driver: %v", ErrNoDriver, d.path, err)
		}
		return fmt.Errorf("cuda: initialise the driver %s: %w", d.path, err)
	}
	var count int32
	if err := d.call("cuDeviceGetCount", uintptr(unsafe.Pointer(&count))); err != nil {
		return fmt.Errorf("cuda: count devices: %w", err)
	}
	if count == 0 {
		return fmt.Errorf("%w: the driver (%s) reports 0 devices", ErrNoDevice, d.path)
	}
	if ordinal < 0 || ordinal >= int(count) {
		return fmt.Errorf("%w: device %d asked for, the driver reports %d (0..%d)", ErrNoDevice, ordinal, count, count-1)
	}
	if err := d.call("cuDeviceGet", uintptr(unsafe.Pointer(&c.dev)), uintptr(ordinal)); err != nil {
		return fmt.Errorf("cuda: device %d: %w", ordinal, err)
	}
	var name [256]byte
	if err := d.call("cuDeviceGetName", uintptr(unsafe.Pointer(&name[0])), uintptr(len(name)), uintptr(c.dev)); err != nil {
		return fmt.Errorf("cuda: name of device %d: %w", ordinal, err)
	}
	c.name = string(name[:clen(name[:])])
	for _, a := range []struct {
		attr int
		dst  *int
	}{{attrMajor, &c.major}, {attrMinor, &c.minor}, {attrMultiprocessors, &c.sms}, {attrSharedOptin, &c.sharedOptin}} {
		var v int32
		if err := d.call("cuDeviceGetAttribute", uintptr(unsafe.Pointer(&v)), uintptr(a.attr), uintptr(c.dev)); err != nil {
			return fmt.Errorf("cuda: attribute %d of device %d: %w", a.attr, ordinal, err)
		}
		*a.dst = int(v)
	}
	var total uintptr
	if err := d.call("cuDeviceTotalMem_v2", uintptr(unsafe.Pointer(&total)), uintptr(c.dev)); err != nil {
		return fmt.Errorf("cuda: memory of device %d: %w", ordinal, err)
	}
	c.totalMem = uint64(total)
	if err := d.call("cuDevicePrimaryCtxRetain", uintptr(unsafe.Pointer(&c.ctx)), uintptr(c.dev)); err != nil {
		return fmt.Errorf("cuda: retain the primary context of device %d: %w", ordinal, err)
	}
	if err := d.call("cuCtxSetCurrent", c.ctx); err != nil {
		_ = d.call("cuDevicePrimaryCtxRelease_v2", uintptr(c.dev))
		return fmt.Errorf("cuda: make the context of device %d current: %w", ordinal, err)
	}
	return nil
}

func clen(b []byte) int {
	for i, v := range b {
		if v == 0 {
			return i
		}
	}
	return len(b)
}

// do runs f on the owning thread and returns its error.
func (c *Context) do(f func() error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	c.work <- f
	return <-c.result
}

// DeviceName is the device's name, e.g. "NVIDIA H200".
func (c *Context) DeviceName() string { return c.name }

// ComputeCapability is the device's compute capability, e.g. 9, 0.
func (c *Context) ComputeCapability() (major, minor int) { return c.major, c.minor }

// Multiprocessors is the device's number of streaming multiprocessors.
func (c *Context) Multiprocessors() int { return c.sms }

// MaxSharedPerBlock is the most shared memory, in bytes, a block may use
// once a kernel opts in (SetMaxDynamicShared).
func (c *Context) MaxSharedPerBlock() int { return c.sharedOptin }

// TotalMemory is the device's memory in bytes.
func (c *Context) TotalMemory() uint64 { return c.totalMem }

// Close releases the primary context and ends the owning goroutine. Memory
// and modules still held are freed with the context when no other user
// retains it. Closing twice is a no-op.
func (c *Context) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.work <- func() error {
		if err := c.drv.call("cuCtxSynchronize"); err != nil {
			_ = c.drv.call("cuDevicePrimaryCtxRelease_v2", uintptr(c.dev))
			return fmt.Errorf("cuda: synchronise before close: %w", err)
		}
		if err := c.drv.call("cuDevicePrimaryCtxRelease_v2", uintptr(c.dev)); err != nil {
			return fmt.Errorf("cuda: release the primary context: %w", err)
		}
		return nil
	}
	err := <-c.result
	c.closed = true
	close(c.work)
	return err
}

// Do runs fn on the owning thread with a Queue that calls the driver
// directly: a sequence of launches and copies in one hand-over instead of
// one per call. The Queue is valid only inside fn; fn must not call the
// Context's own methods (they would wait for fn to finish).
func (c *Context) Do(fn func(q *Queue) error) error {
	return c.do(func() error {
		q := &Queue{c: c, live: true}
		defer func() { q.live = false }()
		return fn(q)
	})
}

// Queue issues driver calls on the owning thread; it is handed to the
// function given to Context.Do.
type Queue struct {
	c    *Context
	live bool
}

// errQueueDead reports a Queue used after its Do returned.
var errQueueDead = errors.New("cuda: Queue used outside the Do call that made it")

func (q *Queue) ok() error {
	if !q.live {
		return errQueueDead
	}
	return nil
}
