package report

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/erlgo/erlgo/envs"
	"github.com/erlgo/erlgo/erl"
	"github.com/erlgo/erlgo/internal/atomicfile"
)

// ViewFile is the name of the viewer's page in a run directory.
const ViewFile = "view.html"

// viewPage is the page: its styles and script inline, the run's data in place of
// viewDataMark, so that it opens from a file, with no server and no network.
//
//go:embed view.html
var viewPage string

const (
	viewDataMark  = "/*RUN_DATA*/null"
	viewTitleMark = "<!--RUN_TITLE-->"
)

// viewData is what the page shows, as its script reads it.
type viewData struct {
	Name     string          `json:"name"`
	Summary  Summary         `json:"summary"`
	Headline string          `json:"headline"`
	Config   json.RawMessage `json:"config"`
	Metrics  []erl.Record    `json:"metrics"`
	Episodes []erl.Episode   `json:"episodes"`
	// Lift is the reflection's lift pooled over windows of steps (none where the run did not
	// measure it).
	Lift []Lift `json:"lift"`
	// Legend gives, for each environment, the symbols of its boards.
	Legend map[string][]legendEntry `json:"legend"`
}

// legendEntry is one cell kind of an environment's boards.
type legendEntry struct {
	// Symbol is the cell's symbol in the level file notation, which episodes are drawn in;
	// Policy is what the policy sees instead.
	Symbol string `json:"symbol"`
	Policy string `json:"policy"`
	Name   string `json:"name"`
}

// legends returns the legend of every environment's boards.
func legends() map[string][]legendEntry {
	out := make(map[string][]legendEntry)
	for _, env := range envs.EnvNames() {
		file, _ := envs.FileSymbols(env) // the names come from envs: no error
		policy, _ := envs.DefaultSymbols(env)
		for _, c := range envs.Cells {
			if file[c] != "" {
				out[env] = append(out[env], legendEntry{Symbol: file[c], Policy: policy[c], Name: c.String()})
			}
		}
	}
	return out
}

// View writes to w the viewer's page of the run in dir, whose records are recs and eps and
// whose summary is sum: the curves of its metrics (success, the loss and its terms, the lift
// of reflection where the run measured it, peak memory) and a browser of its episodes, filtered
// by step and outcome, each played back move by move on a drawn board.
func View(w io.Writer, dir erl.RunDir, recs []erl.Record, eps []erl.Episode, sum Summary) error {
	abs, err := filepath.Abs(string(dir))
	if err != nil {
		return err
	}
	cfg, err := os.ReadFile(filepath.Join(string(dir), "config.json"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if !json.Valid(cfg) {
		cfg = []byte("null")
	}
	data := viewData{Name: filepath.Base(abs), Summary: sum, Headline: sum.String(), Config: cfg,
		Metrics: recs, Episodes: eps, Lift: liftWindows(recs), Legend: legends()}
	if data.Lift == nil {
		data.Lift = []Lift{}
	}
	if data.Metrics == nil {
		data.Metrics = []erl.Record{}
	}
	if data.Episodes == nil {
		data.Episodes = []erl.Episode{}
	}
	js, err := json.Marshal(data) // escapes <, > and &: the data cannot end its script element
	if err != nil {
		return fmt.Errorf("report: the data of %s: %w", dir, err)
	}
	page := strings.Replace(viewPage, viewTitleMark, html.EscapeString(data.Name), 1)
	page = strings.Replace(page, viewDataMark, string(js), 1)
	_, err = io.WriteString(w, page)
	return err
}

// WriteView writes the viewer's page of the run in dir to dir's view.html, whole or not at
// all, from the given records and summary.
func WriteView(dir erl.RunDir, recs []erl.Record, eps []erl.Episode, sum Summary) error {
	return WriteViewTo(filepath.Join(string(dir), ViewFile), dir, recs, eps, sum)
}

// WriteViewTo is WriteView into the file path.
func WriteViewTo(path string, dir erl.RunDir, recs []erl.Record, eps []erl.Episode, sum Summary) error {
	return atomicfile.Write(path, func(w io.Writer) error { return View(w, dir, recs, eps, sum) })
}
