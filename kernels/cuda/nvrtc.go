//go:build gpu || nvrtc

package cuda

// #cgo LDFLAGS: -lnvrtc
// #include <stdlib.h>
// #include <nvrtc.h>
import "C"

import (
	"fmt"
	"strings"
	"unsafe"
)

// compileOptions are NVRTC's options for every kernel source, besides the architecture.
// ptxas's verbose report (registers, spills) goes to the program log, which the NVRTC test reads;
// --no-cache keeps NVRTC 12.9 and later from answering from its cache without running ptxas,
// which would leave the report out. Floating point stays IEEE (no fast math): the CUDA
// kernels are held to the same references as the host's.
var compileOptions = []string{"--std=c++17", "--ptxas-options=--verbose", "--ptxas-options=--warn-on-spills", "--no-cache"}

// compile compiles the kernel source called name for the GPU architecture arch (such as
// sm_90) and returns its cubin and NVRTC's log, which holds every warning and ptxas's report of
// each kernel's registers and spills. The source may include the .cuh files beside it by name.
func compile(name, src, arch string) (cubin []byte, log string, err error) {
	cname, csrc := C.CString(name), C.CString(src)
	defer C.free(unsafe.Pointer(cname))
	defer C.free(unsafe.Pointer(csrc))
	names, texts := newCStrings(headerNames()), newCStrings(headerTexts())
	defer names.free()
	defer texts.free()
	var prog C.nvrtcProgram
	if err := nvrtcCheck("nvrtcCreateProgram", name, C.nvrtcCreateProgram(&prog, csrc, cname, C.int(names.n), texts.arr, names.arr)); err != nil {
		return nil, "", err
	}
	defer C.nvrtcDestroyProgram(&prog)
	opts := newCStrings(append([]string{"--gpu-architecture=" + arch}, compileOptions...))
	defer opts.free()
	compileErr := nvrtcCheck("nvrtcCompileProgram", name, C.nvrtcCompileProgram(prog, C.int(opts.n), opts.arr))
	var logSize C.size_t
	if err := nvrtcCheck("nvrtcGetProgramLogSize", name, C.nvrtcGetProgramLogSize(prog, &logSize)); err != nil {
		return nil, "", err
	}
	buf := make([]byte, logSize)
	if logSize > 0 {
		if err := nvrtcCheck("nvrtcGetProgramLog", name, C.nvrtcGetProgramLog(prog, (*C.char)(unsafe.Pointer(&buf[0])))); err != nil {
			return nil, "", err
		}
	}
	log = strings.TrimRight(string(buf), "\x00\n")
	if compileErr != nil {
		return nil, log, fmt.Errorf("%w:\n%s", compileErr, log)
	}
	var size C.size_t
	if err := nvrtcCheck("nvrtcGetCUBINSize", name, C.nvrtcGetCUBINSize(prog, &size)); err != nil {
		return nil, log, err
	}
	if size == 0 {
		return nil, log, fmt.Errorf("cuda: nvrtcGetCUBIN(%s): no cubin for %s (a virtual architecture?)", name, arch)
	}
	cubin = make([]byte, size)
	if err := nvrtcCheck("nvrtcGetCUBIN", name, C.nvrtcGetCUBIN(prog, (*C.char)(unsafe.Pointer(&cubin[0])))); err != nil {
		return nil, log, err
	}
	return cubin, log, nil
}

// nvrtcVersion returns the version of the NVRTC library the process loaded.
func nvrtcVersion() (major, minor int, err error) {
	var ma, mi C.int
	if err := nvrtcCheck("nvrtcVersion", "", C.nvrtcVersion(&ma, &mi)); err != nil {
		return 0, 0, err
	}
	return int(ma), int(mi), nil
}

// nvrtcCheck turns an NVRTC result into an error that names the call and the source.
func nvrtcCheck(call, source string, r C.nvrtcResult) error {
	if r == C.NVRTC_SUCCESS {
		return nil
	}
	return fmt.Errorf("cuda: %s(%s): %s", call, source, C.GoString(C.nvrtcGetErrorString(r)))
}

// cStrings is an array of C strings in C memory, for NVRTC's char** arguments.
type cStrings struct {
	arr **C.char
	n   int
}

func newCStrings(ss []string) cStrings {
	if len(ss) == 0 {
		return cStrings{}
	}
	arr := (**C.char)(C.malloc(C.size_t(len(ss)) * C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	for i, s := range ss {
		unsafe.Slice(arr, len(ss))[i] = C.CString(s)
	}
	return cStrings{arr, len(ss)}
}

func (a cStrings) free() {
	if a.arr == nil {
		return
	}
	for _, s := range unsafe.Slice(a.arr, a.n) {
		C.free(unsafe.Pointer(s))
	}
	C.free(unsafe.Pointer(a.arr))
}
