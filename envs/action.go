package envs

import (
	"fmt"
	"strings"
)

// Action is one move of the player.
type Action uint8

// The four moves, in the order of Actions.
const (
	Up Action = iota
	Down
	Left
	Right
)

// Actions lists every action, in a fixed order that policies may use as output indices.
var Actions = [...]Action{Up, Down, Left, Right}

var actionNames = [...]string{Up: "Up", Down: "Down", Left: "Left", Right: "Right"}

// String returns the action's name: "Up", "Down", "Left" or "Right".
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

// ParseAction parses an action name ("Up", "down", ...) or its initial (u, d, l, r), ignoring
// case.
func ParseAction(s string) (Action, error) {
	for _, a := range Actions {
		name := actionNames[a]
		if strings.EqualFold(s, name) || strings.EqualFold(s, name[:1]) {
			return a, nil
		}
	}
	return 0, fmt.Errorf("envs: unknown action %q (want Up, Down, Left, Right or u, d, l, r)", s)
}

// offset returns the row and column change of a move.
func (a Action) offset() (dr, dc int) {
	switch a {
	case Up:
		return -1, 0
	case Down:
		return 1, 0
	case Left:
		return 0, -1
	case Right:
		return 0, 1
	}
	panic(fmt.Sprintf("envs: invalid action %d", uint8(a)))
}
