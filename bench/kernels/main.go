// Command kernels measures the throughput of package kernels at the shapes of the policy's
// model sizes, beside ceilings measured in the same run: the kernels' own Gemm on a 1024×1024
// product for the matrix kernels (GFLOP/s), and copy() of a 256 MiB buffer across all threads
// for the memory-bound ones (GB/s, counting bytes read plus bytes written). Built with -tags gpu
// it measures package kernels/cuda too, on the GPU, beside cuBLAS's Sgemm at 4096³ and a 1 GiB
// device-to-device copy, timed by CUDA events.
//
// Usage:
//
//	go run ./bench/kernels [-run regexp] [-backend list] [-time duration] [-samples n] [-out file.json]
//	go run ./bench/kernels -list
//
// Each workload runs until warm, then is timed in samples of enough calls to last a few
// milliseconds, until it has at least -samples samples and -time in all; its time per call is
// the median sample. Lines stream as workloads finish, a short table follows, and -out
// writes every number as JSON. -list prints the workloads as JSON and measures nothing: the
// PyTorch peer (bench/torch/peer.py kernels) times the same list.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/erlgo/erlgo/internal/atomicfile"
	"github.com/erlgo/erlgo/internal/machine"
)

// minSample is the shortest sample: long against the clock's resolution and the cost of
// reading it.
const minSample = 2 * time.Millisecond

// maxSamples bounds the samples of fast workloads, which -time alone would let run to thousands.
const maxSamples = 200

// A result is one workload's timing on one backend.
type result struct {
	workload
	Backend  string    `json:"backend"`
	Seconds  float64   `json:"seconds"` // median time per call
	Samples  []float64 `json:"samples"` // time per call of each sample, in order
	Calls    int       `json:"calls_per_sample"`
	Rate     float64   `json:"rate"`
	Unit     string    `json:"unit"`
	Fraction float64   `json:"fraction_of_ceiling,omitempty"`
}

// A host identifies where the results were taken.
type host struct {
	machine.Machine
	// Devices describes the backends' devices beside the CPU, such as a GPU.
	Devices []string `json:"devices,omitempty"`
}

type report struct {
	Command  string   `json:"command"`
	Date     string   `json:"date"`
	Machine  host     `json:"machine"`
	Ceilings []result `json:"ceilings"`
	Results  []result `json:"results"`
}

func main() {
	out := flag.String("out", "", "write every number as JSON to `file`")
	only := flag.String("run", "", "measure only workloads whose size/name matches `regexp`, such as small/ or attention")
	minTime := flag.Duration("time", 500*time.Millisecond, "time each workload for at least `duration`")
	samples := flag.Int("samples", 7, "take at least `n` samples of each workload")
	list := flag.Bool("list", false, "print the workloads as JSON, measure nothing")
	backendNames := flag.String("backend", "", "measure only the backends of the comma-separated `list` (cpu; cuda in a build with -tags gpu)")
	flag.Usage = func() {
		fmt.Fprint(flag.CommandLine.Output(), `Usage: go run ./bench/kernels [flags]

Measures the kernels package at the small, base and large model sizes and reports GFLOP/s
(matrix products, attention) or GB/s (the rest), each beside the fraction of a ceiling
measured in the same run: the kernels' own Gemm at 1024³ (on the CPU path in use; ERLGO_CPU
selects another), and copy() of 256 MiB on every thread. Built with -tags gpu, it measures the
CUDA kernels too, against cuBLAS's Sgemm at 4096³ and a 1 GiB device copy, timed by CUDA events.

Flags:
`)
		flag.PrintDefaults()
	}
	flag.Parse()
	if *list {
		if err := writeList(os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "kernels:", err)
			os.Exit(1)
		}
		return
	}
	filter, err := regexp.Compile(*only)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kernels: -run:", err)
		os.Exit(2)
	}
	if *backendNames != "" {
		var kept []backend
		for _, name := range strings.Split(*backendNames, ",") {
			i := slices.IndexFunc(backends, func(b backend) bool { return b.Name() == name })
			if i < 0 {
				fmt.Fprintf(os.Stderr, "kernels: -backend: no backend %q in this build\n", name)
				os.Exit(2)
			}
			kept = append(kept, backends[i])
		}
		backends = kept
	}

	rep := report{
		Command: strings.Join(append([]string{"go run ./bench/kernels"}, os.Args[1:]...), " "),
		Date:    time.Now().UTC().Format(time.RFC3339),
		Machine: host{Machine: machine.This()},
	}
	for _, b := range backends {
		if d, ok := b.(interface{ Describe() string }); ok {
			rep.Machine.Devices = append(rep.Machine.Devices, b.Name()+": "+d.Describe())
		}
	}
	m := rep.Machine
	fmt.Println(m.Machine)
	for _, d := range m.Devices {
		fmt.Println(d)
	}
	fmt.Println()

	timer := timer{minSamples: *samples, minTime: *minTime}
	bounds := map[string]ceilings{}
	for _, b := range backends {
		matrix, memory := b.Ceilings()
		c := ceilings{timer.measure(b, matrix), timer.measure(b, memory)}
		bounds[b.Name()] = c
		rep.Ceilings = append(rep.Ceilings, c.matrix, c.memory)
		for _, r := range []result{c.matrix, c.memory} {
			fmt.Printf("%-5s ceiling %-13s %-24s %s\n", b.Name(), r.Name, r.Shape, r.summary())
		}
	}
	fmt.Println()

	for _, s := range sizes {
		for _, w := range workloads(s) {
			if !filter.MatchString(w.Size + "/" + w.Name) {
				continue
			}
			for _, b := range backends {
				call := b.Prepare(w)
				if call == nil {
					continue
				}
				r := timer.measure(b, run{w, call})
				ceil := bounds[b.Name()].of(w)
				r.Fraction = r.Rate / ceil.Rate
				rep.Results = append(rep.Results, r)
				fmt.Printf("%-5s %-6s %-15s %-32s %s  %.2f of %s\n", b.Name(), w.Size, w.Name, w.Shape, r.summary(), r.Fraction, ceil.Name)
			}
		}
	}
	fmt.Println()
	printTable(os.Stdout, rep.Results)

	if *out != "" {
		if err := atomicfile.WriteJSON(*out, rep); err != nil {
			fmt.Fprintln(os.Stderr, "kernels:", err)
			os.Exit(1)
		}
	}
}

