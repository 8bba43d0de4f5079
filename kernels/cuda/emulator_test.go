//go:build cudaemu && !gpu && amd64

package cuda

import (
	"regexp"
	"slices"
	"testing"
)

// TestEmulatorHoldsEveryKernel: the emulator's table of kernels (emulator.cpp) names every
// kernel the sources declare, so that none goes untested without a GPU.
func TestEmulatorHoldsEveryKernel(t *testing.T) {
	decl := regexp.MustCompile(`extern "C" __global__ void (\w+)\(`)
	held := emulatedKernels()
	for _, src := range sources() {
		for _, m := range decl.FindAllStringSubmatch(src.text, -1) {
			if !slices.Contains(held, m[1]) {
				t.Errorf("%s declares %s, which emulator.cpp's table of kernels leaves out", src.name, m[1])
			}
		}
	}
}
