package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/erlgo/erlgo/erl"
	"github.com/erlgo/erlgo/report"
)

// How often the progress view is brought up to date: redrawn on a terminal, printed in full
// elsewhere (a log), where what happens to each run gets a line of its own as it happens.
const (
	redrawEvery = time.Second
	printEvery  = 5 * time.Minute
	pollEvery   = 2 * time.Second
)

// execute runs the reproduction: it takes the directory's lock, writes the shared levels and
// each run's config, trains the runs that are not done, jobs at a time, and writes the report
// of those that are.
func (p *reproduction) execute(sio stdio, states []found, jobs int) error {
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return err
	}
	lock, err := lockDir(filepath.Join(p.dir, reproduceLockFile), func() {
		fmt.Fprintf(sio.err, "%s is in use by another erlgo reproduce, or by runs of one that was stopped (saving) or killed (training to the end of their budget): waiting for them to end\n", p.dir)
	})
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := p.writeSettings(); err != nil {
		return err
	}
	if states, err = p.inspect(); err != nil { // runs may have ended while we waited
		return err
	}
	if err := p.writeLevels(sio); err != nil {
		return err
	}
	if err := p.writeConfigs(); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	s := newScheduler(p, states, jobs, exe, lock, sio)
	if done := s.count(stateDone); done == len(p.runs) {
		fmt.Fprintf(sio.err, "erlgo reproduce: all %d runs in %s are done\n", done, p.dir)
	} else {
		fmt.Fprintf(sio.err, "erlgo reproduce: %d runs into %s (%d done), %d at a time, GOMAXPROCS %d each; %s a run\n",
			len(p.runs), p.dir, done, s.jobs, s.procs, p.budget)
	}
	sig, signals := s.run()

	failed := s.with(stateFailed)
	if signals > 1 {
		fmt.Fprintf(sio.err, "stopped at once: runs stopped mid-step resume from their last checkpoint; continue with: %s\n", p.command())
		return exitCode(128 + signalNumber(sig))
	}
	sum, rerr := p.writeReport()
	if rerr == nil {
		fmt.Fprintf(sio.err, "%s\nreport: %s (and %s)\n", reportLines(sum), filepath.Join(p.dir, report.ReproductionReportFile), filepath.Join(p.dir, report.ReproductionSummaryFile))
	}
	var errs []error
	if len(failed) > 0 {
		var lines []string
		for _, r := range failed {
			lines = append(lines, fmt.Sprintf("  %s: %s (its output: %s)", r.name, r.note, filepath.Join(p.dir, r.logFile())))
		}
		errs = append(errs, fmt.Errorf("%d of %d runs failed:\n%s\nrunning the command again resumes them: %s",
			len(failed), len(p.runs), strings.Join(lines, "\n"), p.command()))
	}
	if rerr != nil {
		errs = append(errs, fmt.Errorf("the report was not written: %w", rerr))
	}
	if sig != nil {
		fmt.Fprintf(sio.err, "%s: stopped with %d of %d runs finished (%d saved mid-way); continue with: %s\n",
			sig, s.count(stateDone), len(p.runs), s.count(stateStopped), p.command())
		if err := errors.Join(errs...); err != nil {
			fmt.Fprintf(sio.err, "erlgo reproduce: %v\n", err)
		}
		return exitCode(128 + signalNumber(sig))
	}
	return errors.Join(errs...)
}

// reportLines summarizes the report in a line an algorithm.
func reportLines(sum report.ReproductionSummary) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "env\talgorithm\truns\tfinal test success: mean (range) [95%]\tbest checkpoint")
	for _, e := range sum.Envs {
		for _, a := range e.Algos {
			if a.Final == nil {
				fmt.Fprintf(tw, "%s\t%s\t0 of %d\t-\t-\n", e.Env, a.Name, a.Planned)
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%d of %d\t%.3f (%.3f–%.3f) [%.3f, %.3f]\t%.3f (%.3f–%.3f) [%.3f, %.3f]\n", e.Env, a.Name, a.Runs, a.Planned,
				a.Final.Mean, a.Final.Min, a.Final.Max, a.Final.Lo, a.Final.Hi, a.Best.Mean, a.Best.Min, a.Best.Max, a.Best.Lo, a.Best.Hi)
		}
		fmt.Fprintf(tw, "%s\trandom policy\t\t%.3f [%.3f, %.3f]\t\n", e.Env, e.Random.Success, e.Random.Lo, e.Random.Hi)
	}
	tw.Flush()
	return strings.TrimRight(b.String(), "\n")
}

