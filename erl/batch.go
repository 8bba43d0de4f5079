package erl

import (
	"math"
	"slices"

	"github.com/erlgo/erlgo/model"
)

// termKind is the part of the update a trained sequence belongs to.
type termKind int

const (
	termFirst termKind = iota
	termSecond
	termReflection
	termDistill
	// termHindsightRetry trains a retry's guided context on a solved first attempt's actions
	// (TermWeights.HindsightRetry).
	termHindsightRetry
	// termHindsightReflection trains a reflection to write a solved first attempt's actions
	// (TermWeights.HindsightReflection).
	termHindsightReflection
	numTerms
)

// supervised reports whether a term trains the likelihood of its tokens (the distillation
// term of model.Objective) rather than their policy gradient: tokens taken under another
// context than the one trained, which need no advantage.
func (t termKind) supervised() bool {
	return t == termDistill || t == termHindsightRetry || t == termHindsightReflection
}

// piece is one trained sequence: a context with its trained tokens at the end.
type piece struct {
	seq model.Sequence
	// allowed is the set the trained tokens were sampled among.
	allowed []int32
	// first is the index of the first trained token; every token from there on is trained.
	first int
	// logp is the sampling log-probability of each trained token.
	logp []float32
	adv  float32
	term termKind
	// unit identifies the attempt or reflection the piece belongs to, for sequence-mean
	// aggregation: all turns of one attempt form one unit.
	unit int
}

// updateBatch gathers the trained sequences of one step and turns them into a model.Batch with
// the weights of the chosen aggregation.
type updateBatch struct {
	pieces []piece
	units  int
	// actions and reflection are the allowed sets of action turns and of reflections.
	actions, reflection []int32
}

func newUpdateBatch(c *Contexts) *updateBatch {
	return &updateBatch{actions: c.ActionTokens, reflection: c.ReflectionTokens}
}

// newUnit returns the id of a new attempt or reflection.
func (u *updateBatch) newUnit() int {
	u.units++
	return u.units - 1
}

// carriesSignal reports whether a piece would move the policy. A policy-gradient piece with
// zero advantage (its group's rewards were all equal) has none: it is left out of the update,
// as DAPO's dynamic sampling does, which saves most of the update's work while success is rare.
func carriesSignal(adv float32, t termKind) bool { return adv != 0 || t.supervised() }

// addAttempt adds every turn of an attempt: its context followed by the action chosen. logp
// may be nil for tokens the policy did not sample in these contexts (the supervised terms).
func (u *updateBatch) addAttempt(turns []model.Sequence, tokens []int32, logp []float32, adv float32, t termKind) {
	if !carriesSignal(adv, t) {
		return
	}
	unit := u.newUnit()
	if logp == nil {
		logp = make([]float32, len(turns))
	}
	for i, ctx := range turns {
		u.pieces = append(u.pieces, piece{seq: appendToken(ctx, tokens[i]), allowed: u.actions, first: len(ctx.Tokens),
			logp: logp[i : i+1], adv: adv, term: t, unit: unit})
	}
}

// addGenerated adds a prompt followed by generated tokens, all of them trained.
func (u *updateBatch) addGenerated(prompt model.Sequence, tokens []int32, logp []float32, adv float32, t termKind) {
	if !carriesSignal(adv, t) {
		return
	}
	s := prompt
	for _, tok := range tokens {
		s = appendToken(s, tok)
	}
	u.pieces = append(u.pieces, piece{seq: s, allowed: u.reflection, first: len(prompt.Tokens), logp: logp, adv: adv, term: t, unit: u.newUnit()})
}

// appendToken returns ctx followed by tok at the next text position.
func appendToken(ctx model.Sequence, tok int32) model.Sequence {
	return model.Sequence{
		Tokens: append(slices.Clip(ctx.Tokens), tok),
		Pos:    append(slices.Clip(ctx.Pos), ctx.Pos[len(ctx.Pos)-1]+1),
	}
}

