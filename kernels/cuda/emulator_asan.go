//go:build cudaemu && !gpu && amd64 && asan

package cuda

// #include <stdlib.h>
import "C"

// exactSizes is true: each allocation is exactly as large as asked (see roundBytes).
const exactSizes = true

// emulatedMemory is the emulator's device memory under AddressSanitizer: C memory of exactly
// the sizes asked, whose ends AddressSanitizer guards. The host's stray accesses, which the
// guarded memory of other builds catches, go unseen here.
type emulatedMemory struct{}

func newEmulatedMemory() (*emulatedMemory, error) { return &emulatedMemory{}, nil }

func (*emulatedMemory) alloc(bytes int64) (uintptr, error) {
	p := C.calloc(1, C.size_t(bytes))
	if p == nil {
		return 0, errNoMemory
	}
	return uintptr(p), nil
}

func (*emulatedMemory) free(p uintptr) error { C.free(devicePointer(p)); return nil }

func (*emulatedMemory) access() (done func()) { return func() {} }