// signalNumber is the number of a signal, for the exit status 128 + it.
func signalNumber(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return int(s)
	}
	return int(syscall.SIGINT)
}

// liveRun is a run of a reproduction as the scheduler follows it.
type liveRun struct {
	plannedRun
	found found
	state runState
	// note says why a run failed or stopped.
	note string
	cmd  *exec.Cmd
	// started is when this session started it, and base the training time and step it had.
	started           time.Time
	baseWall          float64
	baseStep          int
	baseSet           bool
	tail              metricsTail
	testBest, testEnd *float64 // test success (sampled) of the best and the last checkpoint, once done
}

// childExit is the end of a run's training process.
type childExit struct {
	run *liveRun
	err error
}

// scheduler runs the runs of a reproduction, jobs at a time, and shows their progress.
type scheduler struct {
	p           *reproduction
	sio         stdio
	runs        []*liveRun
	jobs, procs int
	exe         string
	lock        *os.File
	exits       chan childExit
	interactive bool
	start       time.Time
	drawn       int // lines of the progress view on the terminal, to redraw over
	printed     time.Time
}

func newScheduler(p *reproduction, states []found, jobs int, exe string, lock *os.File, sio stdio) *scheduler {
	// The view is printed first as soon as it is shown (printed is zero): a log shows at once
	// which runs are done.
	s := &scheduler{p: p, sio: sio, exe: exe, lock: lock, exits: make(chan childExit), start: time.Now()}
	todo := 0
	for i, r := range p.runs {
		lr := &liveRun{plannedRun: r, found: states[i], state: statePending}
		lr.tail.path = erl.RunDir(filepath.Join(p.dir, r.name)).Metrics()
		if states[i].done {
			lr.state = stateDone
			lr.setTest(states[i].summary)
		} else {
			todo++
		}
		lr.tail.poll()
		s.runs = append(s.runs, lr)
	}
	// A run's share of the cores does not grow as the runs left grow fewer: the runs of a
	// time budget get alike shares.
	s.jobs, s.procs = max(1, min(jobs, todo)), coresEach(jobs)
	if f, ok := sio.err.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		s.interactive = true
	}
	return s
}

// coresEach is the share of the cores of each of jobs runs at a time: GOMAXPROCS.
func coresEach(jobs int) int { return max(1, runtime.NumCPU()/jobs) }

// setTest keeps the test success of a finished run's summary.
func (r *liveRun) setTest(s *report.Summary) {
	if s != nil && s.Test != nil {
		best, last := s.Test.Best.Sampled.Success, s.Test.Last.Sampled.Success
		r.testBest, r.testEnd = &best, &last
	}
}

func (s *scheduler) count(state runState) int { return len(s.with(state)) }

func (s *scheduler) with(state runState) []*liveRun {
	var out []*liveRun
	for _, r := range s.runs {
		if r.state == state {
			out = append(out, r)
		}
	}
	return out
}

// run trains the runs until each is done or failed, or a signal stops them: the first signal
// is passed on to every running run, which saves and stops, and no run starts after it; each
// further one is passed on too (a run stops at once at its second). It returns the first
// signal and how many came.
func (s *scheduler) run() (first os.Signal, signals int) {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	signal.Ignore(syscall.SIGPIPE) // a log reader gone away is no reason to leave the runs unwatched
	every := printEvery
	if s.interactive {
		every = redrawEvery
	}
	poll := time.NewTicker(min(pollEvery, every))
	defer poll.Stop()
	for {
		if first == nil {
			s.startRuns()
		}
		if s.count(stateRunning) == 0 {
			break
		}
		select {
		case ex := <-s.exits:
			s.exited(ex, first != nil)
		case sig := <-sigs:
			signals++
			if first == nil {
				first = sig
				s.event(fmt.Sprintf("%s: stopping every run after its current step, saved (once more stops them at once, unsaved)", sig))
			} else {
				s.event(fmt.Sprintf("%s: stopping every run at once", sig))
			}
			for _, r := range s.with(stateRunning) {
				r.cmd.Process.Signal(sig)
			}
		case <-poll.C:
		}
		for _, r := range s.with(stateRunning) {
			r.poll()
		}
		s.show(false)
	}
	s.show(true)
	return first, signals
}

