//go:build race

package kernels

// The race detector makes sync.Pool drop a random share of what it is given, so pooled
// buffers are allocated again, and allocation counts mean nothing.
func init() { raceEnabled = true }
