package erl

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
)

// peakRSSMiB returns the process's peak resident set size so far in MiB, as Linux reports it
// (VmHWM in /proc/self/status), or 0 where that cannot be read.
func peakRSSMiB() float64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		if rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmHWM:")); ok {
			kB, err := strconv.ParseFloat(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte("kB")))), 64)
			if err != nil {
				return 0
			}
			return kB / 1024
		}
	}
	return 0
}
