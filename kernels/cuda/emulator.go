//go:build cudaemu && !gpu && amd64

package cuda

// #cgo CXXFLAGS: -std=c++17 -O2
// #include <stdlib.h>
// #include <string.h>
// #include "emulator_api.h"
import "C"

import (
	"errors"
	"time"
	"unsafe"

	"github.com/erlgo/erlgo/kernels"
)

// driver is the emulator of emulator.cpp, in place of the CUDA driver, when the package is
// built with the tag cudaemu instead of gpu: the kernels run on the CPU, device memory is host
// memory that only the driver's calls may touch (emulatedMemory), and the matrix products are
// package kernels' own. It exists so that the Device, its kernels and package model's CUDA
// backend run their tests on a machine without a GPU:
//
//	go test -tags cudaemu ./kernels/... ./model/
//
// Code other than the driver's that reads or writes device memory faults, as it would on a GPU.
// Under AddressSanitizer instead, a kernel that reads or writes outside an allocation, which a
// GPU reports as an illegal address, is reported with its stack (device memory is then C
// memory of the exact sizes asked, so that the end of a buffer is the end of an allocation):
//
//	CGO_CXXFLAGS='-O1 -g -fsanitize=address' go test -asan -tags cudaemu -run /cuda ./kernels/
//
// (package kernels' TestAllocation fails under -asan, which allocates where Go does not).
type driver struct {
	name string
	arch string
	sms  int
	mem  *emulatedMemory
}

// An event is a point in time: the emulator runs each call to completion.
type event = time.Time

func openDriver(bool) (*driver, error) {
	mem, err := newEmulatedMemory()
	if err != nil {
		return nil, err
	}
	return &driver{name: "the CPU emulator of the CUDA kernels", arch: "emulated", sms: 1, mem: mem}, nil
}

func (drv *driver) alloc(bytes int64) (uintptr, error) { return drv.mem.alloc(bytes) }
func (drv *driver) free(p uintptr) error               { return drv.mem.free(p) }

func (*driver) bind() error { return nil }
func (*driver) unbind()     {}

var errNoMemory = errors.New("out of emulated device memory")

func isOutOfMemory(err error) bool { return err == errNoMemory }

func (drv *driver) zero(p uintptr, words int64) error {
	defer drv.mem.access()()
	C.memset(devicePointer(p), 0, C.size_t(4*words))
	return nil
}

func (drv *driver) htod(dst uintptr, src unsafe.Pointer, bytes int64) error {
	defer drv.mem.access()()
	C.memcpy(devicePointer(dst), src, C.size_t(bytes))
	return nil
}

func (drv *driver) dtoh(dst unsafe.Pointer, src uintptr, bytes int64) error {
	defer drv.mem.access()()
	C.memcpy(dst, devicePointer(src), C.size_t(bytes))
	return nil
}

func (drv *driver) dtod(dst, src uintptr, bytes int64) error {
	defer drv.mem.access()()
	C.memmove(devicePointer(dst), devicePointer(src), C.size_t(bytes))
	return nil
}

func (*driver) sync() error { return nil }

func (drv *driver) launch(name string, grid, group dim, shared int, slots []uint64) error {
	defer drv.mem.access()()
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var msg [512]C.char
	var s *C.uint64_t
	if len(slots) > 0 {
		s = (*C.uint64_t)(unsafe.Pointer(&slots[0]))
	}
	if C.emu_launch(cname, C.int(grid.x), C.int(grid.y), C.int(grid.z), C.int(group.x), C.int(group.y), C.int(group.z),
		C.int(shared), s, C.int(len(slots)), &msg[0], C.int(len(msg))) != 0 {
		return errors.New(C.GoString(&msg[0]))
	}
	return nil
}

// emulatedKernels lists the kernels the emulator holds.
func emulatedKernels() []string {
	out := make([]string, C.emu_kernels())
	for i := range out {
		out[i] = C.GoString(C.emu_kernel(C.int(i)))
	}
	return out
}

func (drv *driver) gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) error {
	defer drv.mem.access()()
	kernels.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	return nil
}

func (drv *driver) gemmStridedBatched(transA, transB bool, m, n, k int, alpha float32, a []float32, lda, strideA int, b []float32, ldb, strideB int, beta float32, c []float32, ldc, strideC, batch int) error {
	defer drv.mem.access()()
	kernels.GemmStridedBatched(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch)
	return nil
}

func (*driver) record() (event, error) { return time.Now(), nil }

func (*driver) elapsed(start, stop event) (time.Duration, error) { return stop.Sub(start), nil }
