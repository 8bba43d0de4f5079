//go:build gpu || nvrtc || cudaemu

package cuda

import (
	"embed"
	"path"
	"strings"
)

// kernelFiles holds the kernel sources, one module each, and the headers they share.
//
//go:embed *.cu *.cuh
var kernelFiles embed.FS

// A source is one kernel source file, compiled into one module.
type source struct{ name, text string }

// sources returns the kernel sources (the .cu files) in the order of their names.
func sources() []source { return filesEnding(".cu") }

// headerNames and headerTexts are the headers (.cuh) that every source may include.
func headerNames() []string { return names(filesEnding(".cuh")) }
func headerTexts() []string { return texts(filesEnding(".cuh")) }

func filesEnding(ext string) []source {
	entries, err := kernelFiles.ReadDir(".")
	if err != nil {
		panic(err) // an embedded directory always reads
	}
	var out []source
	for _, e := range entries {
		if path.Ext(e.Name()) == ext {
			b, err := kernelFiles.ReadFile(e.Name())
			if err != nil {
				panic(err)
			}
			out = append(out, source{e.Name(), string(b)})
		}
	}
	return out
}

func names(ss []source) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.name
	}
	return out
}

func texts(ss []source) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.text
	}
	return out
}

// moduleOf returns the name of the source that defines the kernel called fn: the kernels of
// file x.cu are declared extern "C" with names that start with x's name and an underscore.
func moduleOf(fn string) string {
	prefix, _, _ := strings.Cut(fn, "_")
	return prefix + ".cu"
}
