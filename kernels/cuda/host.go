//go:build gpu || cudaemu

package cuda

import (
	"fmt"
	"reflect"
	"strings"
)

// HostOps are the operations that ERLGO_CUDA_HOST_OPS can send back to the host, each a group
// of the Device's methods: gemm (Gemm, GemmStridedBatched), add, scale, bias (AddBias,
// SumRows), gelu, adamw, sumsquares, layernorm, attention (forward, backward and step), rows
// (GatherRows, ScatterRows, CopyRows), embedding, logsoftmax; and objective and sample, which
// package model's CUDA backend sends back itself (see HostOp).
var HostOps = []string{"gemm", "add", "scale", "bias", "gelu", "adamw", "sumsquares", "layernorm", "attention",
	"rows", "embedding", "logsoftmax", "objective", "sample"}

func parseHostOps(list string) (map[string]bool, error) {
	ops := map[string]bool{}
	for op := range strings.SplitSeq(list, ",") {
		op = strings.TrimSpace(op)
		if op == "" {
			continue
		}
		if !contains(HostOps, op) {
			return nil, fmt.Errorf("ERLGO_CUDA_HOST_OPS: %q is not one of %s", op, strings.Join(HostOps, ","))
		}
		ops[op] = true
	}
	return ops, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// HostOp reports whether ERLGO_CUDA_HOST_OPS sends op back to the host.
func (d *Device) HostOp(op string) bool { return d.hostOps[op] }

// onHost runs fn, package kernels' function for op, on the host when ERLGO_CUDA_HOST_OPS names
// op, and reports whether it did. Each device slice among args is downloaded to a host copy
// (once per distinct slice, so that an output that aliases an input still does), fn runs on the
// copies, and every float copy is uploaded back: outputs, and inputs a kernel accumulates into.
func (d *Device) onHost(op string, fn any, args ...any) bool {
	if !d.hostOps[op] {
		return false
	}
	type key struct {
		p uintptr
		n int
	}
	floats := map[key][]float32{}
	type pair struct{ host, dev []float32 }
	var back []pair
	in := make([]reflect.Value, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case []float32:
			if v != nil {
				k := key{uintptr(addr(v)), len(v)}
				h, ok := floats[k]
				if !ok {
					h = make([]float32, len(v))
					d.Download(h, v)
					floats[k] = h
					back = append(back, pair{h, v})
				}
				a = h
			}
		case []int32:
			if v != nil {
				h := make([]int32, len(v))
				d.DownloadIndex(h, v)
				a = h
			}
		}
		in[i] = reflect.ValueOf(a)
	}
	reflect.ValueOf(fn).Call(in)
	for _, p := range back {
		d.Upload(p.dev, p.host)
	}
	return true
}
