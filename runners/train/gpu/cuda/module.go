package cuda

import (
	"bytes"
	"fmt"
	"math"
	"runtime"
	"unsafe"
)

// Module is PTX loaded into a context.
type Module struct {
	c   *Context
	mod uintptr
}

// Kernel is one entry point (an extern "C" __global__ function) of a
// Module.
type Kernel struct {
	m    *Module
	name string
	fn   uintptr
}

// Name is the kernel's symbol name.
func (k *Kernel) Name() string { return k.name }

// CUjit_option values for the JIT's error log.
const (
	jitErrorLogBuffer     = 5
	jitErrorLogBufferSize = 6
)

// Load JIT-compiles PTX text into a module (cuModuleLoadDataEx on a
// NUL-terminated copy). A failed compile's error carries the JIT log.
func (q *Queue) Load(ptx string) (*Module, error) {
	if err := q.ok(); err != nil {
		return nil, err
	}
	src := append([]byte(ptx), 0)
	logBuf := make([]byte, 16<<10)
	opts := []int32{jitErrorLogBuffer, jitErrorLogBufferSize}
	vals := []uintptr{uintptr(unsafe.Pointer(&logBuf[0])), uintptr(len(logBuf))}
	var mod uintptr
	err := q.c.drv.call("cuModuleLoadDataEx", uintptr(unsafe.Pointer(&mod)), uintptr(unsafe.Pointer(&src[0])),
		uintptr(len(opts)), uintptr(unsafe.Pointer(&opts[0])), uintptr(unsafe.Pointer(&vals[0])))
	if err != nil {
		if log := string(bytes.TrimSpace(logBuf[:clen(logBuf)])); log != "" {
			return nil, fmt.Errorf("cuda: load PTX (%d bytes): %w; JIT log:\n%s", len(ptx), err, log)
		}
		return nil, fmt.Errorf("cuda: load PTX (%d bytes): %w", len(ptx), err)
	}
	return &Module{c: q.c, mod: mod}, nil
}

// Load JIT-compiles PTX text into a module.
func (c *Context) Load(ptx string) (*Module, error) {
	var m *Module
	err := c.Do(func(q *Queue) (err error) { m, err = q.Load(ptx); return err })
	return m, err
}

// Shared is Load, once per context for the same PTX text: the module
// stays loaded until the context closes, for trainers that come and go.
func (c *Context) Shared(ptx string) (*Module, error) {
	c.modMu.Lock()
	defer c.modMu.Unlock()
	if m, ok := c.shared[ptx]; ok {
		return m, nil
	}
	m, err := c.Load(ptx)
	if err != nil {
		return nil, err
	}
	if c.shared == nil {
		c.shared = map[string]*Module{}
	}
	c.shared[ptx] = m
	return m, nil
}

// Kernel looks up an entry point by its symbol name.
func (m *Module) Kernel(name string) (*Kernel, error) {
	var fn uintptr
	cname := append([]byte(name), 0)
	err := m.c.do(func() error {
		return m.c.drv.call("cuModuleGetFunction", uintptr(unsafe.Pointer(&fn)), m.mod, uintptr(unsafe.Pointer(&cname[0])))
	})
	if err != nil {
		return nil, fmt.Errorf("cuda: kernel %q: %w", name, err)
	}
	return &Kernel{m: m, name: name, fn: fn}, nil
}

// Unload frees the module; its kernels must not be launched after.
func (m *Module) Unload() error {
	return m.c.do(func() error { return m.c.drv.call("cuModuleUnload", m.mod) })
}

// cuFuncSetAttribute's CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES.
const funcMaxDynamicShared = 8

// SetMaxDynamicShared lets k launch with up to bytes of dynamic shared
// memory (needed above 48 KiB).
func (k *Kernel) SetMaxDynamicShared(bytes int) error {
	err := k.m.c.do(func() error {
		return k.m.c.drv.call("cuFuncSetAttribute", k.fn, funcMaxDynamicShared, uintptr(bytes))
	})
	if err != nil {
		return fmt.Errorf("cuda: kernel %s: allow %d bytes of shared memory: %w", k.name, bytes, err)
	}
	return nil
}

// argPack is the parameter block handed to cuLaunchKernel: one 8-byte
// slot per argument holding its value (little-endian, so a 4-byte value
// sits in the slot's first bytes), and the array of pointers to the slots.
type argPack struct {
	slots []uint64
	ptrs  []uintptr
}

// packArgs lays out kernel arguments. Accepted: Ptr, int32, uint32, int64,
// uint64, float32, float64.
func packArgs(args []any) (*argPack, error) {
	p := &argPack{slots: make([]uint64, len(args)+1), ptrs: make([]uintptr, len(args)+1)}
	for i, a := range args {
		switch v := a.(type) {
		case Ptr:
			p.slots[i] = uint64(v)
		case int32:
			p.slots[i] = uint64(uint32(v))
		case uint32:
			p.slots[i] = uint64(v)
		case int64:
			p.slots[i] = uint64(v)
		case uint64:
			p.slots[i] = v
		case float32:
			p.slots[i] = uint64(math.Float32bits(v))
		case float64:
			p.slots[i] = math.Float64bits(v)
		default:
			return nil, fmt.Errorf("argument %d is a %T; want Ptr, int32, uint32, int64, uint64, float32 or float64", i, a)
		}
		p.ptrs[i] = uintptr(unsafe.Pointer(&p.slots[i]))
	}
	return p, nil
}

// Launch starts k on a grid of blocks with sharedBytes of dynamic shared
// memory, on the default stream, and checks the launch. Errors inside the
// kernel appear at the next Synchronize or copy.
func (q *Queue) Launch(k *Kernel, grid, block [3]uint32, sharedBytes uint32, args ...any) error {
	if err := q.ok(); err != nil {
		return err
	}
	p, err := packArgs(args)
	if err != nil {
		return fmt.Errorf("cuda: launch %s: %w", k.name, err)
	}
	for _, v := range append(grid[:], block[:]...) {
		if v == 0 {
			return fmt.Errorf("cuda: launch %s: grid %v and block %v must have no zero dimension", k.name, grid, block)
		}
	}
	err = q.c.drv.call("cuLaunchKernel", k.fn,
		uintptr(grid[0]), uintptr(grid[1]), uintptr(grid[2]),
		uintptr(block[0]), uintptr(block[1]), uintptr(block[2]),
		uintptr(sharedBytes), 0, uintptr(unsafe.Pointer(&p.ptrs[0])), 0)
	runtime.KeepAlive(p)
	if err != nil {
		return fmt.Errorf("cuda: launch %s (grid %v, block %v, %d shared bytes): %w", k.name, grid, block, sharedBytes, err)
	}
	return nil
}

// Launch starts k and checks the launch (see Queue.Launch).
func (c *Context) Launch(k *Kernel, grid, block [3]uint32, sharedBytes uint32, args ...any) error {
	return c.Do(func(q *Queue) error { return q.Launch(k, grid, block, sharedBytes, args...) })
}
