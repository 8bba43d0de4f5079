package model

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"gorgonia.org/tensor"
)

// Decoder extends a batch of contexts one token at a time with a KV cache. The prompts are run
// through the model's graph (the same program as training, forward only), whose per-layer q|k|v
// fill the cache; each later token costs one row per sequence through the same weights. It runs
// on the model's backend: the caches and activations stay in the backend's memory, and each
// step sends it the new tokens and reads back the logits.
type Decoder struct {
	m        *Model
	be       *backend[float32]
	batch    int
	capacity int         // cached positions per sequence
	k, v     [][]float32 // per layer: batch × capacity × d_model
	lens     []int32     // cached tokens per sequence
	nextPos  []int32     // position id of each sequence's next token
	scratch  decodeScratch
}

// decodeScratch holds a step's activations and inputs in the backend's memory, and the
// logits it reads back.
type decodeScratch struct {
	x, h, qkv, att, proj, fc, mean, rstd, logits []float32
	tokens, pos, lens, rows, slots               []int32
	hostLogits                                   []float32
}

// NewDecoder runs the prompts and returns a decoder with room for extra more tokens per
// sequence, and the logits that predict each prompt's next token. Only float32 models decode.
// Equal prompts run through the model once: the attempts of a GRPO group all start from the
// same context, and often stay together for a few turns.
func (m *Model) NewDecoder(prompts []Sequence, extra int) (*Decoder, [][]float32, error) {
	mem, ok := m.mem.(engine[float32])
	if !ok {
		return nil, nil, fmt.Errorf("model: the sampler runs float32 models, not %v", m.DType)
	}
	if err := m.Validate(&Batch{Seqs: prompts}); err != nil {
		return nil, nil, err
	}
	longest := maxLen(prompts)
	if longest+extra > m.Config.ContextLen {
		return nil, nil, fmt.Errorf("model: a prompt of %d tokens and %d more exceed the context length %d", longest, extra, m.Config.ContextLen)
	}
	B, C, V := len(prompts), m.Config.DModel, m.Config.Vocab
	be := mem.be
	d := &Decoder{m: m, be: be, batch: B, lens: make([]int32, B), nextPos: make([]int32, B)}
	for i, s := range prompts {
		d.lens[i] = int32(len(s.Tokens))
		d.nextPos[i] = s.Pos[len(s.Pos)-1] + 1
		if last := int(d.nextPos[i]) + extra - 1; last >= m.Config.ContextLen {
			return nil, nil, fmt.Errorf("model: prompt %d would reach position %d, outside the context length %d", i, last, m.Config.ContextLen)
		}
	}
	if extra > 0 { // with no token to come, the prompts' logits are all there is: no cache
		d.capacity = longest + extra
		for range m.Config.Layers {
			d.k = append(d.k, be.alloc(B*d.capacity*C))
			d.v = append(d.v, be.alloc(B*d.capacity*C))
		}
		s := &d.scratch
		s.x, s.h, s.qkv, s.att, s.proj = be.alloc(B*C), be.alloc(B*C), be.alloc(B*3*C), be.alloc(B*C), be.alloc(B*C)
		s.fc, s.mean, s.rstd, s.logits = be.alloc(B*4*C), be.alloc(B), be.alloc(B), be.alloc(B*V)
		s.tokens, s.pos, s.lens = be.allocIndex(B), be.allocIndex(B), be.allocIndex(B)
		s.rows, s.slots = be.allocIndex(B), be.allocIndex(B)
		s.hostLogits = make([]float32, B*V)
	}
	distinct, rowsOf := distinctSequences(prompts)
	b := &Batch{Seqs: distinct}
	for u, s := range distinct {
		b.Scored = append(b.Scored, Scored{Seq: u, Index: len(s.Tokens)}) // the logits after the last token
	}
	logits := make([][]float32, len(prompts))
	for _, mb := range m.microBatches(b) {
		p, err := m.forward(&mb.Batch)
		if err != nil {
			return nil, nil, err
		}
		if d.capacity > 0 {
			// Every token of every prompt, from its row of the program's q|k|v to its slot in
			// the cache of each sequence that starts with that prompt.
			var rows, slots []int32
			for s, seq := range mb.Seqs {
				for _, seqIdx := range rowsOf[mb.seqs[s]] {
					for t := range seq.Tokens {
						rows = append(rows, int32(s*p.key.seq+t))
						slots = append(slots, int32(seqIdx*d.capacity+t))
					}
				}
			}
			rowsDev, slotsDev := be.allocIndex(len(rows)), be.allocIndex(len(slots))
			be.uploadIndex(rowsDev, rows)
			be.uploadIndex(slotsDev, slots)
			for l, node := range p.qkv {
				be.appendKV(d.k[l], d.v[l], data[float32](node.Value().(*tensor.Dense)), rowsDev, slotsDev, C)
			}
		}
		all := make([]float32, len(mb.Scored)*V)
		be.download(all, data[float32](p.logits.Value().(*tensor.Dense))[:len(all)])
		for s := range mb.Scored {
			for _, row := range rowsOf[mb.seqs[s]] {
				logits[row] = slices.Clone(all[s*V : (s+1)*V])
			}
		}
	}
	return d, logits, nil
}

