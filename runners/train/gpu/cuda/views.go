package cuda

import (
	"fmt"
	"unsafe"
)

// view reinterprets a slice's memory as bytes, sharing it.
func view[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(s[0])))
}

// unview reinterprets bytes as a slice of T, sharing the memory. It panics
// when the length is not a multiple of T's size or the start is not
// aligned for T: both are programming errors.
func unview[T any](b []byte) []T {
	if len(b) == 0 {
		return nil
	}
	var z T
	size, align := int(unsafe.Sizeof(z)), uintptr(unsafe.Alignof(z))
	if len(b)%size != 0 {
		panic(fmt.Sprintf("cuda: %d bytes is not a whole number of %d-byte values", len(b), size))
	}
	if uintptr(unsafe.Pointer(&b[0]))%align != 0 {
		panic(fmt.Sprintf("cuda: bytes at %p are not aligned to %d", &b[0], align))
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), len(b)/size)
}

// Float32Bytes views s as bytes (no copy).
func Float32Bytes(s []float32) []byte { return view(s) }

// BytesFloat32 views b as float32s (no copy); b must be 4-aligned and a
// multiple of 4 bytes long.
func BytesFloat32(b []byte) []float32 { return unview[float32](b) }

// Float64Bytes views s as bytes (no copy).
func Float64Bytes(s []float64) []byte { return view(s) }

// BytesFloat64 views b as float64s (no copy); b must be 8-aligned and a
// multiple of 8 bytes long.
func BytesFloat64(b []byte) []float64 { return unview[float64](b) }

// Int32Bytes views s as bytes (no copy).
func Int32Bytes(s []int32) []byte { return view(s) }

// BytesInt32 views b as int32s (no copy).
func BytesInt32(b []byte) []int32 { return unview[int32](b) }

// Uint32Bytes views s as bytes (no copy).
func Uint32Bytes(s []uint32) []byte { return view(s) }

// BytesUint32 views b as uint32s (no copy).
func BytesUint32(b []byte) []uint32 { return unview[uint32](b) }

// Int64Bytes views s as bytes (no copy).
func Int64Bytes(s []int64) []byte { return view(s) }

// BytesInt64 views b as int64s (no copy).
func BytesInt64(b []byte) []int64 { return unview[int64](b) }
