package model

import (
	"math"
	"slices"

	"gorgonia.org/tensor"
)

// An arena is the memory of the buffers that a model's compiled programs own: their op outputs
// and the statistics a forward pass saves for the backward one. A model keeps up to
// maxPrograms programs, one per batch shape, but runs one at a time, and nothing reads a
// program's buffers after the model has used its results, before the next run (Gradients
// accumulates a run's gradients, the decoder copies a prefill's keys and values, Logits and
// LogProbs read theirs back). So every program lays its buffers out from offset 0 of one
// shared arena, which needs the size of the largest program rather than the sum of all.
//
// A program's layout is planned on the first run of its shape. Its buffers take consecutive
// offsets as its ops ask for them, while the arena records when each is written and last read,
// in the order the ops run (an op's reads and writes count as one moment, so that no op's
// output shares memory with its inputs). After the run, buffers whose lives do not overlap are
// given the same memory (the largest placed first, each at the lowest offset free for its whole
// life), and the program's results, which its caller reads after the run, live to the end; the
// arena grows to hold the plan, and every buffer moves to its planned place on its next use.
//
// Buffers that lie past the end of the arena during the planning run live in memory of their
// own, which the graph's nodes and the machine's registers would hold until the program's next
// run. Such a program is said to have spilled: the model drops it before it builds or runs
// another (see Model.program), keeping its layout, and a program built again for the shape
// puts its buffers straight where the plan says, as they come. Growth stops once the largest
// shape has run, so a training step allocates nothing after the first few.
type arena[T float] struct {
	be   *backend[T]
	data []T // in be's memory
	// retired is the data a growth replaced, given back to the backend when the next run
	// starts: the results of the run that grew it may lie there until their caller has read
	// them.
	retired []T
	// generation counts the replacements of data, so that a buffer knows when to move.
	generation int
	// runs counts the program runs; lay is the layout of the program running, nil between
	// runs, and fresh counts the buffers it has placed in this run.
	runs  int
	lay   *layout
	fresh int

	// The plan of a program's first run: the buffers it placed, by the address of their data,
	// and a clock that ticks whenever an event comes from another op than the last.
	planning bool
	placed   []*arenaBuffer[T]
	owners   map[*T]*arenaBuffer[T]
	clock    int
	lastOp   int64
}

// A layout is where the buffers of a program's shape lie in its arena.
type layout struct {
	// size is the number of elements the buffers take, 0 until the shape has run once.
	size int
	// planned is the place of each buffer, in the order the program first uses them.
	planned []placement
	// spilled is set when the planning run put buffers outside the arena; inputs holds the
	// input tensors of a program the model dropped for it, for the next program of the shape.
	spilled bool
	inputs  []*tensor.Dense
}

type placement struct{ offset, size int }

// planAlign is the alignment of a buffer in a plan, in elements: 256 bytes, a cache line on
// the host and the alignment a device's allocator gives.
const planAlign = 64

// alignUp rounds a count of elements up to planAlign.
func alignUp(n int) int { return (n + planAlign - 1) / planAlign * planAlign }

// run runs a program whose buffers lie as lay says; it plans lay on the shape's first run.
// results returns the tensors the model reads after the run.
func (a *arena[T]) run(lay *layout, instructions func() error, results func() []*tensor.Dense) error {
	if a.retired != nil && a.be.free != nil {
		a.be.free(a.retired)
	}
	a.retired = nil
	a.runs++
	a.lay, a.fresh = lay, 0
	a.planning = lay.size == 0
	if a.planning {
		a.placed, a.owners, a.clock, a.lastOp = nil, map[*T]*arenaBuffer[T]{}, 0, 0
	}
	err := instructions()
	if a.planning && err == nil {
		for _, t := range results() {
			if b := a.owner(t); b != nil {
				b.last = math.MaxInt
			}
		}
		for _, b := range a.placed {
			lay.spilled = lay.spilled || b.generation == -1
		}
		lay.size = plan(a.placed)
		lay.planned = make([]placement, len(a.placed))
		for i, b := range a.placed {
			lay.planned[i] = placement{b.offset, b.size()}
		}
	}
	a.planning, a.placed, a.owners, a.lay = false, nil, nil, nil
	if lay.size > len(a.data) {
		a.retired, a.data = a.data, a.be.alloc(lay.size)
		a.generation++
	}
	return err
}

// owner returns the buffer whose data t's is, or nil.
func (a *arena[T]) owner(t tensor.Tensor) *arenaBuffer[T] {
	d, ok := t.Data().([]T)
	if !ok || len(d) == 0 {
		return nil
	}
	return a.owners[&d[0]]
}

