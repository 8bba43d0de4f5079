package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/erlgo/erlgo/erl"
	"github.com/erlgo/erlgo/report"
)

// prepareRunDir checks that training may write into dir, before any work starts. A directory
// that does not exist yet, or is empty, is fine. A run resumed from a checkpoint may continue
// in the checkpoint's own directory. Any other directory that holds something is refused,
// since a run would overwrite part of it and mix with the rest, unless overwrite is set: then
// the files a run writes (erl.RunFiles and report.Files) are deleted first, and removed says how many; other
// files are left alone.
func prepareRunDir(dir, resume string, overwrite bool) (removed int, err error) {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, nil
	case err != nil:
		return 0, err
	case !st.IsDir():
		return 0, usagef("--out %s is a file, not a directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	if len(entries) == 0 {
		return 0, nil
	}
	if resume != "" && sameDir(dir, filepath.Dir(resume)) {
		if overwrite {
			return 0, usagef("--overwrite would delete the run that --resume %s continues: leave it out, or give another --out", resume)
		}
		return 0, nil
	}
	if !overwrite {
		return 0, refuseRunDir(dir, resume, entries)
	}
	return removeFiles(dir, slices.Concat(erl.RunFiles, report.Files))
}

// removeFiles deletes the files of dir that match the glob patterns, and says how many.
func removeFiles(dir string, patterns []string) (removed int, err error) {
	for _, pattern := range patterns {
		paths, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return removed, err
		}
		for _, p := range paths {
			if st, err := os.Lstat(p); err != nil || st.IsDir() {
				continue
			}
			if err := os.Remove(p); err != nil {
				return removed, err
			}
			removed++
		}
	}
	return removed, nil
}

// refuseRunDir returns the usage error that explains why dir, which holds entries, is not
// trained into, and what to do instead.
func refuseRunDir(dir, resume string, entries []os.DirEntry) error {
	what := fmt.Sprintf("is not empty (it holds %s, among %d entries)", entries[0].Name(), len(entries))
	if recs, err := erl.ReadMetrics(filepath.Join(dir, erl.MetricsJSONLFile)); err == nil {
		steps := 0
		if len(recs) > 0 {
			steps = recs[len(recs)-1].Step
		}
		what = fmt.Sprintf("already holds a training run (%d steps in %s)", steps, erl.MetricsJSONLFile)
	}
	last := erl.RunDir(dir).Last()
	advice := "give another --out, or --overwrite to delete the files a run writes there first"
	if _, err := os.Stat(last); err == nil && resume == "" {
		advice = fmt.Sprintf("continue it with --resume %s, start it again with --overwrite, or give another --out", last)
	}
	return usagef("%s %s, and erlgo train does not write over a run: %s", dir, what, advice)
}

// sameDir reports whether a and b name the same directory.
func sameDir(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}
