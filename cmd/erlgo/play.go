package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/erlgo/erlgo/envs"
)

const playDoc = `
Plays levels in the terminal: arrow keys or u, d, l, r move, n goes to the next level, q quits.
The levels come from --levels, in order, or else are drawn at random from --seed.

When standard input is not a terminal, commands are read a line at a time (u, d, l, r, Up,
Down, Left, Right, n, q; several on a line separated by spaces), so that play can be scripted;
the board is printed after each.`

// runPlay implements erlgo play.
func runPlay(sio stdio, args []string) error {
	fs := newFlagSet("play", "[flags]", playDoc)
	env := fs.String("env", envs.EnvSokoban, "environment: "+strings.Join(envs.EnvNames(), " or "))
	levels := fs.String("levels", "", "level set (JSON lines) to play; default: random levels")
	seed := fs.Uint64("seed", 1, "random seed of the random levels")
	symbols := fs.String("symbols", "model", "board symbols: model (what the policy sees) or file (the level file notation)")
	if err := parseFlags(fs, args, sio); err != nil {
		return err
	}
	var sym envs.SymbolMap
	var err error
	switch *symbols {
	case "model":
		sym, err = envs.DefaultSymbols(*env)
	case "file":
		sym, err = envs.FileSymbols(*env)
	default:
		return usagef("-symbols %q: want model or file", *symbols)
	}
	if err != nil {
		return usageError{err}
	}
	next, err := levelSource(*env, *levels, *seed)
	if err != nil {
		return err
	}
	p := &player{out: sio.out, sym: sym, keys: lineKeys(sio.in)}
	if f, ok := sio.in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		state, err := term.MakeRaw(int(f.Fd()))
		if err != nil {
			return err
		}
		defer term.Restore(int(f.Fd()), state)
		p.raw, p.keys = true, rawKeys(f)
	}
	return p.play(next)
}

// levelSource returns the levels to play, one a call: the file's in order, then io.EOF; or an
// endless random stream.
func levelSource(env, file string, seed uint64) (func() (title string, t envs.Task, err error), error) {
	if file == "" {
		g, err := envs.NewGenerator(env, seed)
		if err != nil {
			return nil, usageError{err}
		}
		n := 0
		return func() (string, envs.Task, error) {
			n++
			t, err := g.Next()
			return fmt.Sprintf("%s level %d (seed %d)", env, n, seed), t, err
		}, nil
	}
	tasks, err := envs.ReadLevels(file, env)
	if err != nil {
		return nil, err
	}
	if len(tasks) == 0 {
		return nil, fmt.Errorf("%s holds no levels", file)
	}
	n := 0
	return func() (string, envs.Task, error) {
		if n == len(tasks) {
			return "", envs.Task{}, io.EOF
		}
		n++
		return fmt.Sprintf("%s level %d of %d (%s)", env, n, len(tasks), file), tasks[n-1], nil
	}, nil
}

// player runs a play session.
type player struct {
	out  io.Writer
	raw  bool // the terminal is in raw mode: redraw in place, end lines with \r\n
	sym  envs.SymbolMap
	keys func() (string, error) // the next command word; io.EOF at the end of input
}

func (p *player) play(next func() (string, envs.Task, error)) error {
	for {
		title, task, err := next()
		if errors.Is(err, io.EOF) {
			p.print("That was the last level.\n")
			return nil
		}
		if err != nil {
			return err
		}
		g, err := task.New()
		if err != nil {
			return fmt.Errorf("%s: %w", title, err)
		}
		if quit, err := p.level(title, g); quit || err != nil {
			return err
		}
	}
}

// level plays one level until the player asks for the next one or quits.
func (p *player) level(title string, g envs.Game) (quit bool, err error) {
	status, note := fmt.Sprintf("Step 0 of %d.", g.MaxSteps()), ""
	for {
		p.draw(title, g, status, note)
		word, err := p.keys()
		if errors.Is(err, io.EOF) {
			return true, nil
		}
		if err != nil {
			return true, err
		}
		switch strings.ToLower(word) {
		case "q", "quit":
			return true, nil
		case "n", "next":
			return false, nil
		}
		a, err := envs.ParseAction(word)
		switch {
		case err != nil:
			note = fmt.Sprintf("Unknown command %q.", word)
		case g.Done():
			note = "The episode is over: n for the next level, q to quit."
		default:
			effect := "moved"
			if !g.Step(a).Effective {
				effect = "no effect"
			}
			status, note = fmt.Sprintf("Step %d of %d. %v: %s.", g.Steps(), g.MaxSteps(), a, effect), ""
		}
	}
}

func (p *player) draw(title string, g envs.Game, status, note string) {
	var b strings.Builder
	if p.raw {
		b.WriteString("\x1b[H\x1b[2J") // cursor home, clear screen
	}
	fmt.Fprintf(&b, "%s\n\n", title)
	for _, row := range g.Render(p.sym) {
		fmt.Fprintf(&b, "  %s\n", row)
	}
	fmt.Fprintf(&b, "\n%s\n", status)
	if g.Done() {
		fmt.Fprintf(&b, "%s\n", g.Feedback().Text())
	}
	b.WriteString(legend(p.sym, g))
	b.WriteString("Keys: arrows or u d l r move, n next level, q quit.\n")
	if note != "" {
		fmt.Fprintf(&b, "%s\n", note)
	}
	p.print(b.String())
}

// legend names the symbols of the cells on the board.
func legend(sym envs.SymbolMap, g envs.Game) string {
	var on [len(envs.Cells)]bool
	for _, row := range g.Cells() {
		for _, c := range row {
			on[c] = true
		}
	}
	var parts []string
	for _, c := range envs.Cells {
		if on[c] {
			s := sym[c]
			if strings.TrimSpace(s) == "" {
				s = fmt.Sprintf("%q", s)
			}
			parts = append(parts, s+" "+c.String())
		}
	}
	return "Legend: " + strings.Join(parts, ", ") + ".\n"
}

func (p *player) print(s string) {
	if p.raw {
		s = strings.ReplaceAll(s, "\n", "\r\n") // raw mode turns off the terminal's own translation
	}
	io.WriteString(p.out, s)
}

// lineKeys reads command words from lines of r.
func lineKeys(r io.Reader) func() (string, error) {
	sc := bufio.NewScanner(r)
	var words []string
	return func() (string, error) {
		for len(words) == 0 {
			if !sc.Scan() {
				if err := sc.Err(); err != nil {
					return "", err
				}
				return "", io.EOF
			}
			words = strings.Fields(sc.Text())
		}
		w := words[0]
		words = words[1:]
		return w, nil
	}
}

// rawKeys reads key presses from a terminal in raw mode, naming the arrow keys by the actions
// they stand for.
func rawKeys(r io.Reader) func() (string, error) {
	br := bufio.NewReader(r)
	return func() (string, error) {
		b, err := br.ReadByte()
		if err != nil {
			return "", err
		}
		switch b {
		case 3, 4: // Ctrl-C and Ctrl-D reach a raw terminal as bytes
			return "q", nil
		case 0x1b:
			// An arrow key sends ESC [ A to D, or ESC O A to D in application cursor mode.
			if c, err := br.ReadByte(); err != nil || c != '[' && c != 'O' {
				if err == nil {
					br.UnreadByte()
				}
				return "escape", nil
			}
			c, err := br.ReadByte()
			if err != nil {
				return "", err
			}
			if i := strings.IndexByte("ABCD", c); i >= 0 {
				return [...]string{"Up", "Down", "Right", "Left"}[i], nil
			}
			return "escape", nil
		}
		return string(rune(b)), nil
	}
}
