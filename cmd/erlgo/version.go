package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"text/tabwriter"

	"github.com/erlgo/erlgo/kernels"
)

const versionDoc = `
Prints erlgo's version: the module's version (for a build from a git checkout, the commit's
pseudo-version, +dirty when the tree had changes), the Go toolchain, the platform, the CPU
path the kernels run on (avx512, avx2 or generic) and the build settings (the commit and its time, cgo, build tags). go build and go install record
the commit; go run and builds with -buildvcs=false do not. With --json, one JSON object.`

// versionInfo is what erlgo version prints.
type versionInfo struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
	// CPUPath is the CPU path the kernels run on, and CPUPaths the ones this CPU can take.
	CPUPath  string            `json:"cpu_path"`
	CPUPaths string            `json:"cpu_paths"`
	Settings map[string]string `json:"settings"`
	settings [][2]string       // in the order the toolchain recorded them
}

func buildVersion() versionInfo {
	v := versionInfo{Module: "github.com/erlgo/erlgo", Version: "unknown", Go: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH, CPUPath: kernels.CPUPath(), CPUPaths: kernels.CPUPaths(),
		Settings: map[string]string{}}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if bi.Main.Path != "" {
		v.Module = bi.Main.Path
	}
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		v.Settings[s.Key] = s.Value
		v.settings = append(v.settings, [2]string{s.Key, s.Value})
	}
	return v
}

// runVersion is the version command.
func runVersion(sio stdio, args []string) error {
	fs := newFlagSet("version", "[--json]", versionDoc)
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parseFlags(fs, args, sio); err != nil {
		return err
	}
	v := buildVersion()
	if *asJSON {
		return writeJSON(sio, v)
	}
	tw := tabwriter.NewWriter(sio.out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "erlgo\t%s\nmodule\t%s\ngo\t%s\nplatform\t%s\n", v.Version, v.Module, v.Go, v.Platform)
	fmt.Fprintf(tw, "cpu path\t%s (this CPU can take %s; ERLGO_CPU picks one)\n", v.CPUPath, v.CPUPaths)
	if _, ok := v.Settings["vcs.revision"]; !ok {
		fmt.Fprintf(tw, "vcs.revision\tnot recorded (a build by go run, or with -buildvcs=false)\n")
	}
	for _, s := range v.settings {
		fmt.Fprintf(tw, "%s\t%s\n", s[0], s[1])
	}
	return tw.Flush()
}
