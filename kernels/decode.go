package kernels

import "math"

// AttentionStep is causal attention for one new query per sequence, over a KV cache: the
// sampler's counterpart of AttentionForward. qkv is (B, 3C) and holds each sequence's new q|k|v
// (only q is read); kc and vc are (B, capacity, C) caches whose first lens[b] rows, the new
// token's own key and value included, are attended. out is (B, C).
func AttentionStep(out, qkv, kc, vc []float32, lens []int32, B, capacity, C, NH int) {
	hd := C / NH
	scale := 1 / math.Sqrt(float64(hd))
	parallelFor(B*NH, capacity*hd, func(lo, hi int) {
		scores := make([]float64, capacity)
		for bh := lo; bh < hi; bh++ {
			b, h := bh/NH, bh%NH
			n := int(lens[b])
			o := out[b*C+h*hd : b*C+(h+1)*hd]
			if n == 0 {
				clear(o)
				continue
			}
			q := qkv[b*3*C+h*hd : b*3*C+(h+1)*hd]
			mx := math.Inf(-1)
			for j := range n {
				k := kc[(b*capacity+j)*C+h*hd:][:hd]
				var s float64
				for d, qd := range q {
					s += float64(qd) * float64(k[d])
				}
				scores[j] = s * scale
				mx = math.Max(mx, scores[j])
			}
			var sum float64
			for j := range n {
				scores[j] = math.Exp(scores[j] - mx)
				sum += scores[j]
			}
			acc := make([]float64, hd)
			for j := range n {
				p := scores[j] / sum
				v := vc[(b*capacity+j)*C+h*hd:][:hd]
				for d := range acc {
					acc[d] += p * float64(v[d])
				}
			}
			for d := range o {
				o[d] = float32(acc[d])
			}
		}
	})
}
