package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// minParallelWork is the least work, in element operations, worth a goroutine of its own.
// Starting and joining goroutines costs a few microseconds, about what one core needs to
// stream this many float32 values.
const minParallelWork = 1 << 15

// chunksPerWorker is how many ranges each worker takes on average. Handing out several
// ranges per worker, first come first served, keeps workers busy when ranges cost unequal
// amounts, as attention heads over sequences of different lengths do.
const chunksPerWorker = 4

// workersFor is the number of goroutines parallelFor would share n indices of cost among.
func workersFor(n, cost int) int { return min(runtime.GOMAXPROCS(0), n, n*cost/minParallelWork) }

// parallelFor calls body on disjoint ranges [lo, hi) that together cover [0, n). cost is the
// work per index in element operations. The ranges are shared by as many goroutines, the
// caller's included, as runtime.GOMAXPROCS(0) allows and as have minParallelWork each to do;
// when that is one, body runs once over [0, n) on the calling goroutine.
func parallelFor(n, cost int, body func(lo, hi int)) {
	workers := workersFor(n, cost)
	if workers <= 1 {
		if n > 0 {
			body(0, n)
		}
		return
	}
	chunks := min(n, chunksPerWorker*workers)
	var next atomic.Int64
	work := func() {
		for {
			c := int(next.Add(1) - 1)
			if c >= chunks {
				return
			}
			body(c*n/chunks, (c+1)*n/chunks)
		}
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}

// lineFloats is the number of float32 values in a 64-byte cache line.
const lineFloats = 16

// colBlock is the most columns forColumnBlocks hands body at once. Column reductions keep
// one float64 accumulator per column on the stack: a block must fit in L1 beside the rows
// streaming past (4 KiB per accumulator here), and be wide enough to read each row in long
// runs, since rows further apart than a page defeat the hardware prefetcher: at 4096×1536,
// SumRows took 8.8 ms with blocks of 128 columns and 3.0 ms with 512.
const colBlock = 512

// forColumnBlocks calls body on disjoint column ranges [c0, c1) of at most colBlock columns
// that together cover [0, C), concurrently when there is enough work; colCost is the work
// per column, in element operations. Ranges other than the last start and end on multiples
// of lineFloats, so no two workers write into the same cache line of a row.
//
// Each goroutine takes one range of at least minRangeLines cache lines, not several narrow
// ones: a body runs a vector loop over each row of its range, and at the model's widths
// (64 to 256 columns) ranges of one or two lines spent more on those calls than on the sums.
func forColumnBlocks(C, colCost int, body func(c0, c1 int)) {
	lines := (C + lineFloats - 1) / lineFloats
	ranges := max(1, min(workersFor(lines, lineFloats*colCost), lines/minRangeLines))
	parallelFor(ranges, lines*lineFloats*colCost/ranges, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			start, end := lines*r/ranges*lineFloats, min(lines*(r+1)/ranges*lineFloats, C)
			for c0 := start; c0 < end; c0 += colBlock {
				body(c0, min(c0+colBlock, end))
			}
		}
	})
}

// minRangeLines is the narrowest column range forColumnBlocks gives a goroutine, in cache lines.
const minRangeLines = 4
