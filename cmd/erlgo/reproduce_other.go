//go:build !unix

package main

import (
	"errors"
	"os"
	"syscall"
)

// errNoReproduce is why erlgo reproduce does not run here.
var errNoReproduce = errors.New("erlgo reproduce needs a Unix-like system (Linux, macOS): it locks its directory with flock and stops its runs with signals")

func lockDir(string, func()) (*os.File, error) { return nil, errNoReproduce }

func childProcess() *syscall.SysProcAttr { return nil }
