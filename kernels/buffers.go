package kernels

import "sync"

// A bufPool recycles the float32 buffers of one use, so that steady-state calls allocate
// none. Each use has its own pool, because a pool that mixed sizes would keep handing small
// buffers to callers that need large ones.
type bufPool struct{ p sync.Pool }

// get returns a buffer of n floats, with unspecified contents.
func (p *bufPool) get(n int) *[]float32 {
	if b, ok := p.p.Get().(*[]float32); ok && cap(*b) >= n {
		*b = (*b)[:n]
		return b
	}
	b := make([]float32, n)
	return &b
}

// put returns a buffer from get to the pool.
func (p *bufPool) put(b *[]float32) { p.p.Put(b) }

// transposeTile is the side of the square tiles transpose works in, so that the lines it
// reads and writes stay in L1 while a tile is done.
const transposeTile = 16

// transpose sets dst[c*ldDst+r] = src[r*ldSrc+c] for the rows×cols matrix in src.
func transpose(dst []float32, ldDst int, src []float32, ldSrc, rows, cols int) {
	for r0 := 0; r0 < rows; r0 += transposeTile {
		r1 := min(r0+transposeTile, rows)
		for c0 := 0; c0 < cols; c0 += transposeTile {
			for c := c0; c < min(c0+transposeTile, cols); c++ {
				d := dst[c*ldDst+r0 : c*ldDst+r1]
				for i := range d {
					d[i] = src[(r0+i)*ldSrc+c]
				}
			}
		}
	}
}
