package erl

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// progressBar draws training progress: one line redrawn in place on a terminal, a line every
// few steps elsewhere (logs, CI).
type progressBar struct {
	w           io.Writer
	total       int
	startStep   int
	budget      float64 // seconds of training time the run may use in all (0: no limit)
	interactive bool
	lastPrint   time.Time
	pre, post   float64
	plain       float64 // the plain retries' success, beside post (Record.SuccessPlain)
	sawPost     bool
	sawPlain    bool
	eval        string
}

func newProgressBar(w io.Writer, total, done int, budget time.Duration) *progressBar {
	f, ok := w.(*os.File)
	return &progressBar{w: w, total: total, startStep: done, budget: budget.Seconds(),
		interactive: ok && term.IsTerminal(int(f.Fd())), eval: "-"}
}

// update shows the state after a step; elapsed is the training time of this session.
func (p *progressBar) update(r Record, elapsed float64) {
	// Rates are smoothed: one step's batch is small and noisy.
	const keep = 0.8
	if r.Step == p.startStep+1 {
		p.pre = r.SuccessPre
	}
	p.pre = keep*p.pre + (1-keep)*r.SuccessPre
	if r.SuccessPost != nil {
		if !p.sawPost {
			p.post, p.sawPost = *r.SuccessPost, true
		}
		p.post = keep*p.post + (1-keep)**r.SuccessPost
	}
	if r.SuccessPlain != nil {
		if !p.sawPlain {
			p.plain, p.sawPlain = *r.SuccessPlain, true
		}
		p.plain = keep*p.plain + (1-keep)**r.SuccessPlain
	}
	post := "-"
	if p.sawPost {
		post = fmt.Sprintf("%.2f", p.post)
	}
	if p.sawPlain {
		post += fmt.Sprintf(" (plain retry %.2f)", p.plain)
	}
	p.evaluated(r)
	p.show(r.Step, elapsed, r.WallSeconds, fmt.Sprintf("success pre %.2f post %s, validation greedy/sampled %s | %.1fs/step | peak %.0f MiB",
		p.pre, post, p.eval, r.StepSeconds, r.RSSMB), r.EvalSampled != nil)
}

// show draws the bar at step with the text of the run's state: redrawn in place on a
// terminal, else a line every few seconds, at the last step, and where force is set (an
// evaluation). elapsed is the training time of this session, wall the run's in all.
func (p *progressBar) show(step int, elapsed, wall float64, text string, force bool) {
	done := step - p.startStep
	left := elapsed / float64(done) * float64(p.total-step)
	if p.budget > 0 {
		left = min(left, max(0, p.budget-wall))
	}
	width := 24
	filled := width * step / max(1, p.total)
	line := fmt.Sprintf("step %d/%d [%s%s] %s | ETA %s",
		step, p.total, strings.Repeat("=", filled), strings.Repeat(" ", width-filled), text, formatETA(left))
	if p.interactive {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		return
	}
	if time.Since(p.lastPrint) >= 10*time.Second || step == p.total || force {
		fmt.Fprintln(p.w, line)
		p.lastPrint = time.Now()
	}
}

// formatETA formats a time left, in seconds: to the second below 100 days (a Duration holds
// at most 292 years, and a run of --steps 9223372036854775807 would need more), else in days.
func formatETA(seconds float64) string {
	const day = 24 * 60 * 60
	if seconds < 100*day {
		return time.Duration(seconds * float64(time.Second)).Round(time.Second).String()
	}
	return fmt.Sprintf("%.3g days", seconds/day)
}

// evaluated shows the validation evaluation of r, if it has one.
func (p *progressBar) evaluated(r Record) {
	if r.EvalSampled != nil {
		p.eval = fmt.Sprintf("%.2f/%.2f", *r.EvalGreedy, *r.EvalSampled)
	}
}

func (p *progressBar) finish() {
	if p.interactive {
		fmt.Fprintln(p.w)
	}
}
