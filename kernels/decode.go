package kernels

import (
	"math"

	"github.com/erlgo/erlgo/kernels/internal/shape"
)

// AttentionStep is causal attention for one new query per sequence, over a KV cache: the
// sampler's counterpart of AttentionForward. qkv is (B, 3C) and holds each sequence's new q|k|v
// (only q is read); kc and vc are (B, capacity, C) caches whose first lens[b] rows, the new
// token's own key and value included, are attended. out is (B, C). The (b, head) pairs run
// concurrently; each worker reuses one buffer of scores.
func AttentionStep(out, qkv, kc, vc []float32, lens []int32, B, capacity, C, NH int) {
	hd := shape.AttentionStep(out, qkv, kc, vc, lens, B, capacity, C, NH)
	mustIndices("AttentionStep", "lens", lens[:B], capacity+1)
	// A head a whole number of vectors long runs on the vector loops, every key at once.
	whole := vectorPart(hd) == hd && hd > 0
	scale := float32(1 / math.Sqrt(float64(hd)))
	parallelFor(B*NH, capacity*hd, func(lo, hi int) {
		scores := make([]float32, capacity)
		for bh := lo; bh < hi; bh++ {
			b, h := bh/NH, bh%NH
			n := int(lens[b])
			o := out[b*C+h*hd : b*C+(h+1)*hd]
			clear(o)
			if n == 0 {
				continue
			}
			q := qkv[b*3*C+h*hd : b*3*C+(h+1)*hd]
			s := scores[:n]
			keys, values := kc[b*capacity*C+h*hd:], vc[b*capacity*C+h*hd:]
			if whole {
				vecRowDots(s, q, keys, C, scale)
			} else {
				for j := range s {
					k := keys[j*C:][:hd]
					var dot float32
					for d, qd := range q {
						dot += qd * k[d]
					}
					s[j] = dot * scale
				}
			}
			softmaxRow(s, n)
			if whole {
				vecWeightedRows(o, s, values, C)
			} else {
				for j, p := range s {
					addScaled(o, values[j*C:][:hd], p)
				}
			}
		}
	})
}

// addScaled adds a·x into dst.
func addScaled(dst, x []float32, a float32) {
	x = x[:len(dst)]
	v := vectorPart(len(x))
	vecAxpy(dst, x[:v], a)
	for i := v; i < len(x); i++ {
		dst[i] += a * x[i]
	}
}

// CopyRows copies C columns from row srcRows[i] of src to row dstRows[i] of dst, for every i,
// where row r of src starts at element r·srcStride and row r of dst at r·dstStride. The sampler
// writes its KV caches with it, from rows of packed q|k|v (src offset by C for the keys, 2C for
// the values, stride 3C), and gathers the logits of its prompts. The rows are copied
// concurrently; dstRows must not repeat an index.
func CopyRows(dst []float32, dstStride int, src []float32, srcStride int, dstRows, srcRows []int32, C int) {
	const kernel = "CopyRows"
	shape.CopyRows(dstStride, srcStride, dstRows, srcRows, C)
	mustIndices(kernel, "srcRows", srcRows, (len(src)-C)/srcStride+1)
	mustIndices(kernel, "dstRows", dstRows[:len(srcRows)], (len(dst)-C)/dstStride+1)
	parallelFor(len(srcRows), C, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			from, to := int(srcRows[i])*srcStride, int(dstRows[i])*dstStride
			copy(dst[to:to+C], src[from:from+C])
		}
	})
}
