//go:build cudaemu && !gpu && amd64 && !asan

package cuda

import (
	"fmt"
	"sync"
	"syscall"
	"unsafe"
)

// exactSizes is false: the pool rounds sizes up to classes, as on a GPU (see roundBytes).
const exactSizes = false

// emulatedMemory is the emulator's device memory: one reservation of address space, handed
// out from its start and never given back (the pool reuses what it frees), and readable and
// writable only while a driver call runs: code that dereferences device memory anywhere else,
// which on a GPU would read another address space, faults here with its stack.
type emulatedMemory struct {
	mu    sync.Mutex
	arena []byte
	used  int
}

// emulatedBytes is the address space reserved, of which only what is used takes memory.
const emulatedBytes = 64 << 30

func newEmulatedMemory() (*emulatedMemory, error) {
	arena, err := syscall.Mmap(-1, 0, emulatedBytes, syscall.PROT_NONE, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		return nil, fmt.Errorf("cuda: reserving the emulator's device memory: %w", err)
	}
	return &emulatedMemory{arena: arena}, nil
}

func (m *emulatedMemory) alloc(bytes int64) (uintptr, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	const align = 256 // as cuMemAlloc's
	start := (m.used + align - 1) / align * align
	if int64(start)+bytes > int64(len(m.arena)) {
		return 0, errNoMemory
	}
	m.used = start + int(bytes)
	return uintptr(unsafe.Pointer(&m.arena[start])), nil
}

func (*emulatedMemory) free(uintptr) error { return nil }

// access opens device memory to the calling driver call, and returns what closes it again.
func (m *emulatedMemory) access() (done func()) {
	used := m.arena[:m.used]
	protect(used, syscall.PROT_READ|syscall.PROT_WRITE)
	return func() { protect(used, syscall.PROT_NONE) }
}

func protect(b []byte, prot int) {
	if len(b) == 0 {
		return
	}
	if err := syscall.Mprotect(b, prot); err != nil {
		panic(fmt.Sprintf("cuda: mprotect of the emulator's device memory: %v", err))
	}
}
