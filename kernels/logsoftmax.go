package kernels

import (
	"fmt"
	"math"

	"github.com/erlgo/erlgo/kernels/internal/shape"
)

// LogSoftmaxGatherForward: for each of the N rows of logits (V columns) with targets[i] >= 0, logp[i] = logits[i,targets[i]] - logsumexp(logits[i,:]) and lse[i] = that logsumexp; rows with targets[i] < 0 get logp 0 (masked).
//
// lse is optional, and when given it is written for every row, masked or not, so that other
// terms of the loss (the entropy, say) can use it. Rows are processed concurrently.
func LogSoftmaxGatherForward(logp, lse, logits []float32, targets []int32, N, V int) {
	shape.LogSoftmaxGatherForward(logp, lse, logits, targets, N, V)
	mustTargets("LogSoftmaxGatherForward", targets, N, V)
	parallelFor(N, V, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := logits[i*V : (i+1)*V]
			l := logSumExp(row)
			if lse != nil {
				lse[i] = float32(l)
			}
			if t := targets[i]; t >= 0 {
				logp[i] = float32(float64(row[t]) - l)
			} else {
				logp[i] = 0
			}
		}
	})
}

// LogSoftmaxGatherBackward: dlogits[i,j] = dlogp[i]*(onehot(targets[i])_j - softmax(logits[i])_j); masked rows get zeros.
//
// lse is the one LogSoftmaxGatherForward wrote. Rows are processed concurrently.
func LogSoftmaxGatherBackward(dlogits, dlogp, logits, lse []float32, targets []int32, N, V int) {
	shape.LogSoftmaxGatherBackward(dlogits, dlogp, logits, lse, targets, N, V)
	mustTargets("LogSoftmaxGatherBackward", targets, N, V)
	vv := vectorPart(V)
	parallelFor(N, V, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			d := dlogits[i*V : (i+1)*V]
			t := targets[i]
			if t < 0 {
				clear(d)
				continue
			}
			g, l := dlogp[i], lse[i]
			row := logits[i*V : (i+1)*V]
			vecExpShift(d, row[:vv], l)
			for j := range vv {
				d[j] *= -g
			}
			for j := vv; j < V; j++ {
				d[j] = -g * exp32(row[j]-l)
			}
			d[t] += g
		}
	})
}

// logSumExp returns log Σ e^row[j] for a non-empty row, shifted by the row's maximum so
// that no term overflows.
func logSumExp(row []float32) float64 {
	mx := maxOf(row)
	v := vectorPart(len(row))
	var sum float64
	// The vector loop writes its exponentials; a chunk of them at a time goes to the stack.
	var exps [logSumExpChunk]float32
	for c := 0; c < v; c += logSumExpChunk {
		chunk := row[c:min(c+logSumExpChunk, v)]
		sum += vecExpShift(exps[:], chunk, mx)
	}
	for _, x := range row[v:] {
		sum += float64(exp32(x - mx))
	}
	return float64(mx) + math.Log(sum)
}

// logSumExpChunk is how many exponentials logSumExp's vector loop writes at a time: a multiple
// of every vector width.
const logSumExpChunk = 256

// mustTargets panics unless every target is below V (a negative one masks its row).
func mustTargets(kernel string, targets []int32, N, V int) {
	for i, t := range targets[:N] {
		if int(t) >= V {
			panic(fmt.Sprintf("kernels: %s: targets[%d] = %d, not below V = %d (a negative target masks the row)", kernel, i, t, V))
		}
	}
}
