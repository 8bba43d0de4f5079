package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

// TestWriteReplacesWholeOrNothing checks that a write replaces the file, and that a write that
// fails, or cannot start, leaves the old file and no temporary file behind.
func TestWriteReplacesWholeOrNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	if err := Write(path, writeString("first\n")); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, writeString("second\n")); err != nil {
		t.Fatal(err)
	}
	failed := errors.New("disk full")
	err := Write(path, func(w io.Writer) error {
		io.WriteString(w, "half")
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatalf("a failing write returned %v, want %v", err, failed)
	}
	if got, _ := os.ReadFile(path); string(got) != "second\n" {
		t.Errorf("after a failed write the file holds %q, want the last whole write", got)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v (%v), want 0644", fi.Mode(), err)
	}
	if err := Write(filepath.Join(dir, "missing", "f.txt"), writeString("x")); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Write(sub, writeString("x")); err == nil {
		t.Error("writing onto a directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("the directory holds %v, want f.txt and sub alone", entries)
	}
}

// TestWriteThroughLinksDevicesAndPipes checks that links are followed, and that devices and
// pipes are written to rather than replaced by a rename.
func TestWriteThroughLinksDevicesAndPipes(t *testing.T) {
	dir := t.TempDir()
	file, link := filepath.Join(dir, "f.json"), filepath.Join(dir, "link.json")
	if err := os.WriteFile(file, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(link, map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v, %v", fi.Mode(), err)
	}
	if got, _ := os.ReadFile(file); string(got) != "{\n  \"a\": 1\n}\n" {
		t.Errorf("the link's target holds %q", got)
	}

	if err := Write(os.DevNull, writeString("discarded")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(os.DevNull); err != nil || fi.Mode()&os.ModeDevice == 0 {
		t.Fatalf("%s is no longer a device: %v, %v", os.DevNull, fi.Mode(), err)
	}

	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no named pipes:", err)
	}
	read := make(chan []byte)
	go func() {
		got, _ := os.ReadFile(fifo)
		read <- got
	}()
	if err := Write(fifo, writeString("through\n")); err != nil {
		t.Fatal(err)
	}
	if got := <-read; string(got) != "through\n" {
		t.Errorf("the pipe carried %q", got)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the pipe was replaced: %v, %v", fi.Mode(), err)
	}
}

// TestMain lets the test binary write a file with Write between two lines on its standard
// output, for TestWriteToRedirectedStdout: ATOMICFILE_WRITE names the file.
func TestMain(m *testing.M) {
	if path := os.Getenv("ATOMICFILE_WRITE"); path != "" {
		fmt.Println("before")
		if err := Write(path, writeString("written\n")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("after")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestWriteToRedirectedStdout checks that writing to the standard output by name, while it is
// redirected to a file, writes into the output in its place: the file is not replaced, and
// keeps what the process wrote before and after.
func TestWriteToRedirectedStdout(t *testing.T) {
	for _, name := range []string{"/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"} {
		out := filepath.Join(t.TempDir(), "out.txt")
		f, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		before, err := f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "ATOMICFILE_WRITE="+name)
		cmd.Stdout = f
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err = cmd.Run()
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v: %s", name, err, stderr.String())
		}
		after, err := os.Stat(out)
		if err != nil || !os.SameFile(before, after) {
			t.Errorf("%s: the file standard output went to was replaced (%v)", name, err)
		}
		if got, _ := os.ReadFile(out); string(got) != "before\nwritten\nafter\n" {
			t.Errorf("%s: the output holds %q", name, got)
		}
	}
}

// TestErrorsNameTheFile checks that errors name the file asked for, never a temporary one.
func TestErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing", "f.txt")
	path := filepath.Join(dir, "f.txt")
	for _, tc := range []struct {
		path  string
		write func(io.Writer) error
	}{
		{missing, writeString("x")},
		{path, func(w io.Writer) error { // the write fails on the temporary file
			w.(*os.File).Close()
			_, err := w.Write([]byte("x"))
			return err
		}},
	} {
		err := Write(tc.path, tc.write)
		if err == nil || !strings.Contains(err.Error(), tc.path) || strings.Contains(err.Error(), ".tmp") {
			t.Errorf("error %v, want one that names %s and no temporary file", err, tc.path)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}
