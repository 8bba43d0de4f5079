// Package atomicfile writes files whole or not at all: what the project writes (checkpoints,
// level files, configs, metrics, plots) is never left half-written by a crash or an error.
package atomicfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Write replaces the file at path with what write writes. It writes a temporary file beside
// path, syncs it and renames it over path, so that readers, and a crash, see either the old
// file or the whole new one; if anything fails, the temporary file is removed, path is left
// as it was, and the error names path, not the temporary file. A symbolic link is followed:
// the link stays and its target is replaced. The process's standard output and error
// (/dev/stdout, /dev/fd/1, /proc/self/fd/1 and the like) are written to where they stand,
// whatever they are redirected to; any other path under /dev or /proc, and any path that
// names something other than a regular file (a device such as /dev/null, a named pipe), is
// written to directly, since renaming over it would replace it. A new file is readable by all
// (0644).
func Write(path string, write func(io.Writer) error) (err error) {
	if f := standardStream(path); f != nil {
		if err := write(f); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		return nil
	}
	direct := strings.HasPrefix(filepath.Clean(path), "/dev/") || strings.HasPrefix(filepath.Clean(path), "/proc/")
	if !direct {
		if target, err := filepath.EvalSymlinks(path); err == nil {
			path = target
		}
	}
	if fi, err := os.Stat(path); err == nil && (direct || !fi.Mode().IsRegular()) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			return err
		}
		if err := errors.Join(write(f), f.Close()); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), TempPrefix(path)+"*")
	if err != nil {
		return hideTemp(err, path)
	}
	defer func() {
		if err != nil {
			tmp.Close() // a second Close after a failed Rename fails harmlessly
			os.Remove(tmp.Name())
			err = hideTemp(err, path)
		}
	}()
	if err := write(tmp); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil { // CreateTemp makes files private
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// TempPrefix is the start of the names of the temporary files Write writes beside path: a
// file of a crashed write may be left there.
func TempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp" }

// standardStream returns the process's standard output or error if path names it.
func standardStream(path string) *os.File {
	switch filepath.Clean(path) {
	case "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1":
		return os.Stdout
	case "/dev/stderr", "/dev/fd/2", "/proc/self/fd/2":
		return os.Stderr
	}
	return nil
}

// hideTemp rewrites the path errors in err that name a temporary file of Write to name path,
// the file the caller asked for, which is all the caller knows of.
func hideTemp(err error, path string) error {
	var pe *os.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &le) && le.Op == "rename":
		return &os.PathError{Op: "write", Path: path, Err: le.Err}
	case errors.As(err, &pe) && strings.HasPrefix(filepath.Base(pe.Path), TempPrefix(path)):
		if strings.HasPrefix(err.Error(), "writing "+path+": ") {
			return fmt.Errorf("writing %s: %w", path, pe.Err)
		}
		return &os.PathError{Op: "write", Path: path, Err: pe.Err}
	}
	return err
}

// WriteJSON writes v to path as indented JSON and a newline, as Write does.
func WriteJSON(path string, v any) error {
	js, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(append(js, '\n'))
		return err
	})
}
