package kernels

import "github.com/erlgo/erlgo/kernels/internal/shape"

// EmbeddingForward: out[i,:] = wte[tokens[i],:] + wpe[pos[i],:] for i < len(tokens); C columns.
//
// pos must hold len(tokens) positions. Rows are processed concurrently.
func EmbeddingForward(out, wte, wpe []float32, tokens, pos []int32, C int) {
	shape.EmbeddingForward(out, tokens, pos, C)
	mustEmbeddingIndices("EmbeddingForward", wte, wpe, tokens, pos, C)
	N := len(tokens)
	parallelFor(N, C, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			o := out[i*C : (i+1)*C]
			t, p := int(tokens[i]), int(pos[i])
			e := wte[t*C : (t+1)*C]
			for j, v := range wpe[p*C : (p+1)*C] {
				o[j] = e[j] + v
			}
		}
	})
}

// EmbeddingBackward accumulates (+=) dout rows into dwte rows tokens[i] and dwpe rows pos[i] (scatter-add).
//
// It runs on the caller's goroutine: rows that repeat a token or position add into the same
// row, and the pass is short beside the matrix products around it.
func EmbeddingBackward(dwte, dwpe, dout []float32, tokens, pos []int32, C int) {
	shape.EmbeddingBackward(dout, tokens, pos, C)
	mustEmbeddingIndices("EmbeddingBackward", dwte, dwpe, tokens, pos, C)
	for i := range tokens {
		g := dout[i*C : (i+1)*C]
		addTo(dwte[int(tokens[i])*C:], g)
		addTo(dwpe[int(pos[i])*C:], g)
	}
}

// GatherRows copies rows idx[r] of x (C columns) into row r of out; ScatterRows is its gradient: it zeroes dx (rows×C) and adds row r of dout into row idx[r].
//
// x holds len(x)/C rows, and out receives len(idx) rows, concurrently.
func GatherRows(out, x []float32, idx []int32, C int) {
	shape.GatherRows(out, idx, C)
	mustIndices("GatherRows", "idx", idx, len(x)/C)
	parallelFor(len(idx), C, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			i := int(idx[r])
			copy(out[r*C:(r+1)*C], x[i*C:(i+1)*C])
		}
	})
}

// ScatterRows zeroes the first rows×C elements of dx and adds row r of dout into row idx[r],
// for r < len(idx): the gradient of GatherRows. It runs on the caller's goroutine, because
// repeated indices add into the same row.
func ScatterRows(dx, dout []float32, idx []int32, rows, C int) {
	shape.ScatterRows(dx, dout, idx, rows, C)
	mustIndices("ScatterRows", "idx", idx, rows)
	clear(dx[:rows*C])
	for r, i := range idx {
		addTo(dx[int(i)*C:], dout[r*C:(r+1)*C])
	}
}

// addTo adds x into the first len(x) elements of dst.
func addTo(dst, x []float32) {
	dst = dst[:len(x)]
	v := vectorPart(len(x))
	vecAxpy(dst, x[:v], 1)
	for j := v; j < len(x); j++ {
		dst[j] += x[j]
	}
}

// mustEmbeddingIndices panics unless every token and position names a row of its table.
func mustEmbeddingIndices(kernel string, wte, wpe []float32, tokens, pos []int32, C int) {
	mustIndices(kernel, "tokens", tokens, len(wte)/C)
	mustIndices(kernel, "pos", pos[:len(tokens)], len(wpe)/C)
}
