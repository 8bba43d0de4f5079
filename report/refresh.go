package report

import (
	"errors"
	"io/fs"

	"github.com/erlgo/erlgo/erl"
	"github.com/erlgo/erlgo/internal/machine"
)

// Files are the names of the files Refresh writes into a run directory.
var Files = []string{MetricsCSVFile, SuccessPlotFile, LossPlotFile, LiftPlotFile, EpisodesTextFile, ViewFile, SummaryFile}

// Refresh rewrites the report files of the run directory dir (Files) from what the run has
// written so far, s being where it stands: metrics.csv, the plots, episodes.txt, the viewer's
// page and summary.json (with the test scores, the pooled lift and this machine, as where the
// run trains). It is erl.TrainOptions.Report's function for training runs. Each file is
// written whole or not at all; a run with no records yet gets its summary alone.
func Refresh(dir erl.RunDir, s erl.RunState) error {
	recs, err := erl.ReadMetrics(dir.Metrics())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	eps, err := erl.ReadEpisodes(dir.Episodes())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	sum, err := SummarizeRun(dir, recs, s)
	if err != nil {
		return err
	}
	m := machine.This()
	sum.Machine = &m
	var errs []error
	if len(recs) > 0 {
		errs = append(errs, WriteCSV(string(dir), recs), PlotRun(string(dir), recs))
	}
	errs = append(errs, WriteEpisodesText(string(dir), eps), WriteView(dir, recs, eps, sum))
	// The summary goes last: once it says a run stopped, everything else is up to date.
	return errors.Join(append(errs, writeSummary(string(dir), sum))...)
}
