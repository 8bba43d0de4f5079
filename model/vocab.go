package model

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// The vocabularies, by name. Change a name whenever its word list changes: the name and the
// hash of the words are stored in checkpoints, and a checkpoint trained on a vocabulary this
// build does not know is refused at load.
const (
	// VocabVersion names the standard vocabulary, whose reflections are written in words.
	VocabVersion = "erlgo-vocab-1"
	// PlansVocabVersion names the plans vocabulary: the standard one's words, with the same
	// ids, followed by PlanWords, so that reflections may also name the cells of the board.
	PlansVocabVersion = "erlgo-vocab-plans-1"
)

// The vocabulary's groups of words. Board cells are the rendered symbols of DESIGN.md (Sokoban:
// player A, player on goal a, box B, box on goal b, goal C, floor D, wall E; FrozenLake: player P,
// frozen _, hole O, goal G, player in hole X, player on goal √), so the policy reads the same
// board a person does.
var (
	// Specials pad sequences, begin them, and end a generated segment.
	Specials = []string{"<pad>", "<bos>", "<eos>"}
	// Markers open the segments of a context.
	Markers = []string{
		"OBS",      // the current board follows
		"MEMORY",   // a remembered reflection follows
		"REFLECT",  // a reflection follows (given or to be written)
		"ATTEMPT",  // the actions of an earlier attempt follow
		"FEEDBACK", // the feedback on an earlier attempt follows
		"HIST",     // the actions taken so far in this attempt follow
		"ACT",      // the next token is an action
	}
	// CellWords are the board symbols.
	CellWords = []string{"A", "a", "B", "b", "C", "D", "E", "P", "_", "O", "G", "X", "√"}
	// ActionWords are the four moves.
	ActionWords = []string{"Up", "Down", "Left", "Right"}
	// FeedbackWords describe the outcome of an attempt.
	FeedbackWords = []string{"solved", "step_limit", "failed", "in_progress", "ineffective", "in_a_row", "last", "reward", "steps", "none"}
	// Digits are 0 to 9, for counts and board indices.
	Digits = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	// ReflectionWords, with the action words and digits, are what a reflection is written in.
	ReflectionWords = []string{
		"box", "player", "goal", "wall", "hole", "corner", "edge", "row", "col",
		"stuck", "blocked", "wasted", "loop", "push", "move", "go", "reach", "avoid",
		"first", "then", "again", "instead", "not", "until", "before", "after", "once", "twice",
		"above", "below", "left_of", "right_of", "toward", "away", "from", "same", "different",
		"too", "many", "few", "steps_left", ":", ",", ".",
	}
	// PlanWords are the plans vocabulary's own words: "at" and the offsets of a cell from the
	// player, rows (row-9 … row+9, down positive) and columns (col-9 … col+9, right positive),
	// as the board's positions number them; "box at row+1 col+2" names a cell the way the
	// policy sees it. With the action words they let a reflection say a plan and what to avoid
	// where.
	PlanWords = planWords()
)

// MaxOffset is the largest offset PlanWords name, in rows or columns: the farthest two cells
// of the largest board the policy sees (10×10) lie 9 apart.
const MaxOffset = 9

func planWords() []string {
	words := []string{"at"}
	for _, axis := range []string{"row", "col"} {
		for d := -MaxOffset; d <= MaxOffset; d++ {
			words = append(words, OffsetWord(axis, d))
		}
	}
	return words
}

// OffsetWord is the plan word of an offset of d rows (axis "row") or columns ("col").
func OffsetWord(axis string, d int) string { return fmt.Sprintf("%s%+d", axis, d) }

// Vocab is a closed word-level vocabulary: each word has one id.
type Vocab struct {
	words   []string
	ids     map[string]int
	hash    string
	version string
}

var (
	vocabsOnce      sync.Once
	standard, plans *Vocab
)

func buildVocabs() {
	var words []string
	for _, g := range [][]string{Specials, Markers, CellWords, ActionWords, FeedbackWords, Digits, ReflectionWords} {
		words = append(words, g...)
	}
	var err error
	if standard, err = NewVocab(words); err != nil {
		panic(err) // the word lists above are fixed; a duplicate is a programming error
	}
	if plans, err = NewVocab(slices.Concat(words, PlanWords)); err != nil {
		panic(err)
	}
	standard.version, plans.version = VocabVersion, PlansVocabVersion
}

