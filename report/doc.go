// Package report turns what a training run wrote into what people read: the spreadsheet copy
// of its metrics, its plots, a summary of where it stands, its sampled episodes as text, the
// comparison of several runs, and View, a self-contained HTML page of one run's curves and
// episodes.
//
// Data flows one way. Package erl writes a run directory's records (metrics.jsonl,
// episodes.jsonl, the config and the checkpoints) and knows nothing of this package; this
// package reads them, with erl's readers, and writes files of its own beside them (Files).
// The training loop keeps these files up to date through a function value, erl's
// TrainOptions.Report, which the command line sets to Refresh: after every evaluation and
// whenever a run stops, finished, out of time, interrupted or failed. Everything here can
// also be run on a run directory at any time, while its run goes on or long after.
package report
