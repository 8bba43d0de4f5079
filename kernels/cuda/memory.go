//go:build gpu || cudaemu

package cuda

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// A block is one allocation of device memory.
type block struct {
	ptr   uintptr
	bytes int64
}

// pool caches freed device memory by size, so that a program that allocates the same shapes
// again, as every training step after the first does, allocates nothing from the driver. A
// freed block is only filed for reuse: work queued on the stream before may still read it, and
// the work of whoever reuses it is queued after that, on the one stream.
type pool struct {
	mu    sync.Mutex
	free  map[int64][]uintptr // cached blocks by size
	live  map[uintptr]int64   // blocks in use, and their sizes
	stats PoolStats
}

// PoolStats describe a Device's memory pool.
type PoolStats struct {
	// DriverAllocs counts the allocations asked of the driver (cuMemAlloc), Allocs all those
	// asked of the pool.
	DriverAllocs, Allocs int
	// Held is the device memory the pool holds, in use or cached, in bytes; InUse the part in use.
	Held, InUse int64
}

// Stats returns the pool's counts so far.
func (d *Device) Stats() PoolStats {
	d.pool.mu.Lock()
	defer d.pool.mu.Unlock()
	return d.pool.stats
}

// roundBytes is the size class of a request: a multiple of 512 bytes below 1 MiB, of 2 MiB
// above; on the emulator under AddressSanitizer (go test -asan), the request itself, so that a
// kernel that reads or writes past the end of a buffer is past the end of an allocation.
func roundBytes(n int64) int64 {
	const small, large = 512, 2 << 20
	if exactSizes {
		return max(n, 1)
	}
	if n < 1<<20 {
		return (max(n, 1) + small - 1) / small * small
	}
	return (n + large - 1) / large * large
}

// get returns a block of at least n bytes, from the cache or the driver. When the driver is
// out of memory, the garbage collector runs (tensors that are garbage give their memory back
// through their cleanups), then the cache is given back to the driver, and each time the
// allocation is tried again.
func (d *Device) get(n int64) block {
	size := roundBytes(n)
	p := &d.pool
	p.mu.Lock()
	p.stats.Allocs++
	if l := p.free[size]; len(l) > 0 {
		ptr := l[len(l)-1]
		p.free[size] = l[:len(l)-1]
		p.live[ptr] = size
		p.stats.InUse += size
		p.mu.Unlock()
		return block{ptr, size}
	}
	p.mu.Unlock()
	ptr, err := d.drv.alloc(size)
	for retry := 0; isOutOfMemory(err) && retry < 2; retry++ {
		if retry == 0 {
			runtime.GC()
			runtime.GC() // the first collection queues the cleanups, the second lets them run
		} else {
			d.releaseCache()
		}
		ptr, err = d.drv.alloc(size)
	}
	check(fmt.Sprintf("cuMemAlloc(%d bytes, with %d held)", size, d.Stats().Held), err)
	p.mu.Lock()
	p.live[ptr] = size
	p.stats.DriverAllocs++
	p.stats.Held += size
	p.stats.InUse += size
	p.mu.Unlock()
	return block{ptr, size}
}

// put files the block at ptr for reuse. It makes no CUDA call, so that garbage-collection
// cleanups may call it from any goroutine.
func (d *Device) put(ptr uintptr) {
	p := &d.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	size, ok := p.live[ptr]
	if !ok {
		panic(fmt.Sprintf("cuda: freeing %#x, which is not a live allocation of this device", ptr))
	}
	delete(p.live, ptr)
	p.free[size] = append(p.free[size], ptr)
	p.stats.InUse -= size
}

// releaseCache gives the cached blocks back to the driver, after the work that may use them.
func (d *Device) releaseCache() {
	check("cuStreamSynchronize", d.drv.sync())
	p := &d.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	for size, l := range p.free {
		for _, ptr := range l {
			check("cuMemFree", d.drv.free(ptr))
			p.stats.Held -= size
		}
		delete(p.free, size)
	}
}

