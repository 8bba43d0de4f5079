package model

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Decoder extends a batch of contexts one token at a time with a KV cache. The prompts are run
// through the model's graph (the same program as training, forward only), whose per-layer q|k|v
// fill the cache; each later token costs one row per sequence through the same weights. It runs
// on the model's backend: the caches, activations and logits stay in the backend's memory, and
// each step sends it the allowed tokens and random numbers and reads back the tokens drawn and
// their log-probabilities.
type Decoder struct {
	m        *Model
	be       *backend[float32]
	batch    int
	capacity int         // cached positions per sequence
	k, v     [][]float32 // per layer: batch × capacity × d_model
	lens     []int32     // cached tokens per sequence
	nextPos  []int32     // position id of each sequence's next token
	scratch  decodeScratch
	// floats and indices are every allocation the decoder made on the backend, for Close.
	floats  [][]float32
	indices [][]int32
}

// decodeScratch holds a step's activations, inputs and outputs in the backend's memory.
type decodeScratch struct {
	x, h, qkv, att, proj, fc, mean, rstd []float32
	logits                               []float32 // batch × vocabulary: what predicts each sequence's next token
	tokens, pos, lens, rows, slots       []int32
	allowed, offsets                     []int32 // the allowed tokens of every row, and where each row's start
	uniform, logp                        []float32
	drawn                                []int32
}

// NewDecoder runs the prompts and returns a decoder, ready to sample each prompt's next token,
// with room for extra more tokens per sequence. Only float32 models decode. Equal prompts run
// through the model once: the attempts of a GRPO group all start from the same context, and
// often stay together for a few turns.
func (m *Model) NewDecoder(prompts []Sequence, extra int) (*Decoder, error) {
	mem, ok := m.mem.(engine[float32])
	if !ok {
		return nil, fmt.Errorf("model: the sampler runs float32 models, not %v", m.DType)
	}
	if err := m.Validate(&Batch{Seqs: prompts}); err != nil {
		return nil, err
	}
	longest := maxLen(prompts)
	if longest+extra > m.Config.ContextLen {
		return nil, fmt.Errorf("model: a prompt of %d tokens and %d more exceed the context length %d", longest, extra, m.Config.ContextLen)
	}
	B, C, V := len(prompts), m.Config.DModel, m.Config.Vocab
	be := mem.be
	d := &Decoder{m: m, be: be, batch: B, lens: make([]int32, B), nextPos: make([]int32, B)}
	for i, s := range prompts {
		d.lens[i] = int32(len(s.Tokens))
		d.nextPos[i] = s.Pos[len(s.Pos)-1] + 1
		if last := int(d.nextPos[i]) + extra - 1; last >= m.Config.ContextLen {
			return nil, fmt.Errorf("model: prompt %d would reach position %d, outside the context length %d", i, last, m.Config.ContextLen)
		}
	}
	s := &d.scratch
	s.logits, s.uniform, s.logp = d.alloc(B*V), d.alloc(B), d.alloc(B)
	s.offsets, s.drawn = d.allocIndex(B+1), d.allocIndex(B)
	if extra > 0 { // with no token to come, the prompts' logits are all there is: no cache
		d.capacity = longest + extra
		for range m.Config.Layers {
			d.k = append(d.k, d.alloc(B*d.capacity*C))
			d.v = append(d.v, d.alloc(B*d.capacity*C))
		}
		s.x, s.h, s.qkv, s.att, s.proj = d.alloc(B*C), d.alloc(B*C), d.alloc(B*3*C), d.alloc(B*C), d.alloc(B*C)
		s.fc, s.mean, s.rstd = d.alloc(B*4*C), d.alloc(B), d.alloc(B)
		s.tokens, s.pos, s.lens, s.rows, s.slots = d.allocIndex(B), d.allocIndex(B), d.allocIndex(B), d.allocIndex(B), d.allocIndex(B)
	}
	distinct, rowsOf := distinctSequences(prompts)
	b := &Batch{Seqs: distinct}
	for u, seq := range distinct {
		b.Scored = append(b.Scored, Scored{Seq: u, Index: len(seq.Tokens)}) // the logits after the last token
	}
	upload := func(idx []int32) []int32 {
		dev := d.allocIndex(len(idx))
		be.uploadIndex(dev, idx)
		return dev
	}
	for _, mb := range m.microBatches(b) {
		p, err := m.runUpTo(logitsOnly, &mb.Batch)
		if err != nil {
			d.Close()
			return nil, err
		}
		// Each sequence takes its prompt's logits and, for every token of the prompt, the key
		// and value from that token's row of the program's q|k|v.
		var seqs, scored, kvRows, kvSlots []int32
		for i, seq := range mb.Seqs {
			for _, seqIdx := range rowsOf[mb.seqs[i]] {
				seqs, scored = append(seqs, int32(seqIdx)), append(scored, int32(i))
				for t := range seq.Tokens[:min(len(seq.Tokens), d.capacity)] { // none without a cache
					kvRows = append(kvRows, int32(i*p.key.seq+t))
					kvSlots = append(kvSlots, int32(seqIdx*d.capacity+t))
				}
			}
		}
		be.copyRows(s.logits, V, data[float32](p.out.logits), V, upload(seqs), upload(scored), V)
		if d.capacity == 0 {
			continue
		}
		kvSlotsDev, kvRowsDev := upload(kvSlots), upload(kvRows)
		for l, t := range p.out.qkv {
			qkv := data[float32](t)
			be.copyRows(d.k[l], C, qkv[C:], 3*C, kvSlotsDev, kvRowsDev, C)
			be.copyRows(d.v[l], C, qkv[2*C:], 3*C, kvSlotsDev, kvRowsDev, C)
		}
	}
	return d, nil
}

