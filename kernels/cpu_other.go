//go:build !amd64

package kernels

func hostPaths() []*cpuPath { return []*cpuPath{genericPath} }

// run is never called: this architecture's paths have no micro-kernels.
func (t *gemmTile) run(kc int, a *float32, rowStride, kStride int, b, c *float32, ldc int, alpha, beta float32) {
	panic("kernels: no micro-kernels on this architecture")
}