// build returns the batch with per-token weights. Each term is averaged on its own and then
// scaled by its weight: with token-mean each of its tokens counts 1/N, N its number of
// tokens; with seq-mean each of its units (attempts or reflections) counts 1/units and the
// unit's tokens share that equally. A term's pull on the update thus does not depend on how
// many tokens the other terms bring: averaged together, the reflections and second attempts
// of an ERL step, three times as many tokens as its first attempts, would leave the first
// attempts, which are what is deployed, a quarter of RLVR's weight.
func (u *updateBatch) build(w TermWeights, aggregation string) *model.Batch {
	var termTokens [numTerms]int
	var termUnits [numTerms]map[int]bool
	for i := range termUnits {
		termUnits[i] = map[int]bool{}
	}
	unitTokens := make([]int, u.units)
	for _, p := range u.pieces {
		n := len(p.seq.Tokens) - p.first
		termTokens[p.term] += n
		termUnits[p.term][p.unit] = true
		unitTokens[p.unit] += n
	}
	termWeight := [numTerms]float64{termFirst: w.First, termSecond: w.Second, termReflection: w.Reflection, termDistill: w.Distill,
		termHindsightRetry: w.HindsightRetry, termHindsightReflection: w.HindsightReflection}
	b := &model.Batch{}
	for _, p := range u.pieces {
		norm := float64(termTokens[p.term])
		if aggregation == "seq-mean" {
			norm = float64(len(termUnits[p.term]) * unitTokens[p.unit])
		}
		weight := float32(termWeight[p.term] / math.Max(norm, 1))
		seqIdx := len(b.Seqs)
		b.Seqs = append(b.Seqs, p.seq)
		for i := p.first; i < len(p.seq.Tokens); i++ {
			sc := model.Scored{Seq: seqIdx, Index: i, OldLogp: p.logp[i-p.first], RefLogp: p.logp[i-p.first], Advantage: p.adv, Allowed: p.allowed}
			if p.term.supervised() {
				sc.DistillWeight = weight
			} else {
				sc.PGWeight = weight
			}
			b.Scored = append(b.Scored, sc)
		}
	}
	return b
}

// groupAdvantages returns GRPO's advantages: each reward minus its group's mean, divided by the
// group's standard deviation; a group whose rewards are all equal teaches nothing and gets 0.
// groups[i] names the group of rewards[i].
func groupAdvantages(rewards []float64, groups []int) []float32 {
	sum, sq, n := map[int]float64{}, map[int]float64{}, map[int]float64{}
	for i, r := range rewards {
		sum[groups[i]] += r
		sq[groups[i]] += r * r
		n[groups[i]]++
	}
	adv := make([]float32, len(rewards))
	for i, r := range rewards {
		g := groups[i]
		mean := sum[g] / n[g]
		std := math.Sqrt(math.Max(0, sq[g]/n[g]-mean*mean))
		if std < 1e-6 {
			continue
		}
		adv[i] = float32((r - mean) / std)
	}
	return adv
}

// liftAdvantages returns the advantages of reflections rewarded by their lift (RewardLift):
// each guided retry's reward minus the mean reward of the plain retries of its group, divided
// by the standard deviation of the group's guided and plain rewards together; 0 where those
// are all equal. guided[k] and plain[k] are the two retries of one failed attempt, and
// groups[k] names its group.
func liftAdvantages(guided, plain []float64, groups []int) []float32 {
	both := slices.Concat(guided, plain)
	bothGroups := slices.Concat(groups, groups)
	base, n := map[int]float64{}, map[int]float64{}
	for k, r := range plain {
		base[groups[k]] += r
		n[groups[k]]++
	}
	sum, sq, m := map[int]float64{}, map[int]float64{}, map[int]float64{}
	for i, r := range both {
		g := bothGroups[i]
		sum[g] += r
		sq[g] += r * r
		m[g]++
	}
	adv := make([]float32, len(guided))
	for k, r := range guided {
		g := groups[k]
		mean := sum[g] / m[g]
		std := math.Sqrt(math.Max(0, sq[g]/m[g]-mean*mean))
		if std < 1e-6 {
			continue
		}
		adv[k] = float32((r - base[g]/n[g]) / std)
	}
	return adv
}
