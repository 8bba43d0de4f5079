package envs

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// FuzzParseXSB feeds arbitrary text to the Sokoban parser. It must never panic; a level it
// accepts must render back to its layout in XSB, survive play, and be solvable or not without
// a panic; a level it rejects must say where, within the layout.
func FuzzParseXSB(f *testing.F) {
	for _, seed := range []string{
		"#####\n#@$.#\n#####",
		"######\n#@#. #\n# $  #\n######",
		"  ####\n  #@$.#\n  #####",
		"#######\n#.$@$.#\n#######",
		"#####\n#+$*#\n#.$ #\n#####",
		"#####\n#@$. \n#####",
		"## ##\n#@$.#\n#####",
		"#####\n#@$x#\n#####",
		"#####\n#@$$#\n#####",
		"",
		"@",
		"#\n@\n#",
	} {
		f.Add(seed, []byte("udlrrrdd"))
	}
	f.Fuzz(func(t *testing.T, level string, acts []byte) {
		layout := strings.Split(level, "\n")
		s, err := ParseSokoban(layout, 8)
		if err != nil {
			var le *LayoutError
			if !errors.As(err, &le) {
				t.Fatalf("error %v is not a *LayoutError", err)
			}
			if le.Row < 0 || le.Row > len(layout) || le.Row > 0 && (le.Col < 1 || le.Col > len([]rune(layout[le.Row-1]))) {
				t.Fatalf("error position row %d, column %d is outside the layout", le.Row, le.Col)
			}
			return
		}
		if got := s.Render(XSBSymbols); !slices.Equal(got, layout) {
			t.Fatalf("rendered %q, parsed %q", got, layout)
		}
		boxes := strings.Count(level, "$") + strings.Count(level, "*")
		for _, b := range acts {
			s.Step(Actions[b%4])
		}
		after := strings.Join(s.Render(XSBSymbols), "\n")
		if n := strings.Count(after, "$") + strings.Count(after, "*"); n != boxes {
			t.Fatalf("%d boxes became %d", boxes, n)
		}
		if _, err := s.Solve(SolveLimits{MaxStates: 2000}); err != nil && !errors.Is(err, ErrUnsolvable) && !errors.Is(err, ErrSearchLimit) {
			t.Fatalf("Solve: %v", err)
		}
	})
}
