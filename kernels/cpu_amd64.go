package kernels

import "golang.org/x/sys/cpu"

// The AVX2 path needs FMA beside AVX2 (every CPU with AVX2 since 2013 has it); the AVX-512
// path needs AVX-512F, and x/sys/cpu reports it only where the operating system saves the
// zmm registers.
var (
	avx2Path = &cpuPath{
		name:      "avx2",
		gemmTiles: []gemmTile{{6, 16, tile6x16AVX2}},
		width:     8, geluForward: geluForwardAVX2, geluBackward: geluBackwardAVX2, expShift: expShiftAVX2,
	}
	avx512Path = &cpuPath{
		name:      "avx512",
		gemmTiles: []gemmTile{{12, 32, tile12x32AVX512}, {6, 16, tile6x16AVX2}},
		width:     16, geluForward: geluForwardAVX512, geluBackward: geluBackwardAVX512, expShift: expShiftAVX512,
	}
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

// vecConsts holds the constants of vec_amd64.s, each in the 8 lanes of a ymm vector, in the
// order of its C_ offsets.
var vecConsts = eightLanes(log2e, roundMagic, ln2Hi, ln2Lo, expP5, expP4, expP3, expP2, expP1, expP0, 1, minArg,
	-2*geluScale, -2*geluScale*geluCubic, geluExpCap, 2*geluScale, 2*geluScale*3*geluCubic, expFloor)

// expFloor is where the AVX-512 exponential clamps its argument: e^x rounds to 0 in float32
// below −103.97 (half the smallest subnormal), so nothing is lost, and the reduction by ln 2
// stays exact for any input.
const expFloor = -104

func eightLanes(values ...float32) (lanes [18 * 8]float32) {
	for i, v := range values {
		for l := range 8 {
			lanes[8*i+l] = v
		}
	}
	return lanes
}

// The vector loops of vec_amd64.s; see cpuPath.

//go:noescape
func geluForwardAVX2(out, x *float32, n int)

//go:noescape
func geluBackwardAVX2(dx, x, dout *float32, n int)

//go:noescape
func expShiftAVX2(dst, src *float32, n int, shift float32) float64

//go:noescape
func geluForwardAVX512(out, x *float32, n int)

//go:noescape
func geluBackwardAVX512(dx, x, dout *float32, n int)

//go:noescape
func expShiftAVX512(dst, src *float32, n int, shift float32) float64