// StandardVocab returns the vocabulary of VocabVersion.
func StandardVocab() *Vocab {
	vocabsOnce.Do(buildVocabs)
	return standard
}

// PlansVocab returns the vocabulary of PlansVocabVersion: StandardVocab's words, with the
// same ids, and PlanWords after them.
func PlansVocab() *Vocab {
	vocabsOnce.Do(buildVocabs)
	return plans
}

// Vocabs returns the vocabularies this build knows, the standard one first.
func Vocabs() []*Vocab { return []*Vocab{StandardVocab(), PlansVocab()} }

// VocabOfSize returns the known vocabulary of n words: a model's embedding table, which has a
// row for each word, says which vocabulary it reads (no two known vocabularies have the same
// size).
func VocabOfSize(n int) (*Vocab, error) {
	var known []string
	for _, v := range Vocabs() {
		if v.Size() == n {
			return v, nil
		}
		known = append(known, fmt.Sprintf("%s of %d", v.version, v.Size()))
	}
	return nil, fmt.Errorf("no vocabulary of this build has %d words (it knows %s)", n, strings.Join(known, " and "))
}

// NewVocab builds a vocabulary from distinct words; id i is words[i].
func NewVocab(words []string) (*Vocab, error) {
	v := &Vocab{words: append([]string(nil), words...), ids: make(map[string]int, len(words))}
	for i, w := range words {
		if w == "" || strings.ContainsAny(w, " \t\n") {
			return nil, fmt.Errorf("vocab: word %d (%q) is empty or holds whitespace", i, w)
		}
		if j, dup := v.ids[w]; dup {
			return nil, fmt.Errorf("vocab: word %q appears twice (ids %d and %d)", w, j, i)
		}
		v.ids[w] = i
	}
	sum := sha256.Sum256([]byte(strings.Join(words, "\n")))
	v.hash = hex.EncodeToString(sum[:])
	return v, nil
}

// Size is the number of words.
func (v *Vocab) Size() int { return len(v.words) }

// Version is the name of a vocabulary this build knows (VocabVersion, PlansVocabVersion),
// and empty for one made by NewVocab.
func (v *Vocab) Version() string { return v.version }

// Hash is the SHA-256 of the word list, stored in checkpoints.
func (v *Vocab) Hash() string { return v.hash }

// Words returns the word list in id order.
func (v *Vocab) Words() []string { return append([]string(nil), v.words...) }

// ID returns the id of word, or an error naming it.
func (v *Vocab) ID(word string) (int32, error) {
	id, ok := v.ids[word]
	if !ok {
		return 0, fmt.Errorf("vocab: unknown word %q", word)
	}
	return int32(id), nil
}

// MustID is ID for words the program itself names; an unknown word is a programming error.
func (v *Vocab) MustID(word string) int32 {
	id, err := v.ID(word)
	if err != nil {
		panic(err)
	}
	return id
}

// IDs returns the ids of words.
func (v *Vocab) IDs(words ...string) []int32 {
	ids := make([]int32, len(words))
	for i, w := range words {
		ids[i] = v.MustID(w)
	}
	return ids
}

// Encode turns space-separated words into ids; the first unknown word is an error that names it.
func (v *Vocab) Encode(text string) ([]int32, error) {
	fields := strings.Fields(text)
	ids := make([]int32, len(fields))
	for i, w := range fields {
		id, err := v.ID(w)
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	return ids, nil
}

// Word returns the word of id, or an error for an id outside the vocabulary.
func (v *Vocab) Word(id int32) (string, error) {
	if id < 0 || int(id) >= len(v.words) {
		return "", fmt.Errorf("vocab: id %d is outside [0, %d)", id, len(v.words))
	}
	return v.words[id], nil
}

// Decode turns ids into space-separated words.
func (v *Vocab) Decode(ids []int32) (string, error) {
	words := make([]string, len(ids))
	for i, id := range ids {
		w, err := v.Word(id)
		if err != nil {
			return "", err
		}
		words[i] = w
	}
	return strings.Join(words, " "), nil
}
