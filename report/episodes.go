package report

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/erlgo/erlgo/erl"
	"github.com/erlgo/erlgo/internal/atomicfile"
)

// EpisodesTextFile is the name of the episodes of a run as text, in its directory.
const EpisodesTextFile = "episodes.txt"

// WriteEpisodesText writes into the run directory dir episodes.txt: for each step of eps, one
// of its episodes as text (a retried one where there is one, a different one each step), its
// boards in the level file notation. The viewer (View) shows them all.
func WriteEpisodesText(dir string, eps []erl.Episode) error {
	return atomicfile.Write(filepath.Join(dir, EpisodesTextFile), func(w io.Writer) error {
		for _, step := range episodesByStep(eps) {
			if _, err := io.WriteString(w, episodeText(pickEpisode(step))); err != nil {
				return err
			}
		}
		return nil
	})
}

// episodesByStep splits eps, in step order as a run logs them, into the episodes of each step.
func episodesByStep(eps []erl.Episode) [][]erl.Episode {
	var steps [][]erl.Episode
	for i, e := range eps {
		if i == 0 || e.Step != eps[i-1].Step {
			steps = append(steps, nil)
		}
		steps[len(steps)-1] = append(steps[len(steps)-1], e)
	}
	return steps
}

// pickEpisode returns the episode of a step to show: a retried one where there is one, chosen
// by the step so that successive steps show different tasks.
func pickEpisode(step []erl.Episode) erl.Episode {
	var retried []erl.Episode
	for _, e := range step {
		if e.Second != nil {
			retried = append(retried, e)
		}
	}
	if len(retried) > 0 {
		return retried[step[0].Step%len(retried)]
	}
	return step[step[0].Step%len(step)]
}

// Outcome says in words how an episode ended.
func Outcome(e erl.Episode) string {
	switch {
	case e.First.Solved:
		return "solved on the first attempt"
	case e.Second == nil:
		return "failed, not retried"
	case e.Second.Solved:
		return "failed, then solved on the second attempt"
	}
	return "failed on both attempts"
}

func episodeText(e erl.Episode) string {
	var b strings.Builder
	fmt.Fprintf(&b, "=== step %d, task %d, attempt %d: %s ===\n", e.Step, e.Task+1, e.Attempt+1, Outcome(e))
	fmt.Fprintf(&b, "level (%s, at most %d moves", e.Env, e.MaxSteps)
	if e.Moves > 0 {
		fmt.Fprintf(&b, "; solvable in %d", e.Moves)
	}
	fmt.Fprintf(&b, "):\n%s\n", strings.Join(e.Layout, "\n"))
	attempt := func(title string, a *erl.EpisodeAttempt) {
		fmt.Fprintf(&b, "%s: %s\nfeedback: %s\nboard at the end:\n%s\n", title, strings.Join(a.Actions, " "), a.Feedback,
			strings.Join(a.Boards[len(a.Boards)-1], "\n"))
	}
	attempt("first attempt", &e.First)
	if e.Second != nil {
		if e.Reflection != nil {
			fmt.Fprintf(&b, "reflection: %s\n", *e.Reflection)
		} else {
			b.WriteString("reflection: (none: the second attempt sees the first attempt and its feedback)\n")
		}
		attempt("second attempt", e.Second)
	}
	b.WriteString("\n")
	return b.String()
}