// moment returns the clock at an event of op: the same for every event of one op.
func (a *arena[T]) moment(op int64) int {
	if op != a.lastOp {
		a.clock++
		a.lastOp = op
	}
	return a.clock
}

// read records that op read t, when the running program is being planned.
func (a *arena[T]) read(op int64, t tensor.Tensor) {
	if a.planning {
		if b := a.owner(t); b != nil {
			b.last = a.moment(op)
		}
	}
}

// place returns the offset of the next buffer a program places, of size elements: where its
// layout plans it, or else (while planning, or should a program ever differ from its plan)
// past every other.
func (a *arena[T]) place(size int) int {
	k := a.fresh
	a.fresh++
	if !a.planning && k < len(a.lay.planned) && a.lay.planned[k].size == size {
		return a.lay.planned[k].offset
	}
	offset := a.lay.size
	if a.planning {
		offset = a.placedEnd()
	}
	a.lay.size = max(a.lay.size, offset+size)
	return offset
}

// placedEnd is where the buffers placed so far in a planning run end.
func (a *arena[T]) placedEnd() int {
	end := 0
	if n := len(a.placed); n > 0 {
		end = a.placed[n-1].offset + a.placed[n-1].size()
	}
	return end
}

// plan gives each buffer an offset at which no buffer whose life overlaps its own also lies,
// and returns the number of elements the plan takes. The buffers are placed largest first,
// each at the lowest offset that is free for its whole life.
func plan[T float](buffers []*arenaBuffer[T]) int {
	order := slices.Clone(buffers)
	slices.SortStableFunc(order, func(x, y *arenaBuffer[T]) int { return y.size() - x.size() })
	var done []*arenaBuffer[T]
	end := 0
	for _, b := range order {
		b.offset = 0
		for moved := true; moved; {
			moved = false
			for _, o := range done {
				if o.first <= b.last && b.first <= o.last && o.offset < b.offset+b.size() && b.offset < o.offset+o.size() {
					b.offset, moved = o.offset+o.size(), true
				}
			}
		}
		b.generation, b.t = movedGeneration, nil
		done = append(done, b)
		end = max(end, b.offset+b.size())
	}
	return end
}

// movedGeneration marks a buffer whose offset a plan changed: it moves on its next use.
const movedGeneration = -2

// arenaBuffer is a buffer of a program's op, in the arena.
type arenaBuffer[T float] struct {
	t      *tensor.Dense // nil once moved by a plan, until its next use
	shape  tensor.Shape  // nil until placed
	offset int
	// generation is that of the arena data t is in, or −1 for memory of its own, made in run
	// number ownRun: a buffer moves only between runs, as the values it holds within a run
	// (the statistics a backward op reads) must stay where they are.
	generation, ownRun int
	// first and last are the moments of its first and last use in the planning run.
	first, last int
}

// size is the buffer's extent in a layout.
func (b *arenaBuffer[T]) size() int { return alignUp(b.shape.TotalSize()) }

// get returns the buffer shaped as asked, and its data, for use by op. It must be called while
// a program runs.
func (b *arenaBuffer[T]) get(a *arena[T], op int64, shape ...int) (*tensor.Dense, []T) {
	inPlace := b.generation == a.generation || b.generation == -1 && b.ownRun == a.runs
	same := b.shape.Eq(tensor.Shape(shape))
	if b.t != nil && inPlace && same {
		if a.planning {
			b.last = a.moment(op)
		}
		return b.t, b.t.Data().([]T)
	}
	fresh := b.shape == nil || !same
	if fresh {
		b.shape = tensor.Shape(shape).Clone()
		b.offset = a.place(b.size())
	}
	n := b.shape.TotalSize()
	if b.offset+n <= len(a.data) {
		backing := a.data[b.offset : b.offset+n : b.offset+n]
		b.t, b.generation = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(backing), tensor.WithEngine(engine[T]{be: a.be, arena: a})), a.generation
	} else {
		// Memory of its own, which a device's backend takes back once the tensor is garbage.
		b.t, b.generation, b.ownRun = a.be.newTensor(shape...), -1, a.runs
	}
	backing := b.t.Data().([]T)
	if a.planning {
		if fresh {
			b.first = a.moment(op)
			a.placed = append(a.placed, b)
		}
		b.last = a.moment(op)
		a.owners[&backing[0]] = b
	}
	return b.t, backing
}