// distinctSequences returns the distinct sequences among seqs, in order of first appearance,
// and for each the indices in seqs where it appears.
func distinctSequences(seqs []Sequence) ([]Sequence, [][]int) {
	var distinct []Sequence
	var rowsOf [][]int
	index := map[string]int{}
	key := make([]byte, 0, 512)
	for i, s := range seqs {
		key = key[:0]
		for k, t := range s.Tokens {
			key = binary.LittleEndian.AppendUint32(key, uint32(t))
			key = binary.LittleEndian.AppendUint32(key, uint32(s.Pos[k]))
		}
		u, seen := index[string(key)]
		if !seen {
			u = len(distinct)
			index[string(key)] = u
			distinct = append(distinct, s)
			rowsOf = append(rowsOf, nil)
		}
		rowsOf[u] = append(rowsOf[u], i)
	}
	return distinct, rowsOf
}

// Step appends one token to every sequence and returns the logits that predict the token after
// it. Sequences that are finished may be given any token (pad): their rows are computed and
// ignored by the caller.
func (d *Decoder) Step(tokens []int32) ([][]float32, error) {
	m, cfg := d.m, d.m.Config
	if len(tokens) != d.batch {
		return nil, fmt.Errorf("model: %d tokens for %d sequences", len(tokens), d.batch)
	}
	for i, t := range tokens {
		if t < 0 || int(t) >= cfg.Vocab {
			return nil, fmt.Errorf("model: token %d of sequence %d is outside the vocabulary", t, i)
		}
		if int(d.lens[i]) >= d.capacity || int(d.nextPos[i]) >= cfg.ContextLen {
			return nil, fmt.Errorf("model: sequence %d is full (%d tokens, position %d)", i, d.lens[i], d.nextPos[i])
		}
	}
	B, C, V := d.batch, cfg.DModel, cfg.Vocab
	be, s := d.be, &d.scratch
	x, h, qkv, att, proj, fc, mean, rstd := s.x, s.h, s.qkv, s.att, s.proj, s.fc, s.mean, s.rstd
	w := func(name string) []float32 { return data[float32](m.byName[name].Value) }
	linear := func(out, in []float32, name string, outDim, inDim int) {
		be.gemm(false, true, B, outDim, inDim, 1, in, inDim, w(name+".weight"), inDim, 0, out, outDim)
		be.addBias(out, w(name+".bias"), B, outDim)
	}
	layerNorm := func(out, in []float32, name string) {
		be.layerNormForward(out, mean, rstd, in, w(name+".weight"), w(name+".bias"), B, C)
	}

	// The step's inputs: its tokens at their positions, each sequence's next cache slot, and
	// how many cached rows each sequence's query attends, its own included.
	rows, slots, lens := make([]int32, B), make([]int32, B), make([]int32, B)
	for b := range B {
		rows[b], slots[b], lens[b] = int32(b), int32(b*d.capacity)+d.lens[b], d.lens[b]+1
	}
	be.uploadIndex(s.tokens, tokens)
	be.uploadIndex(s.pos, d.nextPos)
	be.uploadIndex(s.lens, lens)
	be.uploadIndex(s.rows, rows)
	be.uploadIndex(s.slots, slots)

	be.embeddingForward(x, w("wte"), w("wpe"), s.tokens, s.pos, C)
	for l := range cfg.Layers {
		p := fmt.Sprintf("h.%d.", l)
		layerNorm(h, x, p+"ln_1")
		linear(qkv, h, p+"attn.c_attn", 3*C, C)
		be.appendKV(d.k[l], d.v[l], qkv, s.rows, s.slots, C)
		be.attentionStep(att, qkv, d.k[l], d.v[l], s.lens, B, d.capacity, C, cfg.Heads)
		linear(proj, att, p+"attn.c_proj", C, C)
		be.add(x, x, proj)
		layerNorm(h, x, p+"ln_2")
		linear(fc, h, p+"mlp.c_fc", 4*C, C)
		be.geluForward(fc, fc)
		linear(proj, fc, p+"mlp.c_proj", C, 4*C)
		be.add(x, x, proj)
	}
	layerNorm(h, x, "ln_f")
	be.gemm(false, true, B, V, C, 1, h, C, w("wte"), C, 0, s.logits, V) // the head is tied to the embedding
	be.download(s.hostLogits, s.logits)
	out := make([][]float32, B)
	for b := range B {
		d.lens[b]++
		d.nextPos[b]++
		out[b] = slices.Clone(s.hostLogits[b*V : (b+1)*V])
	}
	return out, nil
}