// startRuns starts pending runs, in the order of the plan, while slots are free.
func (s *scheduler) startRuns() {
	for _, r := range s.with(statePending) {
		if s.count(stateRunning) >= s.jobs {
			return
		}
		if err := s.launch(r); err != nil {
			r.state, r.note = stateFailed, err.Error()
			s.event(fmt.Sprintf("%s failed to start: %v", r.name, err))
		}
	}
}

// launch starts the training process of run r, its output appended to its log.
func (s *scheduler) launch(r *liveRun) error {
	args := trainArgs(r.plannedRun, r.found)
	verb := "starts"
	switch {
	case r.found.resume:
		verb = "resumes"
	case r.found.restart:
		verb = "starts again (its run saved no checkpoint)"
	}
	logPath := filepath.Join(s.p.dir, r.logFile())
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "=== %s erlgo reproduce %s %s (GOMAXPROCS=%d, in %s): erlgo %s\n",
		time.Now().Format(time.RFC3339), verb, r.name, s.procs, s.p.dir, strings.Join(args, " "))
	cmd := exec.Command(s.exe, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = s.p.dir, log, log
	cmd.Env = append(os.Environ(), fmt.Sprintf("GOMAXPROCS=%d", s.procs))
	cmd.SysProcAttr = childProcess()
	cmd.ExtraFiles = []*os.File{s.lock} // the run holds the directory's lock while it lives
	started := make(chan error, 1)
	go func() {
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		err := cmd.Wait()
		log.Close()
		s.exits <- childExit{r, err}
	}()
	if err := <-started; err != nil {
		log.Close()
		return err
	}
	r.cmd, r.state, r.started, r.baseSet = cmd, stateRunning, time.Now(), false
	s.event(fmt.Sprintf("%s %s: erlgo %s (output: %s)", r.name, verb, strings.Join(args, " "), logPath))
	return nil
}

// exited records how a run's process ended; stopping says whether the reproduction is
// stopping, by a signal it passed on.
func (s *scheduler) exited(ex childExit, stopping bool) {
	r := ex.run
	r.cmd = nil
	r.poll()
	dir := filepath.Join(s.p.dir, r.name)
	sum, serr := report.ReadSummary(dir)
	var exit *exec.ExitError
	switch {
	case ex.err == nil && serr == nil && (sum.Status == erl.StatusFinished || sum.Status == erl.StatusTimeLimit):
		r.state = stateDone
		r.setTest(&sum)
		s.event(fmt.Sprintf("%s finished: %s", r.name, sum))
		return
	case ex.err == nil:
		r.state, r.note = stateFailed, fmt.Sprintf("its process ended, but its summary says %q (%v)", sum.Status, serr)
	case errors.As(ex.err, &exit) && exit.ExitCode() > 128:
		r.state, r.note = stateStopped, fmt.Sprintf("stopped by %s, saved", syscall.Signal(exit.ExitCode()-128))
	case errors.As(ex.err, &exit) && exit.ExitCode() < 0 && stopping:
		r.state, r.note = stateStopped, fmt.Sprintf("%v: stopped mid-step; it resumes from its last checkpoint", ex.err)
	case errors.As(ex.err, &exit) && exit.ExitCode() < 0:
		r.state, r.note = stateFailed, fmt.Sprintf("%v (out of memory?)", ex.err)
	default:
		r.state, r.note = stateFailed, fmt.Sprintf("%v: %s", ex.err, lastLine(filepath.Join(s.p.dir, r.logFile())))
	}
	s.event(fmt.Sprintf("%s %s: %s", r.name, r.state, r.note))
}

// lastLine returns the last line of the file at path that says something.
func lastLine(path string) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// poll reads what the run has added to its metrics.
func (r *liveRun) poll() {
	r.tail.poll()
	if last, ok := r.tail.last(); ok && r.state == stateRunning && !r.baseSet {
		r.baseWall, r.baseStep, r.baseSet = last.WallSeconds, last.Step, true
	}
}

