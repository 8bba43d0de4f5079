//go:build gpu || cudaemu

package kernels_test

import (
	"fmt"
	"os"

	"github.com/erlgo/erlgo/kernels"
	"github.com/erlgo/erlgo/kernels/cuda"
)

// The CUDA kernels meet every reference test of this package, on the same fresh random inputs
// and odd sizes, and within the same tolerance per kernel, as the host's: as the set "cuda",
// on the GPU with -tags gpu, and on the CPU emulator of the kernels with -tags cudaemu.
func init() {
	dev, err := cuda.Open()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kernels: the CUDA kernel set:", err)
		os.Exit(1)
	}
	kernels.AddDeviceSet("cuda", dev)
}
