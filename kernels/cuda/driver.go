//go:build gpu

package cuda

import (
	"fmt"
	"runtime"
	"time"
	"unsafe"

	"gorgonia.org/cu"
)

// driver is the CUDA driver, through gorgonia.org/cu, and cuBLAS: what a Device runs on.
// (With the build tag cudaemu instead of gpu, emulator.go stands in for it.)
type driver struct {
	name string
	arch string
	sms  int

	dev     cu.Device
	ctx     cu.CUContext
	stream  cu.Stream
	blas    blasHandle
	modules map[string]cu.Module
	funcs   map[string]cu.Function
}

// exactSizes is false: the pool rounds sizes up to classes (see roundBytes).
const exactSizes = false

// An event is a point in the stream's work.
type event = cu.Event

func openDriver(tf32 bool) (drv *driver, err error) {
	drv = &driver{modules: map[string]cu.Module{}, funcs: map[string]cu.Function{}}
	n, err := cu.NumDevices()
	check("cuDeviceGetCount", err)
	if n == 0 {
		return nil, fmt.Errorf("cuda: no CUDA device")
	}
	drv.dev, err = cu.GetDevice(0)
	check("cuDeviceGet(0)", err)
	drv.name, err = drv.dev.Name()
	check("cuDeviceGetName", err)
	major, err := drv.dev.Attribute(cu.ComputeCapabilityMajor)
	check("cuDeviceGetAttribute(compute capability)", err)
	minor, err := drv.dev.Attribute(cu.ComputeCapabilityMinor)
	check("cuDeviceGetAttribute(compute capability)", err)
	drv.arch = fmt.Sprintf("sm_%d%d", major, minor)
	drv.sms, err = drv.dev.Attribute(cu.MultiprocessorCount)
	check("cuDeviceGetAttribute(multiprocessors)", err)
	drv.ctx, err = drv.dev.RetainPrimaryCtx()
	check("cuDevicePrimaryCtxRetain", err)
	check("cuCtxSetCurrent", drv.bind())
	defer drv.unbind()
	drv.stream, err = cu.MakeStream(cu.DefaultStream)
	check("cuStreamCreate", err)
	drv.blas = newBlas(drv.stream, tf32)
	return drv, nil
}

// bind makes the context current on the calling goroutine's thread, and keeps the goroutine
// there until unbind.
func (drv *driver) bind() error {
	runtime.LockOSThread()
	if err := cu.SetCurrentContext(drv.ctx); err != nil {
		runtime.UnlockOSThread()
		return err
	}
	return nil
}

func (drv *driver) unbind() { runtime.UnlockOSThread() }

func (drv *driver) alloc(bytes int64) (uintptr, error) {
	p, err := cu.MemAlloc(bytes)
	return uintptr(p), err
}

func isOutOfMemory(err error) bool { return err == cu.OutOfMemory }

func (drv *driver) free(p uintptr) error { return cu.MemFree(cu.DevicePtr(p)) }

func (drv *driver) zero(p uintptr, words int64) error {
	return cu.MemsetD32Async(cu.DevicePtr(p), 0, words, drv.stream)
}

func (drv *driver) htod(dst uintptr, src unsafe.Pointer, bytes int64) error {
	return cu.MemcpyHtoDAsync(cu.DevicePtr(dst), src, bytes, drv.stream)
}

// dtoh copies to the host after the work queued before, and waits for the copy.
func (drv *driver) dtoh(dst unsafe.Pointer, src uintptr, bytes int64) error {
	if err := cu.MemcpyDtoHAsync(dst, cu.DevicePtr(src), bytes, drv.stream); err != nil {
		return err
	}
	return drv.stream.Synchronize()
}

func (drv *driver) dtod(dst, src uintptr, bytes int64) error {
	return cu.MemcpyDtoDAsync(cu.DevicePtr(dst), cu.DevicePtr(src), bytes, drv.stream)
}

func (drv *driver) sync() error { return drv.stream.Synchronize() }

// function returns the kernel called name, compiling its source with NVRTC for the device's
// architecture and loading it on first use.
func (drv *driver) function(name string) (cu.Function, error) {
	if f, ok := drv.funcs[name]; ok {
		return f, nil
	}
	file := moduleOf(name)
	mod, ok := drv.modules[file]
	if !ok {
		var text string
		for _, s := range sources() {
			if s.name == file {
				text = s.text
			}
		}
		if text == "" {
			return cu.Function{}, fmt.Errorf("no kernel source %s", file)
		}
		cubin, _, err := compile(file, text, drv.arch)
		if err != nil {
			return cu.Function{}, err
		}
		if mod, err = cu.LoadData(string(cubin)); err != nil {
			return cu.Function{}, fmt.Errorf("cuModuleLoadData(%s): %w", file, err)
		}
		drv.modules[file] = mod
	}
	f, err := mod.Function(name)
	if err != nil {
		return cu.Function{}, fmt.Errorf("cuModuleGetFunction: %w", err)
	}
	drv.funcs[name] = f
	return f, nil
}

func (drv *driver) launch(name string, grid, group dim, shared int, slots []uint64) error {
	fn, err := drv.function(name)
	if err != nil {
		return err
	}
	params := make([]unsafe.Pointer, len(slots))
	for i := range slots {
		params[i] = unsafe.Pointer(&slots[i]) // cu copies the values to C memory before the call
	}
	return fn.Launch(grid.x, grid.y, grid.z, group.x, group.y, group.z, shared, drv.stream, params)
}

func (drv *driver) gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) error {
	return drv.blas.sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func (drv *driver) gemmStridedBatched(transA, transB bool, m, n, k int, alpha float32, a []float32, lda, strideA int, b []float32, ldb, strideB int, beta float32, c []float32, ldc, strideC, batch int) error {
	return drv.blas.sgemmStridedBatched(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch)
}

// record returns an event recorded on the stream now.
func (drv *driver) record() (event, error) {
	e, err := cu.MakeEvent(cu.DefaultEvent)
	if err != nil {
		return e, err
	}
	return e, e.Record(drv.stream)
}

// elapsed waits for stop and returns the time between the events, which it destroys.
func (drv *driver) elapsed(start, stop event) (time.Duration, error) {
	if err := stop.Synchronize(); err != nil {
		return 0, err
	}
	ms, err := start.Elapsed(stop)
	if err != nil {
		return 0, err
	}
	if err := cu.DestroyEvent(&start); err != nil {
		return 0, err
	}
	return time.Duration(ms * float64(time.Millisecond)), cu.DestroyEvent(&stop)
}