// eta estimates the time left to run r, running; ok is false before it has measured how fast
// it goes.
func (s *scheduler) eta(r *liveRun) (time.Duration, bool) {
	last, ok := r.tail.last()
	if !ok || !r.baseSet {
		return 0, false
	}
	elapsed := time.Since(r.started).Seconds()
	b := s.p.budget
	if b.time > 0 {
		if last.WallSeconds <= r.baseWall {
			return 0, false
		}
		rate := elapsed / (last.WallSeconds - r.baseWall) // wall-clock a second of training time
		return seconds(max(0, b.time.Seconds()-last.WallSeconds) * rate), true
	}
	if last.Step <= r.baseStep {
		return 0, false
	}
	return seconds(float64(b.steps-last.Step) * elapsed / float64(last.Step-r.baseStep)), true
}

// totalETA estimates the time left to the whole reproduction: the running runs' times left,
// then the pending runs', each from the pace of the runs measured so far.
func (s *scheduler) totalETA() (time.Duration, bool) {
	var busy, pending []time.Duration
	var rates []float64 // wall-clock seconds a second of training time, or a step
	for _, r := range s.with(stateRunning) {
		eta, ok := s.eta(r)
		if !ok {
			return 0, false
		}
		busy = append(busy, eta)
		last, _ := r.tail.last()
		elapsed := time.Since(r.started).Seconds()
		if s.p.budget.time > 0 {
			rates = append(rates, elapsed/(last.WallSeconds-r.baseWall))
		} else {
			rates = append(rates, elapsed/float64(last.Step-r.baseStep))
		}
	}
	if len(rates) == 0 {
		return 0, s.count(statePending) == 0
	}
	var mean float64
	for _, v := range rates {
		mean += v / float64(len(rates))
	}
	for _, r := range s.with(statePending) {
		left := float64(s.p.budget.steps)
		if s.p.budget.time > 0 {
			left = s.p.remaining(r.found).Seconds()
		} else if sum := r.found.summary; sum != nil {
			left -= float64(sum.Step)
		}
		pending = append(pending, seconds(left*mean))
	}
	return makespan(busy, pending, s.jobs), true
}

func seconds(v float64) time.Duration {
	return time.Duration(v * float64(time.Second)).Round(time.Second)
}

// event shows something that happened to a run: a line of its own, above the redrawn view on
// a terminal.
func (s *scheduler) event(line string) {
	s.clear()
	fmt.Fprintf(s.sio.err, "%s %s\n", time.Now().Format("15:04:05"), line)
}

// clear erases the progress view drawn on the terminal.
func (s *scheduler) clear() {
	if s.drawn > 0 {
		fmt.Fprintf(s.sio.err, "\033[%dA\033[J", s.drawn)
		s.drawn = 0
	}
}

// show brings the progress view up to date: redrawn on a terminal, printed every printEvery
// (and at the end, final) elsewhere.
func (s *scheduler) show(final bool) {
	if !s.interactive && !final && time.Since(s.printed) < printEvery {
		return
	}
	lines := s.view()
	if s.interactive {
		s.clear()
		if _, h, err := term.GetSize(int(s.sio.err.(*os.File).Fd())); err == nil && len(lines) > h-1 {
			lines = s.compactView(lines, h-1)
		}
		if final {
			lines = lines[:1] // the last word is the events' and the report's
		}
		for _, l := range lines {
			fmt.Fprintln(s.sio.err, l)
		}
		if !final {
			s.drawn = len(lines)
		}
		return
	}
	s.printed = time.Now()
	fmt.Fprintln(s.sio.err, strings.Join(lines, "\n"))
}

// view is the progress view: a line for the reproduction, then one a run.
func (s *scheduler) view() []string {
	head := fmt.Sprintf("reproduce: %d done, %d running, %d pending, %d stopped, %d failed of %d runs; %s so far",
		s.count(stateDone), s.count(stateRunning), s.count(statePending), s.count(stateStopped), s.count(stateFailed),
		len(s.runs), time.Since(s.start).Round(time.Second))
	if s.count(stateRunning)+s.count(statePending) > 0 {
		if eta, ok := s.totalETA(); ok {
			head += fmt.Sprintf(", ETA %s", eta)
		} else {
			head += ", ETA: once the runs have measured their pace"
		}
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, r := range s.runs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", r.name, r.state, s.runStatus(r))
	}
	tw.Flush()
	return append([]string{head}, strings.Split(strings.TrimRight(b.String(), "\n"), "\n")...)
}