// SampleConfig says how a token is drawn from the allowed ones.
type SampleConfig struct {
	// Greedy takes the most likely allowed token; the other fields are then ignored.
	Greedy bool `json:"greedy"`
	// Temperature divides the logits (1 when 0).
	Temperature float64 `json:"temperature"`
	// TopK keeps the k most likely allowed tokens (0: all).
	TopK int `json:"top_k"`
	// TopP keeps the smallest set of most likely tokens whose probability reaches p (0 or 1: all).
	TopP float64 `json:"top_p"`
}

// Pick draws a token from logits restricted to allowed (all tokens when allowed is nil).
func (sc SampleConfig) Pick(logits []float32, allowed []int32, rng *rand.Rand) int32 {
	cands := allowed
	if cands == nil {
		cands = make([]int32, len(logits))
		for i := range cands {
			cands[i] = int32(i)
		}
	}
	if sc.Greedy {
		best := cands[0]
		for _, c := range cands[1:] {
			if logits[c] > logits[best] {
				best = c
			}
		}
		return best
	}
	temp := sc.Temperature
	if temp <= 0 {
		temp = 1
	}
	type cand struct {
		id int32
		p  float64
	}
	cs := make([]cand, len(cands))
	mx := math.Inf(-1)
	for i, c := range cands {
		cs[i] = cand{c, float64(logits[c]) / temp}
		mx = math.Max(mx, cs[i].p)
	}
	var sum float64
	for i := range cs {
		cs[i].p = math.Exp(cs[i].p - mx)
		sum += cs[i].p
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].p > cs[j].p })
	if sc.TopK > 0 && sc.TopK < len(cs) {
		cs = cs[:sc.TopK]
	}
	if sc.TopP > 0 && sc.TopP < 1 {
		var acc float64
		for i := range cs {
			acc += cs[i].p / sum
			if acc >= sc.TopP {
				cs = cs[:i+1]
				break
			}
		}
	}
	var kept float64
	for _, c := range cs {
		kept += c.p
	}
	r := rng.Float64() * kept
	for _, c := range cs {
		if r -= c.p; r < 0 {
			return c.id
		}
	}
	return cs[len(cs)-1].id
}

// Generation is what Generate wrote after one prompt.
type Generation struct {
	Tokens []int32
	// Logp is each token's log-probability at temperature 1 under the softmax over the tokens that
	// were allowed there: the "old" log-probability that the objective's ratio divides by.
	Logp []float32
}

// GenerateOptions bound and constrain generation.
type GenerateOptions struct {
	// MaxNew is the most tokens written after a prompt.
	MaxNew int
	// Stop ends a sequence once written (a negative id: none).
	Stop int32
	// Allowed returns the tokens that may follow prompt i's generated tokens (nil: any), so no
	// sample is wasted on a malformed output.
	Allowed func(i int, generated []int32) []int32
	Sample  SampleConfig
}

// Generate extends every prompt by up to opt.MaxNew tokens.
func (m *Model) Generate(prompts []Sequence, opt GenerateOptions, rng *rand.Rand) ([]Generation, error) {
	if opt.MaxNew < 1 {
		return nil, fmt.Errorf("model: MaxNew %d must be positive", opt.MaxNew)
	}
	dec, logits, err := m.NewDecoder(prompts, opt.MaxNew-1)
	if err != nil {
		return nil, err
	}
	gens := make([]Generation, len(prompts))
	done := make([]bool, len(prompts))
	next := make([]int32, len(prompts))
	for step := 0; ; step++ {
		live := 0
		for i := range prompts {
			if done[i] {
				continue
			}
			if !finite(logits[i]) {
				return nil, fmt.Errorf("model: the logits after prompt %d are not finite (a weight is NaN or Inf)", i)
			}
			var allowed []int32
			if opt.Allowed != nil {
				allowed = opt.Allowed(i, gens[i].Tokens)
			}
			tok := opt.Sample.Pick(logits[i], allowed, rng)
			gens[i].Tokens = append(gens[i].Tokens, tok)
			gens[i].Logp = append(gens[i].Logp, logSoftmaxAt(logits[i], tok, allowed))
			next[i] = tok
			if tok == opt.Stop || len(gens[i].Tokens) >= opt.MaxNew {
				done[i] = true
			} else {
				live++
			}
		}
		if live == 0 {
			return gens, nil
		}
		for i := range next {
			if done[i] {
				next[i] = 0
			}
		}
		if logits, err = dec.Step(next); err != nil {
			return nil, err
		}
	}
}

func finite(xs []float32) bool {
	for _, x := range xs {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
}
