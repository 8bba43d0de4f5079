package main

import (
	"encoding/json"
	"io"
)

// A listing is a workload as -list prints it: everything another program needs to run the
// same call at the same shape and count its work as this one does (bench/torch/peer.py reads
// it, so that PyTorch's figures are of exactly these workloads).
type listing struct {
	Size   string  `json:"size"`
	Name   string  `json:"name"`
	Kernel string  `json:"kernel"`
	Shape  string  `json:"shape"`
	FLOPs  float64 `json:"flops,omitempty"`
	Bytes  float64 `json:"bytes,omitempty"`
	// The model's dimensions at this size.
	B      int `json:"B"`
	T      int `json:"T"`
	C      int `json:"C"`
	NH     int `json:"NH"`
	Layers int `json:"layers"`
	V      int `json:"V"`
	// Gemm: op(A) is m×k and op(B) k×n, with A stored k×m when TransA and B n×k when TransB.
	TransA bool `json:"trans_a,omitempty"`
	TransB bool `json:"trans_b,omitempty"`
	M      int  `json:"m,omitempty"`
	N      int  `json:"n,omitempty"`
	K      int  `json:"k,omitempty"`
	// Row-wise kernels: rows × cols operands, or cols elements when rows is 1.
	Rows int `json:"rows,omitempty"`
	Cols int `json:"cols,omitempty"`
}

// writeList writes every workload of every size as one JSON array.
func writeList(out io.Writer) error {
	var ls []listing
	for _, s := range sizes {
		for _, w := range workloads(s) {
			ls = append(ls, listing{Size: w.Size, Name: w.Name, Kernel: w.Kernel, Shape: w.Shape, FLOPs: w.FLOPs, Bytes: w.Bytes,
				B: s.B, T: s.T, C: s.C, NH: s.NH, Layers: s.Layers, V: s.V,
				TransA: w.TransA, TransB: w.TransB, M: w.M, N: w.N, K: w.K, Rows: w.rows, Cols: w.cols})
		}
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(ls)
}
