package model

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/erlgo/erlgo/kernels"
)

// TestProgramsRunOnTheBackend holds the property a device backend depends on: every
// instruction of a program, the gradient sums Gorgonia inserts included, runs on the ops'
// backend. The programs may contain the model's own ops, the constant that seeds the backward
// pass, and Gorgonia's + for the gradient sums, which the engine must send to the backend.
func TestProgramsRunOnTheBackend(t *testing.T) {
	cfg := Config{Vocab: 20, ContextLen: 16, DModel: 8, Heads: 2, Layers: 2}
	m := newTestModel(t, cfg, tensor.Float32, 1)
	for _, kind := range []programKind{logitsOnly, logProbs, training} {
		t.Run(fmt.Sprintf("kind %d", kind), func(t *testing.T) {
			be := *cpuKernels
			adds := 0
			be.add = func(out, a, b []float32) { adds++; kernels.Add(out, a, b) }
			key := programKey{batch: 2, seq: 8, scored: 16, kind: kind}
			p, err := buildProgram(m, &be, key, DefaultObjective())
			if err != nil {
				t.Fatal(err)
			}
			wantAdds := 0
			for _, n := range p.logits.Graph().AllNodes() {
				op := n.Op()
				switch name := fmt.Sprintf("%T %v", op, op); {
				case op == nil, strings.HasPrefix(name, "*model."):
					if _, ok := op.(*addOp[float32]); ok {
						wantAdds++
					}
				case name == "gorgonia.elemBinOp + false":
					wantAdds++
				case name == "gorgonia.constantScalar const 1" && kind == training:
				default:
					t.Errorf("the program holds %s, which would not run on the backend", name)
				}
			}
			p.load(randomBatch(cfg, []int{5, 8}, rand.New(rand.NewPCG(1, 2))))
			if err := p.run(); err != nil {
				t.Fatal(err)
			}
			// Residual connections, the embedding sum, the logit mask and, in training, the
			// gradient sums of the residual stream and of the tied embedding.
			if adds != wantAdds {
				t.Errorf("the backend ran %d additions, the program has %d", adds, wantAdds)
			}
		})
	}
}

// TestEngineRefusesOtherArithmetic: the engine must not pass for a standard engine, whose
// arithmetic would run on the host behind the backend's back.
func TestEngineRefusesOtherArithmetic(t *testing.T) {
	e := engine[float32]{be: cpuKernels}
	a := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float32{1, 2, 3}), tensor.WithEngine(e))
	b := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float32{10, 20, 30}), tensor.WithEngine(e))
	if _, err := tensor.Sub(a, b); err == nil {
		t.Error("tensor.Sub on the engine's tensors succeeded; want an error")
	}
	sum, err := tensor.Add(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if got := sum.Data().([]float32); got[0] != 11 || got[1] != 22 || got[2] != 33 {
		t.Errorf("Add = %v, want [11 22 33]", got)
	}
	if got := a.Data().([]float32); got[0] != 1 {
		t.Errorf("a safe Add changed its operand: %v", got)
	}
	if _, err := tensor.Add(a, b, tensor.UseUnsafe()); err != nil {
		t.Fatal(err)
	}
	if got := a.Data().([]float32); got[2] != 33 {
		t.Errorf("an unsafe Add left its operand at %v, want [11 22 33]", got)
	}
}
