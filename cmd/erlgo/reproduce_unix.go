//go:build unix

package main

import (
	"errors"
	"os"
	"syscall"
)

// lockDir takes the lock of a reproduction's directory, the file path, returning it open:
// the lock holds while the file, or a copy of it that a child process inherits, stays open,
// so that no two reproductions (nor one and the runs of another that was stopped and is still
// saving) work in one directory. busy is called, once, before waiting for a lock that is
// taken.
func lockDir(path string, busy func()) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		busy()
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
	}
	if err != nil {
		f.Close()
		return nil, &os.PathError{Op: "lock", Path: path, Err: err}
	}
	return f, nil
}

// childProcess returns the process attributes of a run's training process: a process group
// of its own, so that a Ctrl-C at the terminal reaches the reproduction alone, which passes
// it on to each run once (a second one would stop a run unsaved).
//
// A run is not signalled when the reproduction dies (Linux's Pdeathsig): the kernel sends
// that signal again as each thread of the dying reproduction hands the run on to the next,
// and the second would stop the run unsaved. A run whose reproduction is killed outright
// trains on to the end of its budget, holding the directory's lock, and the next
// reproduction waits for it.
func childProcess() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
