package cuda

import (
	"fmt"
	"time"
	"unsafe"
)

// Event is a CUDA event: a mark on the default stream whose completion
// time the device records, for timing device work.
type Event struct {
	c  *Context
	ev uintptr
}

// NewEvent creates a timing event.
func (q *Queue) NewEvent() (*Event, error) {
	if err := q.ok(); err != nil {
		return nil, err
	}
	var ev uintptr
	if err := q.c.drv.call("cuEventCreate", uintptr(unsafe.Pointer(&ev)), 0); err != nil {
		return nil, fmt.Errorf("cuda: create an event: %w", err)
	}
	return &Event{c: q.c, ev: ev}, nil
}

// Record marks the event on the default stream.
func (q *Queue) Record(e *Event) error {
	if err := q.ok(); err != nil {
		return err
	}
	if err := q.c.drv.call("cuEventRecord", e.ev, 0); err != nil {
		return fmt.Errorf("cuda: record an event: %w", err)
	}
	return nil
}

// Elapsed waits for end and returns the device time between start and end.
func (q *Queue) Elapsed(start, end *Event) (time.Duration, error) {
	if err := q.ok(); err != nil {
		return 0, err
	}
	if err := q.c.drv.call("cuEventSynchronize", end.ev); err != nil {
		return 0, fmt.Errorf("cuda: wait for an event: %w", err)
	}
	var ms float32
	if err := q.c.drv.call("cuEventElapsedTime", uintptr(unsafe.Pointer(&ms)), start.ev, end.ev); err != nil {
		return 0, fmt.Errorf("cuda: time between events: %w", err)
	}
	return time.Duration(float64(ms) * float64(time.Millisecond)), nil
}

// DestroyEvent frees an event.
func (q *Queue) DestroyEvent(e *Event) error {
	if err := q.ok(); err != nil {
		return err
	}
	if err := q.c.drv.call("cuEventDestroy_v2", e.ev); err != nil {
		return fmt.Errorf("cuda: destroy an event: %w", err)
	}
	return nil
}

// Time runs fn on the owning thread between two events and returns the
// device time it took (fn's work is waited for).
func (c *Context) Time(fn func(q *Queue) error) (time.Duration, error) {
	var d time.Duration
	err := c.Do(func(q *Queue) error {
		start, err := q.NewEvent()
		if err != nil {
			return err
		}
		defer q.DestroyEvent(start)
		end, err := q.NewEvent()
		if err != nil {
			return err
		}
		defer q.DestroyEvent(end)
		if err := q.Record(start); err != nil {
			return err
		}
		if err := fn(q); err != nil {
			return err
		}
		if err := q.Record(end); err != nil {
			return err
		}
		d, err = q.Elapsed(start, end)
		return err
	})
	return d, err
}