// compactView fits the view in height lines: the reproduction's, then the runs that are
// running, stopped or failed, then a count of the others.
func (s *scheduler) compactView(lines []string, height int) []string {
	out := []string{lines[0]}
	hidden := 0
	for i, r := range s.runs {
		if (r.state == stateRunning || r.state == stateFailed || r.state == stateStopped) && len(out) < height-1 {
			out = append(out, lines[i+1])
		} else {
			hidden++
		}
	}
	return append(out, fmt.Sprintf("  (and %d runs more, pending or done)", hidden))
}

// runStatus says how far run r has got: its step, its validation success so far (sampled,
// the last and the best), its test success once done, and its time left.
func (s *scheduler) runStatus(r *liveRun) string {
	var parts []string
	if last, ok := r.tail.last(); ok {
		step := fmt.Sprintf("step %d", last.Step)
		if s.p.budget.steps > 0 {
			step += fmt.Sprintf("/%d", s.p.budget.steps)
		} else {
			step += fmt.Sprintf(" (%s of %s)", shortDuration(seconds(last.WallSeconds)), shortDuration(s.p.budget.time))
		}
		parts = append(parts, step)
	}
	if v, ok := r.tail.lastEval(); ok {
		parts = append(parts, fmt.Sprintf("validation %.3f (best %.3f)", v, r.tail.bestEval))
	}
	switch r.state {
	case stateDone:
		if r.testEnd != nil {
			parts = append(parts, fmt.Sprintf("test %.3f (best checkpoint %.3f)", *r.testEnd, *r.testBest))
		}
	case stateRunning:
		if eta, ok := s.eta(r); ok {
			parts = append(parts, "ETA "+eta.String())
		}
	case stateFailed, stateStopped:
		parts = append(parts, r.note)
	}
	return strings.Join(parts, "  ")
}

// metricsTail follows a run's metrics.jsonl as the run appends to it, reading only what is
// new; a file replaced (a resumed run rewrites it) is read again from its start.
type metricsTail struct {
	path     string
	info     fs.FileInfo
	offset   int64
	partial  []byte
	records  int
	final    erl.Record
	eval     *float64
	bestEval float64
}

// poll reads the lines added since the last poll. A line still being written waits for the
// next.
func (m *metricsTail) poll() {
	st, err := os.Stat(m.path)
	if err != nil {
		return
	}
	if m.info == nil || !os.SameFile(m.info, st) || st.Size() < m.offset {
		*m = metricsTail{path: m.path}
	}
	m.info = st
	f, err := os.Open(m.path)
	if err != nil {
		return
	}
	defer f.Close()
	if _, err := f.Seek(m.offset, io.SeekStart); err != nil {
		return
	}
	added, err := io.ReadAll(f)
	if err != nil {
		return
	}
	m.offset += int64(len(added))
	data := append(m.partial, added...)
	end := bytes.LastIndexByte(data, '\n')
	m.partial = append([]byte(nil), data[end+1:]...)
	for _, line := range bytes.Split(data[:end+1], []byte("\n")) {
		var rec erl.Record
		if len(bytes.TrimSpace(line)) == 0 || json.Unmarshal(line, &rec) != nil {
			continue
		}
		m.final, m.records = rec, m.records+1
		if rec.EvalSampled != nil {
			if m.eval == nil || *rec.EvalSampled > m.bestEval {
				m.bestEval = *rec.EvalSampled
			}
			m.eval = rec.EvalSampled
		}
	}
}

// last returns the latest record read.
func (m *metricsTail) last() (erl.Record, bool) { return m.final, m.records > 0 }

// lastEval returns the latest validation success (sampled) read.
func (m *metricsTail) lastEval() (float64, bool) {
	if m.eval == nil {
		return 0, false
	}
	return *m.eval, true
}