// ceilings are one backend's measured bounds.
type ceilings struct{ matrix, memory result }

// of returns the ceiling that bounds w.
func (c ceilings) of(w workload) result {
	if w.computeBound() {
		return c.matrix
	}
	return c.memory
}

type timer struct {
	minSamples int
	minTime    time.Duration
}

// A deviceTimer is a backend that times its calls itself: a GPU's calls only queue work, and
// its events measure the device's time.
type deviceTimer interface {
	// Time runs call calls times and returns the time per call.
	Time(calls int, call func()) time.Duration
}

// measure times r on backend b.
func (t timer) measure(b backend, r run) result {
	w, call := r.workload, r.call
	clock := func(calls int) time.Duration {
		start := time.Now()
		for range calls {
			call()
		}
		return time.Since(start)
	}
	if dt, ok := b.(deviceTimer); ok {
		clock = func(calls int) time.Duration { return time.Duration(calls) * dt.Time(calls, call) }
	}
	// The first call faults in the operands and fills pools; the second is timed to size the samples.
	call()
	calls := max(1, int(minSample/max(clock(1), 1)))
	// Collect the garbage of preparing the operands now, not in the middle of a sample.
	runtime.GC()
	res := result{workload: w, Backend: b.Name(), Calls: calls}
	begin := time.Now()
	for len(res.Samples) < t.minSamples || (time.Since(begin) < t.minTime && len(res.Samples) < maxSamples) {
		res.Samples = append(res.Samples, clock(calls).Seconds()/float64(calls))
	}
	sorted := slices.Sorted(slices.Values(res.Samples))
	res.Seconds = sorted[len(sorted)/2]
	res.Rate, res.Unit = w.Bytes/res.Seconds/1e9, "GB/s"
	if w.computeBound() {
		res.Rate, res.Unit = w.FLOPs/res.Seconds/1e9, "GFLOP/s"
	}
	return res
}

// summary gives the median time, its rate and the spread of the samples.
func (r result) summary() string {
	lo, hi := slices.Min(r.Samples), slices.Max(r.Samples)
	return fmt.Sprintf("%9.3f ms %8.2f %-7s (%d samples, %.3f to %.3f ms)", r.Seconds*1e3, r.Rate, r.Unit, len(r.Samples), lo*1e3, hi*1e3)
}

// printTable writes one row per workload and a column group per backend.
func printTable(out io.Writer, results []result) {
	type row struct{ size, name, shape string }
	var rows []row
	var backendNames []string
	cells := map[row]map[string]result{}
	for _, r := range results {
		k := row{r.Size, r.Name, r.Shape}
		if cells[k] == nil {
			cells[k] = map[string]result{}
			rows = append(rows, k)
		}
		cells[k][r.Backend] = r
		if !slices.Contains(backendNames, r.Backend) {
			backendNames = append(backendNames, r.Backend)
		}
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "size\tkernel\tshape")
	for _, n := range backendNames {
		fmt.Fprintf(tw, "\t%9s\t%9s\t\t%s", n+" ms", n+" rate", "of ceiling")
	}
	fmt.Fprintln(tw)
	for _, k := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s", k.size, k.name, k.shape)
		for _, n := range backendNames {
			if r, ok := cells[k][n]; ok {
				fmt.Fprintf(tw, "\t%9.3f\t%9.2f\t%s\t%10.2f", r.Seconds*1e3, r.Rate, r.Unit, r.Fraction)
			} else {
				fmt.Fprintf(tw, "\t%9s\t%9s\t\t%10s", "-", "-", "-")
			}
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}
