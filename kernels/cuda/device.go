//go:build gpu

package cuda

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"gorgonia.org/cu"
)

// A Device is one GPU with the state its calls share: the primary context, one stream, the
// memory pool, the cuBLAS handle and the kernels loaded so far. Its methods may be called
// from any goroutine; they run one at a time.
type Device struct {
	mu     sync.Mutex
	dev    cu.Device
	ctx    cu.CUContext
	stream cu.Stream
	blas   blasHandle
	pool   pool

	name string
	arch string // sm_XY, what NVRTC compiles for
	sms  int

	modules map[string]cu.Module
	funcs   map[string]cu.Function
	// work holds the device's own scratch buffers by use, grown as needed and kept.
	work map[string]block
	// hostOps are the operations ERLGO_CUDA_HOST_OPS runs on the host.
	hostOps map[string]bool
	tf32    bool
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
// Two environment variables configure it. ERLGO_CUDA_TF32=1 lets cuBLAS run float32 products on
// TF32 tensor cores (faster, with a 10-bit mantissa in the products: off by default, so that
// results stay within float32 rounding of the host's). ERLGO_CUDA_HOST_OPS, a comma-separated
// list of operations (gemm, attention, layernorm, ..., see HostOps), runs those on the host
// through downloads and uploads, so that one run on a GPU can tell which kernel disagrees.
func Open() (*Device, error) {
	openOnce.Do(func() { opened, openErr = open() })
	return opened, openErr
}

func open() (d *Device, err error) {
	defer func() {
		if e, ok := recover().(*Error); ok {
			d, err = nil, e
		} else if e != nil {
			panic(e)
		}
	}()
	d = &Device{modules: map[string]cu.Module{}, funcs: map[string]cu.Function{}, work: map[string]block{},
		pool: pool{free: map[int64][]cu.DevicePtr{}, live: map[cu.DevicePtr]int64{}}}
	if d.hostOps, err = parseHostOps(os.Getenv("ERLGO_CUDA_HOST_OPS")); err != nil {
		return nil, err
	}
	d.tf32 = os.Getenv("ERLGO_CUDA_TF32") == "1"
	n, err := cu.NumDevices()
	check("cuDeviceGetCount", err)
	if n == 0 {
		return nil, fmt.Errorf("cuda: no CUDA device")
	}
	d.dev, err = cu.GetDevice(0)
	check("cuDeviceGet(0)", err)
	d.name, err = d.dev.Name()
	check("cuDeviceGetName", err)
	major, err := d.dev.Attribute(cu.ComputeCapabilityMajor)
	check("cuDeviceGetAttribute(compute capability)", err)
	minor, err := d.dev.Attribute(cu.ComputeCapabilityMinor)
	check("cuDeviceGetAttribute(compute capability)", err)
	d.arch = fmt.Sprintf("sm_%d%d", major, minor)
	d.sms, err = d.dev.Attribute(cu.MultiprocessorCount)
	check("cuDeviceGetAttribute(multiprocessors)", err)
	d.ctx, err = d.dev.RetainPrimaryCtx()
	check("cuDevicePrimaryCtxRetain", err)
	d.enter()
	defer d.leave()
	d.stream, err = cu.MakeStream(cu.DefaultStream)
	check("cuStreamCreate", err)
	d.blas = newBlas(d.stream, d.tf32)
	return d, nil
}

// enter makes the calling goroutine the Device's user: it takes the lock, and binds the
// context to the goroutine's OS thread, where CUDA looks for it. leave undoes both.
func (d *Device) enter() {
	d.mu.Lock()
	runtime.LockOSThread()
	if err := cu.SetCurrentContext(d.ctx); err != nil {
		runtime.UnlockOSThread()
		d.mu.Unlock()
		check("cuCtxSetCurrent", err)
	}
}

func (d *Device) leave() {
	runtime.UnlockOSThread()
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
		s += ", on the host: " + strings.Join(sortedKeys(d.hostOps), ",")
	}
	return s
}

// Synchronize waits until the work queued so far has finished.
func (d *Device) Synchronize() {
	d.enter()
	defer d.leave()
	check("cuStreamSynchronize", d.stream.Synchronize())
}

// Time runs f calls times, each queuing work on the device, and returns the device time per
// call, measured by CUDA events around the calls: the launch cost of the host is not in it
// unless it keeps the device waiting.
func (d *Device) Time(calls int, f func()) time.Duration {
	d.enter()
	start, err := cu.MakeEvent(cu.DefaultEvent)
	check("cuEventCreate", err)
	stop, err := cu.MakeEvent(cu.DefaultEvent)
	check("cuEventCreate", err)
	check("cuEventRecord", start.Record(d.stream))
	d.leave()
	for range calls {
		f()
	}
	d.enter()
	defer d.leave()
	check("cuEventRecord", stop.Record(d.stream))
	check("cuEventSynchronize", stop.Synchronize())
	ms, err := start.Elapsed(stop)
	check("cuEventElapsedTime", err)
	check("cuEventDestroy", cu.DestroyEvent(&start))
	check("cuEventDestroy", cu.DestroyEvent(&stop))
	return time.Duration(ms * 1e6 / float64(calls))
}

// function returns the kernel called name, compiling and loading its module on first use.
func (d *Device) function(name string) cu.Function {
	if f, ok := d.funcs[name]; ok {
		return f
	}
	file := moduleOf(name)
	mod, ok := d.modules[file]
	if !ok {
		var src *source
		for _, s := range sources() {
			if s.name == file {
				src = &s
			}
		}
		if src == nil {
			panic(fmt.Sprintf("cuda: no kernel source %s for kernel %s", file, name))
		}
		cubin, _, err := compile(src.name, src.text, d.arch)
		check("NVRTC compiling "+file+" for "+d.arch, err)
		mod, err = cu.LoadData(string(cubin))
		check("cuModuleLoadData("+file+")", err)
		d.modules[file] = mod
	}
	f, err := mod.Function(name)
	check("cuModuleGetFunction("+name+")", err)
	d.funcs[name] = f
	return f
}

// dim is a grid or block shape.
type dim struct{ x, y, z int }

// launch queues the kernel called name over a grid of blocks shaped by group, with shared
// bytes of dynamic shared memory. Each argument is a device slice ([]float32 or []int32: its
// address), a block, or a scalar: int32, int64, float32 or float64, matching the kernel's
// int, long long, float and double parameters.
func (d *Device) launch(name string, grid, group dim, shared int, args ...any) {
	fn := d.function(name)
	slots := make([]uint64, len(args))
	params := make([]unsafe.Pointer, len(args))
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
		// cuLaunchKernel copies each parameter's size from its slot: the low bytes, on this
		// little-endian machine, which is where the value is.
		params[i] = unsafe.Pointer(&slots[i])
	}
	err := fn.Launch(max(grid.x, 1), max(grid.y, 1), max(grid.z, 1), max(group.x, 1), max(group.y, 1), max(group.z, 1), shared, d.stream, params)
	check("cuLaunchKernel("+name+")", err)
}

// blocksFor is the grid of a grid-stride kernel over n elements in blocks of threads: enough
// blocks to fill the device several times over, and no more.
func (d *Device) blocksFor(n, threads int) int {
	return max(1, min((n+threads-1)/threads, 32*d.sms))
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
