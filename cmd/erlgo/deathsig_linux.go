package main

import "syscall"

// setDeathSignal has the child get SIGTERM when the thread that started it ends: the
// reproduction starts each run from a thread it keeps until the run ends
// (runtime.LockOSThread), so the signal comes when the reproduction itself dies.
func setDeathSignal(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGTERM }
