//go:build gpu || cudaemu

package cuda

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// A Device is one GPU with the state its calls share: the driver's context, stream and cuBLAS
// handle, the memory pool, and the Device's own scratch buffers. Its methods may be called from
// any goroutine; they run one at a time.
type Device struct {
	mu   sync.Mutex
	drv  *driver
	pool pool

	name string
	arch string // sm_XY, what NVRTC compiles for
	sms  int

	// work holds the Device's own scratch buffers by use, grown as needed and kept.
	work map[string]block
	// hostOps are the operations ERLGO_CUDA_HOST_OPS runs on the host.
	hostOps map[string]bool
	tf32    bool
	// syncEach waits for each kernel as it is launched (ERLGO_CUDA_SYNC=1), so that a kernel
	// that fails is named in the error rather than the call that next waits for the device.
	syncEach bool
}

// An Error is a CUDA call that failed; the Device's methods panic with one, as package
// kernels' functions panic on a misuse: a failed device call leaves nothing to recover.
type Error struct {
	Call string // the CUDA function, and what it was called for
	Err  error
}

func (e *Error) Error() string { return fmt.Sprintf("cuda: %s: %v", e.Call, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// check panics with an Error naming call when err is not nil.
func check(call string, err error) {
	if err != nil {
		panic(&Error{call, err})
	}
}

var (
	openOnce sync.Once
	opened   *Device
	openErr  error
)

// Open returns the process's Device: GPU 0, opened on first use. Every model and test of a
// process shares it, as they share the GPU.
//
// Three environment variables configure it. ERLGO_CUDA_TF32=1 lets cuBLAS run float32 products
// on TF32 tensor cores (faster, with a 10-bit mantissa in the products: off by default, so that
// results stay within float32 rounding of the host's). ERLGO_CUDA_HOST_OPS, a comma-separated
// list of operations (see HostOps), runs those on the host through downloads and uploads, so
// that one run on a GPU can tell which kernel disagrees. ERLGO_CUDA_SYNC=1 waits for every
// kernel as it is launched, so that one that fails is the one an error names.
func Open() (*Device, error) {
	openOnce.Do(func() { opened, openErr = open() })
	return opened, openErr
}

func open() (d *Device, err error) {
	defer func() {
		switch r := recover().(type) {
		case nil:
		case *Error:
			d, err = nil, r
		default:
			panic(r)
		}
	}()
	d = &Device{work: map[string]block{}, pool: pool{free: map[int64][]uintptr{}, live: map[uintptr]int64{}}}
	if d.hostOps, err = parseHostOps(os.Getenv("ERLGO_CUDA_HOST_OPS")); err != nil {
		return nil, err
	}
	d.tf32 = os.Getenv("ERLGO_CUDA_TF32") == "1"
	d.syncEach = os.Getenv("ERLGO_CUDA_SYNC") == "1"
	if d.drv, err = openDriver(d.tf32); err != nil {
		return nil, err
	}
	d.name, d.arch, d.sms = d.drv.name, d.drv.arch, d.drv.sms
	return d, nil
}

// enter makes the calling goroutine the Device's user: it takes the lock and binds the
// driver's context to the goroutine's thread, where CUDA looks for it. leave undoes both.
func (d *Device) enter() {
	d.mu.Lock()
	if err := d.drv.bind(); err != nil {
		d.mu.Unlock()
		check("cuCtxSetCurrent", err)
	}
}

func (d *Device) leave() {
	d.drv.unbind()
	d.mu.Unlock()
}

// Name is the GPU's name, as the driver gives it.
func (d *Device) Name() string { return d.name }

// Arch is the architecture the kernels are compiled for, such as sm_90.
func (d *Device) Arch() string { return d.arch }

// String describes the device and its settings, for logs.
func (d *Device) String() string {
	s := fmt.Sprintf("%s (%s, %d SMs)", d.name, d.arch, d.sms)
	if d.tf32 {
		s += ", TF32 products"
	}
	if len(d.hostOps) > 0 {
		ops := make([]string, 0, len(d.hostOps))
		for op := range d.hostOps {
			ops = append(ops, op)
		}
		slices.Sort(ops)
		s += ", on the host: " + strings.Join(ops, ",")
	}
	return s
}

// Synchronize waits until the work queued so far has finished.
func (d *Device) Synchronize() {
	d.enter()
	defer d.leave()
	check("cuStreamSynchronize", d.drv.sync())
}

// Time runs f calls times, each queuing work on the device, and returns the device time per
// call, measured by CUDA events around the calls: the host's cost of launching is not in it
// unless it keeps the device waiting.
func (d *Device) Time(calls int, f func()) time.Duration {
	d.enter()
	start, err := d.drv.record()
	check("cuEventRecord", err)
	d.leave()
	for range calls {
		f()
	}
	d.enter()
	defer d.leave()
	stop, err := d.drv.record()
	check("cuEventRecord", err)
	elapsed, err := d.drv.elapsed(start, stop)
	check("cuEventElapsedTime", err)
	return elapsed / time.Duration(max(calls, 1))
}

// dim is a grid or block shape.
type dim struct{ x, y, z int }

// launch queues the kernel called name over a grid of blocks shaped by group, with shared
// bytes of dynamic shared memory. Each argument is a device slice ([]float32 or []int32: its
// address), a block, or a scalar: int32, int64, float32, float64 or bool, matching the kernel's
// int, long long, float, double and int parameters.
func (d *Device) launch(name string, grid, group dim, shared int, args ...any) {
	slots := make([]uint64, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case []float32:
			slots[i] = uint64(addr(v))
		case []int32:
			slots[i] = uint64(addr(v))
		case block:
			slots[i] = uint64(v.ptr)
		case int32:
			slots[i] = uint64(uint32(v))
		case int64:
			slots[i] = uint64(v)
		case float32:
			slots[i] = uint64(math.Float32bits(v))
		case float64:
			slots[i] = math.Float64bits(v)
		case bool:
			if v {
				slots[i] = 1
			}
		default:
			panic(fmt.Sprintf("cuda: %s: argument %d is a %T", name, i, a))
		}
	}
	// The driver passes each kernel parameter the low bytes of its slot: where, on this
	// little-endian machine, a 4-byte value is.
	g := dim{max(grid.x, 1), max(grid.y, 1), max(grid.z, 1)}
	b := dim{max(group.x, 1), max(group.y, 1), max(group.z, 1)}
	check("cuLaunchKernel("+name+")", d.drv.launch(name, g, b, shared, slots))
	d.waitIfSyncEach(name)
}

// waitIfSyncEach waits for the work queued so far when ERLGO_CUDA_SYNC=1, naming what was
// queued last in the error.
func (d *Device) waitIfSyncEach(last string) {
	if d.syncEach {
		check("cuStreamSynchronize after "+last, d.drv.sync())
	}
}

// blocksFor is the grid of a grid-stride kernel over n elements in blocks of threads: enough
// blocks to fill the device several times over, and no more.
func (d *Device) blocksFor(n, threads int) int {
	return max(1, min((n+threads-1)/threads, 32*d.sms))
}
