package kernels

import "golang.org/x/sys/cpu"

// The AVX2 path needs FMA beside AVX2 (every CPU with AVX2 since 2013 has it); the AVX-512
// path needs AVX-512F, and x/sys/cpu reports it only where the operating system saves the
// zmm registers.
var (
	avx2Path   = &cpuPath{name: "avx2", gemmTiles: []gemmTile{{6, 16, tile6x16AVX2}}, vectorWidth: 8, vectorISA: vectorAVX2}
	avx512Path = &cpuPath{name: "avx512", gemmTiles: []gemmTile{{12, 32, tile12x32AVX512}, {6, 16, tile6x16AVX2}}, vectorWidth: 16, vectorISA: vectorAVX512}
)

func hostPaths() []*cpuPath {
	var paths []*cpuPath
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		if cpu.X86.HasAVX512F {
			paths = append(paths, avx512Path)
		}
		paths = append(paths, avx2Path)
	}
	return append(paths, genericPath)
}

// The micro-kernels of gemm_amd64.s; see gemmTile.
const (
	tile6x16AVX2 tileKernel = iota
	tile12x32AVX512
)

func (t *gemmTile) run(kc int, a *float32, rowStride, kStride int, b, c *float32, ldc int, alpha, beta float32) {
	switch t.kernel {
	case tile6x16AVX2:
		gemmTile6x16AVX2(kc, a, rowStride, kStride, b, c, ldc, alpha, beta)
	case tile12x32AVX512:
		gemmTile12x32AVX512(kc, a, rowStride, kStride, b, c, ldc, alpha, beta)
	}
}

//go:noescape
func gemmTile6x16AVX2(kc int, a *float32, rowStride, kStride int, b, c *float32, ldc int, alpha, beta float32)

//go:noescape
func gemmTile12x32AVX512(kc int, a *float32, rowStride, kStride int, b, c *float32, ldc int, alpha, beta float32)
