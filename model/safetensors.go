package model

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"

	"github.com/erlgo/erlgo/internal/atomicfile"
)

// The safetensors format: an 8-byte little-endian header length, a JSON header naming each
// tensor's dtype, shape and byte range, then the raw little-endian data. PyTorch users open these
// files with the `safetensors` package.

// stTensor is one tensor of a safetensors file.
type stTensor struct {
	DType string `json:"dtype"`
	Shape []int  `json:"shape"`
	// Offsets are the byte range of the data, relative to the end of the header.
	Offsets [2]int64 `json:"data_offsets"`
	data    []byte
}

var dtypeSize = map[string]int64{"F64": 8, "F32": 4, "I64": 8, "I32": 4, "U8": 1}

// float32Bytes encodes xs, narrowed to float32, as little-endian F32.
func float32Bytes(xs []float64) []byte {
	b := make([]byte, 4*len(xs))
	for i, x := range xs {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(float32(x)))
	}
	return b
}

// float64Bytes encodes xs as little-endian F64.
func float64Bytes(xs []float64) []byte {
	b := make([]byte, 8*len(xs))
	for i, x := range xs {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return b
}

// writeSafetensors writes tensors and string metadata to path through a temporary file in the
// same directory, renamed into place, so a crash never leaves a half-written checkpoint.
func writeSafetensors(path string, tensors map[string]*stTensor, meta map[string]string) error {
	names := make([]string, 0, len(tensors))
	for n := range tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	header := map[string]any{}
	if len(meta) > 0 {
		header["__metadata__"] = meta
	}
	var offset int64
	for _, n := range names {
		t := tensors[n]
		t.Offsets = [2]int64{offset, offset + int64(len(t.data))}
		offset += int64(len(t.data))
		header[n] = t
	}
	js, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("%s: encoding the header: %w", path, err)
	}
	for len(js)%8 != 0 { // the data starts 8-byte aligned
		js = append(js, ' ')
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		var lenBuf [8]byte
		binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(js)))
		if _, err := w.Write(lenBuf[:]); err != nil {
			return err
		}
		if _, err := w.Write(js); err != nil {
			return err
		}
		for _, n := range names {
			if _, err := w.Write(tensors[n].data); err != nil {
				return err
			}
		}
		return nil
	})
}

// readSafetensors reads and checks a whole safetensors file: every problem is an error naming
// the file, never a panic.
func readSafetensors(path string) (map[string]*stTensor, map[string]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: not a valid safetensors file: %s", path, fmt.Sprintf(format, args...))
	}
	if len(raw) < 8 {
		return nil, nil, bad("%d bytes is shorter than the header length", len(raw))
	}
	n := binary.LittleEndian.Uint64(raw[:8])
	if n > uint64(len(raw)-8) {
		return nil, nil, bad("the header claims %d bytes but the file has %d after the length (truncated?)", n, len(raw)-8)
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(raw[8:8+n], &header); err != nil {
		return nil, nil, bad("header: %v", err)
	}
	data := raw[8+n:]
	meta := map[string]string{}
	tensors := map[string]*stTensor{}
	for name, js := range header {
		if name == "__metadata__" {
			if err := json.Unmarshal(js, &meta); err != nil {
				return nil, nil, bad("metadata: %v", err)
			}
			continue
		}
		var t stTensor
		if err := json.Unmarshal(js, &t); err != nil {
			return nil, nil, bad("tensor %q: %v", name, err)
		}
		size, ok := dtypeSize[t.DType]
		if !ok {
			return nil, nil, bad("tensor %q: unsupported dtype %q", name, t.DType)
		}
		elems := int64(1)
		for _, d := range t.Shape {
			if d < 0 || d > 1<<40 {
				return nil, nil, bad("tensor %q: dimension %d", name, d)
			}
			elems *= int64(d)
		}
		lo, hi := t.Offsets[0], t.Offsets[1]
		if lo < 0 || hi < lo || hi > int64(len(data)) {
			return nil, nil, bad("tensor %q: byte range [%d, %d) lies outside the %d data bytes (truncated?)", name, lo, hi, len(data))
		}
		if hi-lo != elems*size {
			return nil, nil, bad("tensor %q: %d bytes for shape %v of %s", name, hi-lo, t.Shape, t.DType)
		}
		t.data = data[lo:hi]
		tensors[name] = &t
	}
	// The byte ranges must tile the data exactly: no gaps, no overlaps.
	ranges := make([][2]int64, 0, len(tensors))
	for _, t := range tensors {
		ranges = append(ranges, t.Offsets)
	}
	sort.Slice(ranges, func(i, j int) bool { return ranges[i][0] < ranges[j][0] })
	var end int64
	for _, r := range ranges {
		if r[0] != end {
			return nil, nil, bad("tensor data is not contiguous at byte %d", end)
		}
		end = r[1]
	}
	if end != int64(len(data)) {
		return nil, nil, bad("the tensors cover %d of %d data bytes", end, len(data))
	}
	return tensors, meta, nil
}

// float64s decodes a float tensor of either width.
func (t *stTensor) float64s() []float64 {
	switch t.DType {
	case "F32":
		out := make([]float64, len(t.data)/4)
		for i := range out {
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(t.data[4*i:])))
		}
		return out
	case "F64":
		out := make([]float64, len(t.data)/8)
		for i := range out {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(t.data[8*i:]))
		}
		return out
	}
	return nil
}
