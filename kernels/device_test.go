//go:build gpu || cudaemu

package kernels

import (
	"fmt"
	"reflect"
)

// DeviceKernels is a device's implementation of the kernels as the tests reach it: its memory,
// and the kernels as methods named and typed as kernelSet's fields, on slices of that memory.
// A package that implements one cannot be imported by this package's tests (it imports
// package kernels), so its test, in package kernels_test, adds it with AddDeviceSet.
type DeviceKernels interface {
	Alloc(n int) []float32
	AllocIndex(n int) []int32
	Upload(dst, src []float32)
	UploadIndex(dst, src []int32)
	Download(dst, src []float32)
}

// AddDeviceSet adds dev's kernels, reached through onDevice, to the sets every reference test
// runs on, as the set called name.
func AddDeviceSet(name string, dev DeviceKernels) {
	set := kernelSet{name: name}
	sv, dv := reflect.ValueOf(&set).Elem(), reflect.ValueOf(dev)
	for i := range sv.NumField() {
		f := sv.Type().Field(i)
		if f.Type.Kind() != reflect.Func {
			continue
		}
		m := dv.MethodByName(f.Name)
		if !m.IsValid() || m.Type() != f.Type {
			panic(fmt.Sprintf("kernels: %T has no method %s of type %v", dev, f.Name, f.Type))
		}
		sv.Field(i).Set(m)
	}
	kernelSets = append(kernelSets, onDevice(name, deviceMemory{
		alloc: dev.Alloc, allocIndex: dev.AllocIndex, upload: dev.Upload, uploadIndex: dev.UploadIndex, download: dev.Download,
	}, set))
}
