package cuda

import (
	"fmt"
	"os"
	"unsafe"

	"github.com/ebitengine/purego"
)

// LibraryEnv names the environment variable that overrides the path of the
// driver library.
const LibraryEnv = "SLIPWAY_LIBCUDA"

// defaultLibrary is the driver library every NVIDIA driver installs.
const defaultLibrary = "libcuda.so.1"

// driver holds the entry points of a loaded libcuda.
type driver struct {
	path string
	fn   map[string]uintptr
}

// symbols are the entry points the package calls; all must be present.
var symbols = []string{
	"cuInit", "cuDriverGetVersion", "cuDeviceGetCount", "cuDeviceGet", "cuDeviceGetName",
	"cuDeviceGetAttribute", "cuDeviceTotalMem_v2",
	"cuDevicePrimaryCtxRetain", "cuDevicePrimaryCtxRelease_v2", "cuCtxSetCurrent",
	"cuCtxSynchronize", "cuMemAlloc_v2", "cuMemFree_v2", "cuMemcpyHtoD_v2",
	"cuMemcpyDtoH_v2", "cuMemcpyDtoD_v2", "cuMemsetD8_v2", "cuModuleLoadDataEx",
	"cuModuleUnload", "cuModuleGetFunction", "cuFuncSetAttribute", "cuLaunchKernel",
	"cuGetErrorName", "cuEventCreate", "cuEventRecord", "cuEventSynchronize",
	"cuEventElapsedTime", "cuEventDestroy_v2",
}

// libraryPath is the driver library to load: $SLIPWAY_LIBCUDA or
// libcuda.so.1.
func libraryPath() string {
	if p := os.Getenv(LibraryEnv); p != "" {
		return p
	}
	return defaultLibrary
}

// loadDriver opens the driver library and resolves every entry point.
func loadDriver() (*driver, error) {
	path := libraryPath()
	h, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot load %s (install the NVIDIA driver, or set %s to the library's path): %v", ErrNoDriver, path, LibraryEnv, err)
	}
	d := &driver{path: path, fn: make(map[string]uintptr, len(symbols))}
	for _, s := range symbols {
		p, err := purego.Dlsym(h, s)
		if err != nil || p == 0 {
			return nil, fmt.Errorf("%w: %s has no %s (a driver older than CUDA 12?): %v", ErrNoDriver, path, s, err)
		}
		d.fn[s] = p
	}
	namer := d.errorName
	errorNamer.Store(&namer)
	return d, nil
}

// call runs one entry point with integer and pointer arguments. Like
// purego.SyscallN, the objects whose addresses are converted to uintptr in
// the argument list are kept in place until the call returns.
//
//go:uintptrescapes
func (d *driver) call(name string, args ...uintptr) error {
	r1, _, _ := purego.SyscallN(d.fn[name], args...)
	return check(Result(int32(uint32(r1))), name)
}

// errorName asks cuGetErrorName for a code's name.
func (d *driver) errorName(r Result) (string, bool) {
	var s uintptr
	r1, _, _ := purego.SyscallN(d.fn["cuGetErrorName"], uintptr(r), uintptr(unsafe.Pointer(&s)))
	if r1 != 0 || s == 0 {
		return "", false
	}
	return cString(s), true
}

// cString copies a NUL-terminated C string.
func cString(p uintptr) string {
	if p == 0 {
		return ""
	}
	ptr := *(*unsafe.Pointer)(unsafe.Pointer(&p))
	n := 0
	for *(*byte)(unsafe.Add(ptr, n)) != 0 {
		n++
	}
	return string(unsafe.Slice((*byte)(ptr), n))
}