// Alloc returns n zeroed floats of device memory, as a slice only the Device may dereference.
func (d *Device) Alloc(n int) []float32 {
	if n == 0 {
		return []float32{}
	}
	return unsafe.Slice((*float32)(d.allocZeroed(n)), n)
}

// AllocIndex returns n zeroed int32s of device memory.
func (d *Device) AllocIndex(n int) []int32 {
	if n == 0 {
		return []int32{}
	}
	return unsafe.Slice((*int32)(d.allocZeroed(n)), n)
}

func (d *Device) allocZeroed(words int) unsafe.Pointer {
	d.enter()
	defer d.leave()
	b := d.get(int64(words) * 4)
	check("cuMemsetD32Async", d.drv.zero(b.ptr, int64(words)))
	return devicePointer(b.ptr)
}

// Free returns memory that Alloc gave to the pool; x must be that slice, whole. The caller
// must not use x afterwards. It may be called from any goroutine, a cleanup's included.
func (d *Device) Free(x []float32) {
	if len(x) > 0 {
		d.put(addr(x))
	}
}

// FreeIndex is Free for memory that AllocIndex gave.
func (d *Device) FreeIndex(x []int32) {
	if len(x) > 0 {
		d.put(addr(x))
	}
}

// Upload copies min(len(dst), len(src)) floats from the host's src to the device's dst. It
// returns once src may be reused; the copy is ordered with the device's other work.
func (d *Device) Upload(dst, src []float32) {
	d.upload(addr(dst), unsafe.Pointer(unsafe.SliceData(src)), min(len(dst), len(src)))
}

// UploadIndex is Upload for indices.
func (d *Device) UploadIndex(dst, src []int32) {
	d.upload(addr(dst), unsafe.Pointer(unsafe.SliceData(src)), min(len(dst), len(src)))
}

func (d *Device) upload(dst uintptr, src unsafe.Pointer, n int) {
	if n == 0 {
		return
	}
	d.enter()
	defer d.leave()
	check("cuMemcpyHtoDAsync", d.drv.htod(dst, src, int64(n)*4))
}

// Download copies min(len(dst), len(src)) floats from the device's src to the host's dst,
// after the work queued before it has finished.
func (d *Device) Download(dst, src []float32) {
	d.download(unsafe.Pointer(unsafe.SliceData(dst)), addr(src), int64(min(len(dst), len(src)))*4)
}

// DownloadIndex is Download for indices.
func (d *Device) DownloadIndex(dst, src []int32) {
	d.download(unsafe.Pointer(unsafe.SliceData(dst)), addr(src), int64(min(len(dst), len(src)))*4)
}

func (d *Device) download(dst unsafe.Pointer, src uintptr, bytes int64) {
	if bytes == 0 {
		return
	}
	d.enter()
	defer d.leave()
	check("cuMemcpyDtoHAsync", d.drv.dtoh(dst, src, bytes))
}

// Zero sets the device's x to zeros.
func (d *Device) Zero(x []float32) {
	if len(x) == 0 {
		return
	}
	d.enter()
	defer d.leave()
	check("cuMemsetD32Async", d.drv.zero(addr(x), int64(len(x))))
}

// Copy copies min(len(dst), len(src)) floats between two slices of the device's memory.
func (d *Device) Copy(dst, src []float32) {
	n := min(len(dst), len(src))
	if n == 0 {
		return
	}
	d.enter()
	defer d.leave()
	check("cuMemcpyDtoDAsync", d.drv.dtod(addr(dst), addr(src), int64(n)*4))
}

// workspace returns the Device's own buffer for one use, of at least bytes bytes: grown when
// too small, and kept, so that steady use allocates nothing.
func (d *Device) workspace(use string, bytes int64) block {
	b := d.work[use]
	if b.bytes < bytes {
		if b.bytes > 0 {
			d.put(b.ptr)
		}
		b = d.get(bytes)
		d.work[use] = b
	}
	return b
}

// addr is the device address a slice of device memory starts at.
func addr[E float32 | int32](x []E) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(x))) }

// devicePointer is the address p as a pointer, for a slice over device memory: the unified
// address space gives device memory addresses that no host allocation has, and the Go runtime
// ignores pointers outside its own heap.
func devicePointer(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }
