//go:build !gpu && !cudaemu

package main

import (
	"strings"
	"testing"
)

// TestDeviceCUDAWithoutGPUSupport: a build without GPU support refuses --device cuda with an
// error that says how to build one with it.
func TestDeviceCUDAWithoutGPUSupport(t *testing.T) {
	for _, args := range [][]string{
		{"train", "--device", "cuda", "--out", t.TempDir()},
		{"eval", "--device", "cuda", "--random"},
	} {
		code, _, errb := erlgo("", args...)
		if code != 2 || !strings.Contains(errb, "go build -tags gpu ./cmd/erlgo") {
			t.Errorf("erlgo %s: exit %d, %q; want a usage error naming the build with GPU support", strings.Join(args, " "), code, errb)
		}
	}
	if code, _, errb := erlgo("", "train", "--device", "tpu"); code != 2 || !strings.Contains(errb, `device "tpu" is not cpu or cuda`) {
		t.Errorf("erlgo train --device tpu: exit %d, %q", code, errb)
	}
}
