package model

import (
	"fmt"
	"slices"

	"gorgonia.org/tensor"
)

// devices maps the name of each device a float32 model can live on to its backend: "cpu"
// always, and "cuda" in a build with the tag gpu (backend_cuda.go).
var devices = map[string]func() (*backend[float32], error){
	"cpu": func() (*backend[float32], error) { return cpuKernels, nil },
}

// Devices lists the devices of this build, "cpu" first.
func Devices() []string {
	names := make([]string, 0, len(devices))
	for name := range devices {
		if name != "cpu" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return append([]string{"cpu"}, names...)
}

// CheckDevice reports a device this build cannot run models on, saying how to build one that
// can; it opens nothing.
func CheckDevice(device string) error {
	if _, ok := devices[device]; ok {
		return nil
	}
	if device == "cuda" {
		return fmt.Errorf("device cuda: this erlgo was built without GPU support; build it with `go build -tags gpu ./cmd/erlgo` on a machine with CUDA 13 and NVIDIA's driver (see README), or use --device cpu")
	}
	return fmt.Errorf("device %q is not cpu or cuda", device)
}

func backendOn(device string) (*backend[float32], error) {
	if err := CheckDevice(device); err != nil {
		return nil, err
	}
	return devices[device]()
}

// NewOn is New for a float32 model whose parameters live on, and whose programs run on, the
// named device.
func NewOn(device string, cfg Config, seed uint64) (*Model, error) {
	be, err := backendOn(device)
	if err != nil {
		return nil, err
	}
	return newOn(engine[float32]{be: be}, cfg, seed)
}

// To returns m on the named device: m itself when it is there, else a copy of its weights
// there. Only float32 models move.
func (m *Model) To(device string) (*Model, error) {
	be, err := backendOn(device)
	if err != nil {
		return nil, err
	}
	if e, ok := m.mem.(engine[float32]); ok && e.be == be {
		return m, nil
	}
	if m.DType != tensor.Float32 {
		return nil, fmt.Errorf("model: a %v model cannot move to %s", m.DType, device)
	}
	dup, err := newOn(engine[float32]{be: be}, m.Config, 1)
	if err != nil {
		return nil, err
	}
	dup.MicroBatch = m.MicroBatch
	return dup, dup.CopyWeightsFrom(m)
}

// To moves the checkpoint's model, and its optimizer's moments, to the named device.
func (ck *Checkpoint) To(device string) error {
	m, err := ck.Model.To(device)
	if err != nil || m == ck.Model {
		return err
	}
	if ck.Optim != nil {
		opt, err := NewAdamW(ck.Optim.Config, m.Params)
		if err != nil {
			return err
		}
		opt.Step = ck.Optim.Step
		for i := range opt.M {
			setFloats(opt.M[i], floatsOf(ck.Optim.M[i]))
			setFloats(opt.V[i], floatsOf(ck.Optim.V[i]))
		}
		ck.Optim = opt
	}
	ck.Model = m
	return nil
}
