package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/erlgo/erlgo/kernels/ref"
)

// logSoftmaxInputs returns logits and targets of which about a quarter are masked.
func logSoftmaxInputs(rng *rand.Rand, N, V int) (logits []float32, targets []int32) {
	logits = randn(rng, N*V, 3)
	targets = randIndices(rng, N, V)
	for i := range targets {
		if rng.IntN(4) == 0 {
			targets[i] = -1
		}
	}
	return logits, targets
}

func TestLogSoftmaxGather(t *testing.T) { forEachSet(t, testLogSoftmaxGather) }

func testLogSoftmaxGather(t *testing.T, k kernelSet) {
	rng := newRand(t)
	for _, s := range [][2]int{{1, 1}, {5, 13}, {300, 211}, {7, 600}} { // 600: logSumExp takes its vector part in several chunks
		N, V := s[0], s[1]
		name := fmt.Sprintf("N=%d,V=%d", N, V)
		logits, targets := logSoftmaxInputs(rng, N, V)
		dlogp := randn(rng, N, 1)
		logp, lse := poisoned(N), poisoned(N)
		k.LogSoftmaxGatherForward(logp, lse, logits, targets, N, V)
		wantLogp, wantLse := make([]float64, N), make([]float64, N)
		ref.LogSoftmaxGatherForward(wantLogp, wantLse, to64(logits), targets, N, V)
		checkClose(t, name+"/logp", logp, wantLogp, 1e-5)
		checkClose(t, name+"/lse", lse, wantLse, 1e-5)

		withoutLse := poisoned(N)
		k.LogSoftmaxGatherForward(withoutLse, nil, logits, targets, N, V)
		checkClose(t, name+"/logp without lse", withoutLse, wantLogp, 1e-5)

		dlogits := poisoned(N * V)
		k.LogSoftmaxGatherBackward(dlogits, dlogp, logits, lse, targets, N, V)
		want := make([]float64, N*V)
		ref.LogSoftmaxGatherBackward(want, to64(dlogp), to64(logits), targets, N, V)
		checkClose(t, name+"/dlogits", dlogits, want, 1e-5)
	}
}

func TestLogSoftmaxGatherGrad(t *testing.T) { forEachSet(t, testLogSoftmaxGatherGrad) }

func testLogSoftmaxGatherGrad(t *testing.T, k kernelSet) {
	rng := newRand(t)
	const N, V = 9, 17
	logits, targets := logSoftmaxInputs(rng, N, V)
	dlogp := randn(rng, N, 1)
	logp, lse := make([]float32, N), make([]float32, N)
	k.LogSoftmaxGatherForward(logp, lse, logits, targets, N, V)
	dlogits := make([]float32, N*V)
	k.LogSoftmaxGatherBackward(dlogits, dlogp, logits, lse, targets, N, V)
	x := to64(logits)
	f := func() []float64 {
		y := make([]float64, N)
		ref.LogSoftmaxGatherForward(y, make([]float64, N), x, targets, N, V)
		return y
	}
	checkGrad(t, "dlogits", dlogits, x, f, to64(dlogp), 1e-4)
}

func TestLogSoftmaxGatherPanics(t *testing.T) {
	logits := make([]float32, 6)
	mustPanic(t, "targets[1] = 3, not below V = 3", func() {
		LogSoftmaxGatherForward(make([]float32, 2), nil, logits, []int32{0, 3}, 2, 3)
	})
}
