// Package kernels executes the numerical work of the policy: matrix products, embedding
// lookups, LayerNorm, causal attention, GELU, log-softmax with gather, and the AdamW update,
// each with its gradient. Every kernel works on flat row-major float32 slices and has a plain
// float64 reference beside it that the tests hold it to.
package kernels
