//go:build cudaemu && !gpu && amd64 && !asan

package cuda

import (
	"runtime/debug"
	"testing"
)

// sink keeps a read the compiler would otherwise drop.
var sink float32

// TestEmulatedMemoryIsGuarded: the host reads and writes the emulator's device memory through
// the Device and faults when it dereferences it, as on a GPU, where the address is another
// memory's.
func TestEmulatedMemoryIsGuarded(t *testing.T) {
	dev, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	x := dev.Alloc(3)
	dev.Upload(x, []float32{1, 2, 3})
	got := make([]float32, 3)
	dev.Download(got, x)
	if got[2] != 3 {
		t.Fatalf("downloaded %v, want [1 2 3]", got)
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	faulted := func(f func()) (yes bool) {
		defer func() { yes = recover() != nil }()
		f()
		return false
	}
	if !faulted(func() { sink = x[0] }) {
		t.Error("reading device memory from the host did not fault")
	}
	if !faulted(func() { x[1] = 5 }) {
		t.Error("writing device memory from the host did not fault")
	}
}
