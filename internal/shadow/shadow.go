// Package shadow is memory that the host cannot read, for tests of code that must reach a
// device's memory only through the device: a stand-in for a GPU on machines without one.
//
// Each allocation hands out a poisoned slice as its address (NaN with a payload no arithmetic
// produces, or an index far out of range) and keeps the values in a shadow slice. Code that
// plays the device translates an address to its values with Floats or Indices; code that reads
// an address directly reads poison, and what it writes there is reported at the next
// translation.
package shadow

import (
	"fmt"
	"math"
	"unsafe"
)

// Poison is what an address holds: a float NaN with a recognisable payload, and an index no
// table has.
const (
	PoisonBits  = 0x7fc0dead
	PoisonIndex = -0x5eed
)

// Memory is one device's memory. Its zero value is empty and ready; it is not safe for
// concurrent use.
type Memory struct {
	// Report receives each misuse found: a slice that is not this memory's, or an address the
	// host wrote to. Nil panics with the message.
	Report func(msg string)
	// Allocs counts the allocations so far.
	Allocs int

	floats []allocation[float32]
	ints   []allocation[int32]
}

type allocation[E float32 | int32] struct{ addr, values []E }

// Alloc returns the address of n zeroed floats.
func (m *Memory) Alloc(n int) []float32 {
	return allocate(m, &m.floats, n, math.Float32frombits(PoisonBits))
}

// AllocIndex returns the address of n zeroed indices.
func (m *Memory) AllocIndex(n int) []int32 { return allocate(m, &m.ints, n, PoisonIndex) }

// Floats returns the values behind s, a slice of an address that Alloc returned.
func (m *Memory) Floats(s []float32) []float32 {
	return values(m, m.floats, s, func(x float32) bool { return math.Float32bits(x) == PoisonBits })
}

// Indices returns the values behind s, a slice of an address that AllocIndex returned.
func (m *Memory) Indices(s []int32) []int32 {
	return values(m, m.ints, s, func(x int32) bool { return x == PoisonIndex })
}

func allocate[E float32 | int32](m *Memory, allocs *[]allocation[E], n int, poison E) []E {
	m.Allocs++
	a := allocation[E]{addr: make([]E, n), values: make([]E, n)}
	for i := range a.addr {
		a.addr[i] = poison
	}
	*allocs = append(*allocs, a)
	return a.addr
}

func values[E float32 | int32](m *Memory, allocs []allocation[E], s []E, poisoned func(E) bool) []E {
	if s == nil {
		return nil
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	for _, a := range allocs {
		base := uintptr(unsafe.Pointer(unsafe.SliceData(a.addr)))
		off := int(p-base) / int(unsafe.Sizeof(s[0]))
		if p < base || off+len(s) > len(a.addr) {
			continue
		}
		for i := off; i < off+len(s); i++ {
			if !poisoned(a.addr[i]) {
				m.report(fmt.Sprintf("shadow: element %d of an allocation of %d was written from the host", i, len(a.addr)))
				break
			}
		}
		return a.values[off : off+len(s)]
	}
	m.report(fmt.Sprintf("shadow: a slice of %d that is not this memory's", len(s)))
	return s
}

func (m *Memory) report(msg string) {
	if m.Report == nil {
		panic(msg)
	}
	m.Report(msg)
}