// alloc and allocIndex allocate on the backend for the decoder's life.
func (d *Decoder) alloc(n int) []float32 {
	x := d.be.alloc(n)
	d.floats = append(d.floats, x)
	return x
}

func (d *Decoder) allocIndex(n int) []int32 {
	x := d.be.allocIndex(n)
	d.indices = append(d.indices, x)
	return x
}

// Close gives the decoder's memory back to the model's backend: the caches, activations and
// inputs a device holds for it, which it would otherwise keep. The decoder must not be used
// afterwards. Generate closes the decoder it makes.
func (d *Decoder) Close() {
	if d.be.free != nil {
		for _, x := range d.floats {
			d.be.free(x)
		}
		for _, x := range d.indices {
			d.be.freeIndex(x)
		}
	}
	d.floats, d.indices = nil, nil
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

// Step appends one token to every sequence and computes the logits that predict the token
// after it. Sequences that are finished may be given any token (pad): their rows are computed
// and ignored by the caller.
func (d *Decoder) Step(tokens []int32) error {
	m, cfg := d.m, d.m.Config
	if len(tokens) != d.batch {
		return fmt.Errorf("model: %d tokens for %d sequences", len(tokens), d.batch)
	}
	for i, t := range tokens {
		if t < 0 || int(t) >= cfg.Vocab {
			return fmt.Errorf("model: token %d of sequence %d is outside the vocabulary", t, i)
		}
		if int(d.lens[i]) >= d.capacity || int(d.nextPos[i]) >= cfg.ContextLen {
			return fmt.Errorf("model: sequence %d is full (%d tokens, position %d)", i, d.lens[i], d.nextPos[i])
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
		be.copyRows(d.k[l], C, qkv[C:], 3*C, s.slots, s.rows, C)
		be.copyRows(d.v[l], C, qkv[2*C:], 3*C, s.slots, s.rows, C)
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
	for b := range B {
		d.lens[b]++
		d.nextPos[b]++
	}
	return nil
}

// Logits reads back the logits that predict each sequence's next token: for tests and
// inspection, as sampling needs only the tokens Sample draws.
func (d *Decoder) Logits() [][]float32 {
	V := d.m.Config.Vocab
	all := make([]float32, d.batch*V)
	d.be.download(all, d.scratch.logits)
	out := make([][]float32, d.batch)
	for b := range out {
		out[b] = all[b*V : (b+1)*V]
	}
	return out
}

// Sample draws each sequence's next token from its logits as sc says, among allowed[b] (every
// token when nil), with the uniform random number u[b] (ignored when sc is greedy), and returns
// the tokens and their log-probabilities at temperature 1 under the softmax over the allowed
// tokens. A sequence whose logits are not finite gets token −1.
func (d *Decoder) Sample(allowed [][]int32, u []float64, sc SampleConfig) (tokens []int32, logp []float32) {
	B, s := d.batch, &d.scratch
	offsets, ids := make([]int32, B+1), make([]int32, 0, B)
	uniform := make([]float32, B)
	for b := range B {
		ids = append(ids, allowed[b]...)
		offsets[b+1] = int32(len(ids))
		uniform[b] = float32(u[b])
	}
	if len(ids) > len(s.allowed) {
		s.allowed = d.allocIndex(len(ids))
	}
	d.be.uploadIndex(s.allowed, ids)
	d.be.uploadIndex(s.offsets, offsets)
	d.be.upload(s.uniform, uniform)
	d.be.sample(s.drawn, s.logp, s.logits, s.allowed, s.offsets, s.uniform, B, d.m.Config.Vocab, sc)
	tokens, logp = make([]int32, B), make([]float32, B)
	d.be.downloadIndex(tokens, s.drawn)
	d.be.download(logp, s.logp)
	return tokens, logp
}

// sampleRows is Decoder.Sample on the host: it draws a token from each of B rows of logits (V
// columns) among the row's allowed tokens, ids[offsets[b]:offsets[b+1]] (every token when that
// range is empty), with the uniform number u[b], and writes it and its log-probability.
func sampleRows(tokens []int32, logp, logits []float32, ids, offsets []int32, u []float32, B, V int, sc SampleConfig) {
	for b := range B {
		row := logits[b*V : (b+1)*V]
		if !finite(row) {
			tokens[b], logp[b] = -1, float32(math.NaN())
			continue
		}
		allowed := ids[offsets[b]:offsets[b+1]]
		if len(allowed) == 0 {
			allowed = nil
		}
		tokens[b] = sc.pick(row, allowed, float64(u[b]))
		logp[b] = logSoftmaxAt(row, tokens[b], allowed)
	}
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
	var u float64
	if !sc.Greedy {
		u = rng.Float64()
	}
	return sc.pick(logits, allowed, u)
}

// pick is Pick with the uniform random number u in [0, 1) that a sampled draw uses.
func (sc SampleConfig) pick(logits []float32, allowed []int32, u float64) int32 {
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
	slices.SortStableFunc(cs, func(a, b cand) int { return cmp.Compare(b.p, a.p) })
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
	r := u * kept
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
	dec, err := m.NewDecoder(prompts, opt.MaxNew-1)
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	gens := make([]Generation, len(prompts))
	done := make([]bool, len(prompts))
	allowed := make([][]int32, len(prompts))
	u := make([]float64, len(prompts))
	pad := []int32{0} // what a finished sequence draws: cheaply, and ignored
	for {
		for i := range prompts {
			allowed[i], u[i] = nil, 0
			if done[i] {
				allowed[i] = pad
				continue
			}
			if opt.Allowed != nil {
				allowed[i] = opt.Allowed(i, gens[i].Tokens)
			}
			if !opt.Sample.Greedy {
				u[i] = rng.Float64()
			}
		}
		next, logp := dec.Sample(allowed, u, opt.Sample)
		live := 0
		for i, tok := range next {
			if done[i] {
				continue
			}
			if tok < 0 {
				return nil, fmt.Errorf("model: the logits after prompt %d are not finite (a weight is NaN or Inf)", i)
			}
			gens[i].Tokens = append(gens[i].Tokens, tok)
			gens[i].Logp = append(gens[i].Logp, logp[i])
			if tok == opt.Stop || len(gens[i].Tokens) >= opt.MaxNew {
				done[i] = true
			} else {
				live++
			}
		}
		if live == 0 {
			return gens, nil
		}
		if err := dec.Step(next); err != nil {
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
