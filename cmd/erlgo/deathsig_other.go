//go:build unix && !linux

package main

import "syscall"

// setDeathSignal does nothing where the system cannot signal a child when its parent dies:
// the runs of a reproduction that is killed outright (kill -9) train on to their budget, and
// the next reproduction in the directory waits for them (lockDir).
func setDeathSignal(*syscall.SysProcAttr) {}
