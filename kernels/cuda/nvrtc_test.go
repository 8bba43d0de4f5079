//go:build gpu || nvrtc

package cuda

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// checkedArch is the architecture every kernel source must compile for without a warning or
// a spill: the H200's, on which the project's GPU runs are made.
const checkedArch = "sm_90"

var (
	kernelDecl  = regexp.MustCompile(`extern "C" __global__ void (\w+)\(`)
	ptxasFunc   = regexp.MustCompile(`Function properties for (\w+)`)
	ptxasSpills = regexp.MustCompile(`(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads`)
	ptxasUsed   = regexp.MustCompile(`Compiling entry function '(\w+)'|Used (\d+) registers`)
)

// TestKernelsCompile compiles every kernel source with NVRTC for sm_90, with ptxas's verbose
// report, and fails on a compile error, on any warning, on a kernel the report leaves out, and
// on a kernel that spills registers or otherwise uses local memory (a stack frame). It needs only NVRTC, a host library: CI
// runs it on a machine without a GPU (-tags nvrtc, see env.sh).
func TestKernelsCompile(t *testing.T) {
	major, minor, err := nvrtcVersion()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("NVRTC %d.%d, %s, options %q", major, minor, checkedArch, compileOptions)
	srcs := sources()
	if len(srcs) == 0 {
		t.Fatal("no kernel sources are embedded")
	}
	for _, src := range srcs {
		t.Run(src.name, func(t *testing.T) {
			cubin, log, err := compile(src.name, src.text, checkedArch)
			if err != nil {
				t.Fatal(err)
			}
			if len(cubin) == 0 {
				t.Fatal("NVRTC returned an empty cubin")
			}
			checkPtxasReport(t, src, log)
		})
	}
}

// checkPtxasReport holds one source's NVRTC log to no warnings and, for each of its kernels, a
// report with no spills.
func checkPtxasReport(t *testing.T, src source, log string) {
	t.Helper()
	lines := strings.Split(log, "\n")
	for _, l := range lines {
		if strings.Contains(strings.ToLower(l), "warning") {
			t.Errorf("warning: %s", strings.TrimSpace(l))
		}
	}
	reported := map[string]bool{}
	var current string
	for _, l := range lines {
		if m := ptxasFunc.FindStringSubmatch(l); m != nil {
			current = m[1]
			reported[current] = true
			continue
		}
		if m := ptxasSpills.FindStringSubmatch(l); m != nil && current != "" {
			stack, _ := strconv.Atoi(m[1])
			stores, _ := strconv.Atoi(m[2])
			loads, _ := strconv.Atoi(m[3])
			if stores > 0 || loads > 0 {
				t.Errorf("%s spills registers: %d bytes stored, %d bytes loaded", current, stores, loads)
			}
			if stack > 0 { // a local array, or a spill: slow device memory either way
				t.Errorf("%s uses %d bytes of local memory (stack frame)", current, stack)
			}
		}
	}
	var fn string
	for _, l := range lines {
		if m := ptxasUsed.FindStringSubmatch(l); m != nil {
			if m[1] != "" {
				fn = m[1]
			} else {
				t.Logf("%s: %s registers", fn, m[2])
			}
		}
	}
	decls := kernelDecl.FindAllStringSubmatch(src.text, -1)
	if len(decls) == 0 {
		t.Errorf("%s declares no kernel", src.name)
	}
	for _, d := range decls {
		if !strings.HasPrefix(d[1], strings.TrimSuffix(src.name, ".cu")+"_") {
			t.Errorf("kernel %s is not named after its file %s", d[1], src.name)
		}
		if !reported[d[1]] {
			t.Errorf("ptxas reported nothing for kernel %s; the log:\n%s", d[1], log)
		}
	}
}
