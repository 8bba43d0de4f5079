//go:build gpu || cudaemu

package main

import "github.com/erlgo/erlgo/kernels/cuda"

func init() {
	deviceFailure = func(r any) error {
		if err, ok := r.(*cuda.Error); ok {
			return err
		}
		return nil
	}
}
