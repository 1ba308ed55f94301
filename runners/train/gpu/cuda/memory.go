package cuda

import (
	"fmt"
	"unsafe"
)

// Ptr is a device address (CUdeviceptr).
type Ptr uintptr

// Alloc allocates bytes of device memory (not zeroed).
func (q *Queue) Alloc(bytes int) (Ptr, error) {
	if err := q.ok(); err != nil {
		return 0, err
	}
	if bytes <= 0 {
		return 0, fmt.Errorf("cuda: allocate %d bytes: want a positive size", bytes)
	}
	var p uintptr
	if err := q.c.drv.call("cuMemAlloc_v2", uintptr(unsafe.Pointer(&p)), uintptr(bytes)); err != nil {
		return 0, fmt.Errorf("cuda: allocate %d bytes: %w", bytes, err)
	}
	return Ptr(p), nil
}

// Free releases memory from Alloc; freeing 0 is a no-op.
func (q *Queue) Free(p Ptr) error {
	if err := q.ok(); err != nil {
		return err
	}
	if p == 0 {
		return nil
	}
	if err := q.c.drv.call("cuMemFree_v2", uintptr(p)); err != nil {
		return fmt.Errorf("cuda: free %#x: %w", uintptr(p), err)
	}
	return nil
}

// CopyToDevice copies src to device memory at dst (synchronous).
func (q *Queue) CopyToDevice(dst Ptr, src []byte) error {
	if err := q.ok(); err != nil {
		return err
	}
	if len(src) == 0 {
		return nil
	}
	if err := q.c.drv.call("cuMemcpyHtoD_v2", uintptr(dst), uintptr(unsafe.Pointer(&src[0])), uintptr(len(src))); err != nil {
		return fmt.Errorf("cuda: copy %d bytes to the device: %w", len(src), err)
	}
	return nil
}

// CopyFromDevice copies len(dst) bytes from device memory at src
// (synchronous: it waits for earlier work on the default stream).
func (q *Queue) CopyFromDevice(dst []byte, src Ptr) error {
	if err := q.ok(); err != nil {
		return err
	}
	if len(dst) == 0 {
		return nil
	}
	if err := q.c.drv.call("cuMemcpyDtoH_v2", uintptr(unsafe.Pointer(&dst[0])), uintptr(src), uintptr(len(dst))); err != nil {
		return fmt.Errorf("cuda: copy %d bytes from the device: %w", len(dst), err)
	}
	return nil
}

// CopyOnDevice copies bytes from src to dst, both device memory.
func (q *Queue) CopyOnDevice(dst, src Ptr, bytes int) error {
	if err := q.ok(); err != nil {
		return err
	}
	if bytes <= 0 {
		return nil
	}
	if err := q.c.drv.call("cuMemcpyDtoD_v2", uintptr(dst), uintptr(src), uintptr(bytes)); err != nil {
		return fmt.Errorf("cuda: copy %d bytes on the device: %w", bytes, err)
	}
	return nil
}

// Memset zeroes bytes of device memory at p.
func (q *Queue) Memset(p Ptr, bytes int) error {
	if err := q.ok(); err != nil {
		return err
	}
	if bytes <= 0 {
		return nil
	}
	if err := q.c.drv.call("cuMemsetD8_v2", uintptr(p), 0, uintptr(bytes)); err != nil {
		return fmt.Errorf("cuda: zero %d bytes: %w", bytes, err)
	}
	return nil
}

// Fill sets bytes of device memory at p to the byte v (a poison pattern
// in checks).
func (q *Queue) Fill(p Ptr, v byte, bytes int) error {
	if err := q.ok(); err != nil {
		return err
	}
	if bytes <= 0 {
		return nil
	}
	if err := q.c.drv.call("cuMemsetD8_v2", uintptr(p), uintptr(v), uintptr(bytes)); err != nil {
		return fmt.Errorf("cuda: fill %d bytes: %w", bytes, err)
	}
	return nil
}

// Synchronize waits for all work on the context to finish and returns the
// first asynchronous error (a failed kernel shows here).
func (q *Queue) Synchronize() error {
	if err := q.ok(); err != nil {
		return err
	}
	if err := q.c.drv.call("cuCtxSynchronize"); err != nil {
		return fmt.Errorf("cuda: synchronise: %w", err)
	}
	return nil
}

// Alloc allocates bytes of device memory (not zeroed).
func (c *Context) Alloc(bytes int) (Ptr, error) {
	var p Ptr
	err := c.Do(func(q *Queue) (err error) { p, err = q.Alloc(bytes); return err })
	return p, err
}

// Free releases memory from Alloc; freeing 0 is a no-op.
func (c *Context) Free(p Ptr) error { return c.Do(func(q *Queue) error { return q.Free(p) }) }

// CopyToDevice copies src to device memory at dst.
func (c *Context) CopyToDevice(dst Ptr, src []byte) error {
	return c.Do(func(q *Queue) error { return q.CopyToDevice(dst, src) })
}

// CopyFromDevice copies len(dst) bytes from device memory at src.
func (c *Context) CopyFromDevice(dst []byte, src Ptr) error {
	return c.Do(func(q *Queue) error { return q.CopyFromDevice(dst, src) })
}

// CopyOnDevice copies bytes from src to dst, both device memory.
func (c *Context) CopyOnDevice(dst, src Ptr, bytes int) error {
	return c.Do(func(q *Queue) error { return q.CopyOnDevice(dst, src, bytes) })
}

// Memset zeroes bytes of device memory at p.
func (c *Context) Memset(p Ptr, bytes int) error {
	return c.Do(func(q *Queue) error { return q.Memset(p, bytes) })
}

// Fill sets bytes of device memory at p to the byte v.
func (c *Context) Fill(p Ptr, v byte, bytes int) error {
	return c.Do(func(q *Queue) error { return q.Fill(p, v, bytes) })
}

// Synchronize waits for all work on the context to finish.
func (c *Context) Synchronize() error { return c.Do(func(q *Queue) error { return q.Synchronize() }) }
