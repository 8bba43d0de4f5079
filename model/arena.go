package model

import (
	"gorgonia.org/tensor"
)

// An arena is the memory of the buffers that a model's compiled programs own: their op outputs
// and the statistics a forward pass saves for the backward one. A model keeps up to
// maxPrograms programs, one per batch shape, but runs one at a time, and nothing reads a
// program's buffers after the model has used its results, before the next run (Gradients
// accumulates a run's gradients, the decoder copies a prefill's keys and values, Logits and
// LogProbs read theirs back). So every program lays its buffers out from offset 0 of one
// shared arena, which needs the size of the largest program rather than the sum of all:
// at the small model's training shapes, hundreds of megabytes instead of gigabytes.
//
// A program's layout is made during its first run, as its ops ask for buffers: each takes the
// next offset of the program's own count. Buffers that lie past the end of the arena live in
// memory of their own for that run; after it the arena is replaced by one large enough for
// the program, and every buffer moves into it on its next use. Growth stops once the largest
// shape has run, so a training step allocates nothing after the first few.
type arena[T float] struct {
	be   *backend[T]
	data []T // in be's memory
	// generation counts the replacements of data, so that a buffer knows when to move.
	generation int
	// runs counts the program runs; used points to the count of elements that the program
	// running has laid out, nil between runs; need is the largest count seen in this run.
	runs int
	used *int
	need int
}

// run runs a program's instructions with its buffers in the arena; used is the program's
// count of the elements it has laid out.
func (a *arena[T]) run(used *int, instructions func() error) error {
	a.runs++
	a.used, a.need = used, *used
	err := instructions()
	a.used = nil
	if a.need > len(a.data) {
		a.data = a.be.alloc(a.need)
		a.generation++
	}
	return err
}

// arenaBuffer is a buffer of a program's op, in the arena.
type arenaBuffer[T float] struct {
	t      *tensor.Dense
	offset int
	// generation is that of the arena data t is in, or −1 for memory of its own, made in run
	// number ownRun: a buffer moves only between runs, as the values it holds within a run
	// (the statistics a backward op reads) must stay where they are.
	generation, ownRun int
}

// get returns the buffer shaped as asked, and its data. It must be called while a program runs.
func (b *arenaBuffer[T]) get(a *arena[T], shape ...int) (*tensor.Dense, []T) {
	placed := b.generation == a.generation || b.generation == -1 && b.ownRun == a.runs
	if b.t != nil && placed && b.t.Shape().Eq(tensor.Shape(shape)) {
		return b.t, b.t.Data().([]T)
	}
	n := tensor.Shape(shape).TotalSize()
	if b.t == nil || !b.t.Shape().Eq(tensor.Shape(shape)) {
		b.offset = *a.used
		*a.used += n
		a.need = max(a.need, *a.used)
	}
	var backing []T
	if b.offset+n <= len(a.data) {
		backing, b.generation = a.data[b.offset:b.offset+n:b.offset+n], a.generation
	} else {
		backing, b.generation, b.ownRun = a.be.alloc(n), -1, a.runs
	}
	b.t = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(backing), tensor.WithEngine(engine[T]{a.be}))
	return b.t, backing
}
