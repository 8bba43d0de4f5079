package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Param is one named weight tensor of the model with its gradient buffer.
type Param struct {
	Name  string
	Value *tensor.Dense
	// Grad accumulates the gradient over the micro-batches of one update.
	Grad *tensor.Dense
}

type initKind int

const (
	initNormal   initKind = iota // N(0, 0.02)
	initResidual                 // N(0, 0.02/sqrt(2·layers)): projections into the residual stream, as GPT-2
	initZeros
	initOnes
	// initSinusoid: the sinusoids of Vaswani et al. at the scale of initNormal, so that from the
	// first step the position of a token (and, for position ids laid out as a grid, roughly its
	// row and column) can be read linearly from its embedding, rather than learned one id at a time.
	initSinusoid
)

type paramShape struct {
	name  string
	shape []int
	init  initKind
}

func (s paramShape) size() int {
	n := 1
	for _, d := range s.shape {
		n *= d
	}
	return n
}

// paramShapes lists the parameters in their fixed order, with GPT-2's names and PyTorch's
// layouts (a Linear weight is out×in), so a checkpoint opens as a PyTorch state dict.
func (c Config) paramShapes() []paramShape {
	d := c.DModel
	ps := []paramShape{
		{"wte", []int{c.Vocab, d}, initNormal},
		{"wpe", []int{c.ContextLen, d}, initSinusoid},
	}
	for l := range c.Layers {
		p := fmt.Sprintf("h.%d.", l)
		ps = append(ps,
			paramShape{p + "ln_1.weight", []int{d}, initOnes},
			paramShape{p + "ln_1.bias", []int{d}, initZeros},
			paramShape{p + "attn.c_attn.weight", []int{3 * d, d}, initNormal},
			paramShape{p + "attn.c_attn.bias", []int{3 * d}, initZeros},
			paramShape{p + "attn.c_proj.weight", []int{d, d}, initResidual},
			paramShape{p + "attn.c_proj.bias", []int{d}, initZeros},
			paramShape{p + "ln_2.weight", []int{d}, initOnes},
			paramShape{p + "ln_2.bias", []int{d}, initZeros},
			paramShape{p + "mlp.c_fc.weight", []int{4 * d, d}, initNormal},
			paramShape{p + "mlp.c_fc.bias", []int{4 * d}, initZeros},
			paramShape{p + "mlp.c_proj.weight", []int{d, 4 * d}, initResidual},
			paramShape{p + "mlp.c_proj.bias", []int{d}, initZeros},
		)
	}
	return append(ps,
		paramShape{"ln_f.weight", []int{d}, initOnes},
		paramShape{"ln_f.bias", []int{d}, initZeros})
}

// Model is the policy: a Config, its parameters, and the compiled Gorgonia programs that run
// them, one per batch shape.
type Model struct {
	Config Config
	// DType is tensor.Float32 for training; tests build float64 models for gradient checks.
	DType  tensor.Dtype
	Params []*Param
	byName map[string]*Param

	// MicroBatch is the number of sequences per run of the graph; a Batch with more is split.
	MicroBatch int

	mem      memory // the backend that holds the parameters and runs the programs
	programs map[programKey]*program
	uses     int64 // a clock for dropping the least recently used program
	// scratch is the *arena[T] of the model's element type in which its programs' buffers
	// live, made with the first program, or shared with another model (ShareBuffers);
	// layouts are where each shape's buffers lie in it, kept when a program is dropped.
	scratch any
	layouts map[programKey]*layout
}

// New builds a model with freshly initialised weights drawn from seed, on the host: float32
// on package kernels, float64 on their references.
func New(cfg Config, dtype tensor.Dtype, seed uint64) (*Model, error) {
	switch dtype {
	case tensor.Float32:
		return newOn(engine[float32]{be: cpuKernels}, cfg, seed)
	case tensor.Float64:
		return newOn(engine[float64]{be: references}, cfg, seed)
	}
	return nil, fmt.Errorf("model: dtype %v is not float32 or float64", dtype)
}

// newOn builds a model whose parameters live on, and whose programs run on, mem's backend.
func newOn[T float](mem engine[T], cfg Config, seed uint64) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Model{Config: cfg, DType: mem.be.dtype, mem: mem, byName: map[string]*Param{}, MicroBatch: 32,
		programs: map[programKey]*program{}, layouts: map[programKey]*layout{}}
	rng := rand.New(rand.NewPCG(seed, 0x65726c676f)) // "erlgo"
	resStd := 0.02 / math.Sqrt(2*float64(cfg.Layers))
	for _, s := range cfg.paramShapes() {
		values := make([]float64, s.size())
		for i := range values {
			switch s.init {
			case initNormal:
				values[i] = 0.02 * rng.NormFloat64()
			case initResidual:
				values[i] = resStd * rng.NormFloat64()
			case initOnes:
				values[i] = 1
			case initSinusoid:
				pos, k := i/s.shape[1], i%s.shape[1]
				angle := float64(pos) / math.Pow(10000, float64(k/2*2)/float64(s.shape[1]))
				values[i] = 0.02 * math.Sqrt2 * math.Cos(angle-float64(k%2)*math.Pi/2) // sin for odd k
			}
		}
		p := &Param{Name: s.name, Value: mem.newTensor(s.shape...), Grad: mem.newTensor(s.shape...)}
		setFloats(p.Value, values)
		m.Params = append(m.Params, p)
		m.byName[s.name] = p
	}
	return m, nil
}

// ShareBuffers makes m lay the buffers of its programs out in the memory of other's, so that
// the two hold the memory of one largest program between them. The two must never run at the
// same time; a policy and the reference it passes to Gradients, which runs between the
// policy's own programs, may share. m must be of other's element type and backend and must not
// have run yet.
func (m *Model) ShareBuffers(other *Model) error {
	if m.mem != other.mem {
		return fmt.Errorf("model: cannot share buffers between models on different backends (%T, %T)", m.mem, other.mem)
	}
	if len(m.programs) > 0 {
		return fmt.Errorf("model: ShareBuffers after the model has run (%d programs built)", len(m.programs))
	}
	if other.scratch == nil {
		other.scratch = other.mem.newArena()
	}
	m.scratch = other.scratch
	return nil
}

// Param returns the parameter called name, or nil.
func (m *Model) Param(name string) *Param { return m.byName[name] }

// CopyWeightsFrom sets m's weights to src's; the configs must match.
func (m *Model) CopyWeightsFrom(src *Model) error {
	if m.Config != src.Config {
		return fmt.Errorf("model: config %+v differs from %+v", m.Config, src.Config)
	}
	for i, p := range m.Params {
		setFloats(p.Value, floatsOf(src.Params[i].Value))
	}
	return nil
}

// floatsOf copies a tensor's values to the host, as float64.
func floatsOf(t *tensor.Dense) []float64 { return memoryOf(t).read(t) }

// setFloats copies values from the host into a tensor.
func setFloats(t *tensor.Dense, values []float64) { memoryOf(t).write(t, values) }

// Sequence is one context: token ids and the position id of each token. Position ids are not
// simply 0, 1, 2, ...: the context builders number board cells by their offset from the player
// (see package erl), so that a situation has the same position embeddings wherever on the
// board it happens.
type Sequence struct {
	Tokens, Pos []int32
}

// Scored is one token whose log-probability the objective scores: Tokens[Index] of sequence Seq,
// predicted from the tokens before it, with its per-token objective inputs.
type Scored struct {
	Seq, Index int
	// OldLogp is the log-probability under the policy that sampled the token; RefLogp under the
	// frozen reference policy.
	OldLogp, RefLogp float32
	// Advantage is the token's sequence's GRPO advantage.
	Advantage float32
	// PGWeight and DistillWeight select the token's term and carry the aggregation (see Objective).
	PGWeight, DistillWeight float32
	// Allowed, when not nil, is the set of tokens the policy chooses among at this position (as
	// constrained decoding sampled it): the token's probability is the softmax over these alone.
	// Without it, probability mass that training pushes off the sampled tokens would pile up on
	// tokens that are never sampled, and the log-probabilities would drift without bound.
	Allowed []int32
}

// Batch is a set of sequences and the tokens of them to score.
type Batch struct {
	Seqs   []Sequence
	Scored []Scored
}

// Validate reports a batch the model cannot run: an id outside the vocabulary, a position
// outside the context, a scored index outside its sequence.
func (m *Model) Validate(b *Batch) error {
	for s, seq := range b.Seqs {
		if len(seq.Tokens) == 0 || len(seq.Tokens) != len(seq.Pos) {
			return fmt.Errorf("sequence %d: %d tokens but %d positions", s, len(seq.Tokens), len(seq.Pos))
		}
		if len(seq.Tokens) > m.Config.ContextLen {
			return fmt.Errorf("sequence %d: %d tokens exceed the context length %d", s, len(seq.Tokens), m.Config.ContextLen)
		}
		for i, t := range seq.Tokens {
			if t < 0 || int(t) >= m.Config.Vocab {
				return fmt.Errorf("sequence %d, token %d: id %d is outside the vocabulary", s, i, t)
			}
			if p := seq.Pos[i]; p < 0 || int(p) >= m.Config.ContextLen {
				return fmt.Errorf("sequence %d, token %d: position %d is outside [0, %d)", s, i, p, m.Config.ContextLen)
			}
		}
	}
	seen := make([]bool, m.Config.Vocab)
	for i, sc := range b.Scored {
		if sc.Seq < 0 || sc.Seq >= len(b.Seqs) || sc.Index < 1 || sc.Index >= len(b.Seqs[sc.Seq].Tokens) {
			return fmt.Errorf("scored token %d: (sequence %d, index %d) is not a token with a predecessor", i, sc.Seq, sc.Index)
		}
		if sc.Allowed == nil {
			continue
		}
		clear(seen)
		for _, a := range sc.Allowed {
			if a < 0 || int(a) >= m.Config.Vocab || seen[a] {
				return fmt.Errorf("scored token %d: allowed token %d is outside the vocabulary or repeated", i, a)
			}
			seen[a] = true
		}
		if !seen[b.Seqs[sc.Seq].Tokens[sc.Index]] {
			return fmt.Errorf("scored token %d: token %d is not among its allowed tokens", i, b.Seqs[sc.Seq].Tokens[sc.Index])
		}
	}
	return nil
}

type programKey struct {
	batch, seq, scored int
	kind               programKind
}

// programKind says how far a program goes beyond the logits of the scored tokens.
type programKind int

const (
	logitsOnly programKind = iota // the logits: prompts' for the sampler, any for inspection
	logProbs                      // and the log-probability of each scored token, over its allowed set
	training                      // and the objective and its gradients
)

// program is the model's graph compiled for one batch shape: B sequences of T tokens with M
// scored tokens, as far as its kind goes.
type program struct {
	key                              programKey
	lastUse                          int64
	vm                               G.VM
	tokens, pos, lens, rows, targets *G.Node
	columns                          []*G.Node // the objective's per-token inputs, tokenColumns order
	params                           []*G.Node
	grads                            G.Nodes
	qkv                              []*G.Node // each layer's packed q|k|v, for the sampler's KV cache
	logits, logp, loss               *G.Node
	objective                        objectiveState
	// runInArena runs the program's instructions with its buffers in the model's arena, as lay
	// places them.
	runInArena func(lay *layout, instructions func() error, results func() []*tensor.Dense) error
	lay        *layout
	// inputs are the tensors of its input nodes, in the order buildProgram makes them.
	inputs []*tensor.Dense
	// out holds, after a run, the values of the nodes the model reads.
	out                               programResults
	tokenBuf, posBuf, lensBuf, rowBuf *tensor.Dense
	targetBuf                         *tensor.Dense
	mask                              *G.Node // added to the logits: 0 where allowed, maskedLogit elsewhere
	maskBuf                           *tensor.Dense
	columnBufs                        []*tensor.Dense
}

// build compiles the model's graph for a shape, on the backend of its element type.
func (m *Model) build(key programKey, obj Objective) (*program, error) {
	return m.mem.build(m, key, obj)
}

// buildProgram defines the transformer: the one definition of the network, for every batch
// shape, for training and for sampling.
func buildProgram[T float](m *Model, be *backend[T], key programKey, obj Objective) (*program, error) {
	cfg, dt := m.Config, be.dtype
	g := G.NewGraph()
	p := &program{key: key, lay: m.layoutOf(key)}
	// A program of this shape that the model dropped (see Model.program) left its inputs, in
	// the order they are made here, so that rebuilding it allocates nothing on the backend.
	reuse := p.lay.inputs
	p.lay.inputs = nil
	input := func(make func() *tensor.Dense) *tensor.Dense {
		var t *tensor.Dense
		if len(reuse) > 0 {
			t, reuse = reuse[0], reuse[1:]
		} else {
			t = make()
		}
		p.inputs = append(p.inputs, t)
		return t
	}
	n := key.batch * key.seq
	intVec := func(name string, size int) (*G.Node, *tensor.Dense) {
		buf := input(func() *tensor.Dense { return be.newIndexTensor(size) })
		return G.NewVector(g, tensor.Int32, G.WithShape(size), G.WithName(name), G.WithValue(buf)), buf
	}
	p.tokens, p.tokenBuf = intVec("tokens", n)
	p.pos, p.posBuf = intVec("pos", n)
	p.lens, p.lensBuf = intVec("lens", key.batch)
	p.rows, p.rowBuf = intVec("scored_rows", key.scored)
	p.targets, p.targetBuf = intVec("targets", key.scored)

	w := map[string]*G.Node{}
	for _, prm := range m.Params {
		node := G.NodeFromAny(g, prm.Value, G.WithName(prm.Name))
		p.params = append(p.params, node)
		w[prm.Name] = node
	}

	var err error
	must := func(node *G.Node, e error) *G.Node {
		if err == nil && e != nil {
			err = e
		}
		return node
	}
	linear := func(x *G.Node, name string) *G.Node {
		return must(apply(newLinear(be, true), x, w[name+".weight"], w[name+".bias"]))
	}
	layerNorm := func(x *G.Node, name string) *G.Node {
		return must(apply(newLayerNorm(be), x, w[name+".weight"], w[name+".bias"]))
	}

	x := must(apply(newAdd(be),
		must(apply(newGatherRows(be), w["wte"], p.tokens)),
		must(apply(newGatherRows(be), w["wpe"], p.pos))))
	for l := range cfg.Layers {
		h := fmt.Sprintf("h.%d.", l)
		qkv := linear(layerNorm(x, h+"ln_1"), h+"attn.c_attn")
		p.qkv = append(p.qkv, qkv)
		att := must(apply(newAttention(be, key.batch, key.seq, cfg.Heads), qkv, p.lens))
		x = must(apply(newAdd(be), x, linear(att, h+"attn.c_proj")))
		mlp := must(apply(newGelu(be), linear(layerNorm(x, h+"ln_2"), h+"mlp.c_fc")))
		x = must(apply(newAdd(be), x, linear(mlp, h+"mlp.c_proj")))
	}
	x = layerNorm(x, "ln_f")
	scored := must(apply(newGatherRows(be), x, p.rows))
	p.logits = must(apply(newLinear(be, false), scored, w["wte"])) // the head is tied to the embedding
	if err != nil {
		return nil, fmt.Errorf("model: building the graph: %w", err)
	}
	if key.kind == logitsOnly {
		return compile(p, m, be, g), nil
	}

	p.maskBuf = input(func() *tensor.Dense { return be.newTensor(key.scored, cfg.Vocab) })
	p.mask = G.NewMatrix(g, dt, G.WithShape(key.scored, cfg.Vocab), G.WithName("logit_mask"), G.WithValue(p.maskBuf))
	masked := must(apply(newAdd(be), p.logits, p.mask))
	p.logp = must(apply(newLogSoftmaxGather(be), masked, p.targets))
	if err != nil {
		return nil, fmt.Errorf("model: building the log-probabilities: %w", err)
	}
	if key.kind == logProbs {
		return compile(p, m, be, g), nil
	}
	inputs := G.Nodes{p.logp}
	for _, name := range tokenColumns {
		buf := input(func() *tensor.Dense { return be.newTensor(key.scored) })
		node := G.NewVector(g, dt, G.WithShape(key.scored), G.WithName(name), G.WithValue(buf))
		p.columns = append(p.columns, node)
		p.columnBufs = append(p.columnBufs, buf)
		inputs = append(inputs, node)
	}
	objective := newObjective(be, obj)
	p.objective = objective
	p.loss = must(apply(objective, inputs...))
	if err != nil {
		return nil, fmt.Errorf("model: building the objective: %w", err)
	}
	if p.grads, err = G.Grad(p.loss, p.params...); err != nil {
		return nil, fmt.Errorf("model: differentiating the graph: %w", err)
	}
	return compile(p, m, be, g), nil
}

// compile places the buffers of every op of g in the model's arena and makes the machine that
// runs g.
func compile[T float](p *program, m *Model, be *backend[T], g *G.ExprGraph) *program {
	if m.scratch == nil {
		m.scratch = m.mem.newArena()
	}
	a := m.scratch.(*arena[T])
	for _, n := range g.AllNodes() {
		if op, ok := n.Op().(interface{ useArena(*arena[T]) }); ok {
			op.useArena(a)
		}
	}
	p.runInArena = a.run
	p.vm = G.NewTapeMachine(g, G.WithEngine(engine[T]{be: be, arena: a}))
	return p
}

// layoutOf returns the layout of a shape's programs, made empty for a new shape.
func (m *Model) layoutOf(key programKey) *layout {
	lay := m.layouts[key]
	if lay == nil {
		lay = &layout{}
		m.layouts[key] = lay
	}
	return lay
}

// maxPrograms bounds the compiled programs a model keeps: each holds its graph, its machine
// and its inputs, while its activations and attention probabilities live in the arena the
// programs share.
const maxPrograms = 24

// program returns the compiled program for a shape, building it on first use. Shapes are
// rounded up (sequences to a multiple of 8, tokens to a multiple of 16, scored tokens to a
// power of two) so that a handful of programs serve every batch; the least recently used
// program is dropped beyond maxPrograms.
func (m *Model) program(batch, seq, scored int, kind programKind, obj Objective) (*program, error) {
	key := programKey{batch: roundUp(batch, 8), seq: min(roundUp(seq, 16), m.Config.ContextLen), scored: 32, kind: kind}
	for key.scored < scored {
		key.scored *= 2
	}
	m.uses++
	// A program whose first run put buffers outside the arena holds that memory through its
	// graph until it runs again; its caller is done with it by now, so it goes, and its layout
	// stays for the next program of its shape.
	for k, q := range m.programs {
		if q.lay.spilled {
			delete(m.programs, k)
			q.lay.spilled, q.lay.inputs = false, q.inputs
		}
	}
	if p, ok := m.programs[key]; ok {
		p.lastUse = m.uses
		if kind == training {
			p.objective.configure(obj)
		}
		return p, nil
	}
	p, err := m.build(key, obj)
	if err != nil {
		return nil, err
	}
	if len(m.programs) >= maxPrograms {
		var oldest programKey
		first := true
		for k, q := range m.programs {
			if first || q.lastUse < m.programs[oldest].lastUse {
				oldest, first = k, false
			}
		}
		delete(m.programs, oldest)
	}
	p.lastUse = m.uses
	m.programs[key] = p
	return p, nil
}

func roundUp(n, to int) int { return max(to, (n+to-1)/to*to) }

// microBatch is a run of a Batch's sequences through one program: at most MicroBatch of
// them, with their scored tokens. seqs and scored give the index in the Batch of each of its
// sequences and scored tokens.
type microBatch struct {
	Batch
	seqs, scored []int
}

// microBatches splits a batch into runs of at most MicroBatch sequences, taken in order of
// length so that each run pads its sequences to about their own length: the contexts of a
// step range from 40 to 80 tokens with the board's size, and runs of mixed lengths would
// spend a third of their work on padding.
func (m *Model) microBatches(b *Batch) []microBatch {
	perSeq := make([][]int, len(b.Seqs))
	for i, sc := range b.Scored {
		perSeq[sc.Seq] = append(perSeq[sc.Seq], i)
	}
	order := make([]int, len(b.Seqs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return len(b.Seqs[i].Tokens) - len(b.Seqs[j].Tokens) })
	var out []microBatch
	for start := 0; start < len(order); start += m.MicroBatch {
		var mb microBatch
		for k, s := range order[start:min(start+m.MicroBatch, len(order))] {
			mb.Seqs = append(mb.Seqs, b.Seqs[s])
			mb.seqs = append(mb.seqs, s)
			for _, i := range perSeq[s] {
				sc := b.Scored[i]
				sc.Seq = k
				mb.Scored = append(mb.Scored, sc)
				mb.scored = append(mb.scored, i)
			}
		}
		out = append(out, mb)
	}
	return out
}

// load writes a micro-batch into the program's inputs: right-padded sequences, padding rows
// scored with target -1 (masked, zero weight).
func (p *program) load(b *Batch) {
	T := p.key.seq
	tokens, pos, lens := make([]int32, p.key.batch*T), make([]int32, p.key.batch*T), make([]int32, p.key.batch)
	for s, seq := range b.Seqs {
		copy(tokens[s*T:], seq.Tokens)
		copy(pos[s*T:], seq.Pos)
		lens[s] = int32(len(seq.Tokens))
	}
	rows, targets := make([]int32, p.key.scored), make([]int32, p.key.scored)
	for i := range targets {
		targets[i] = -1
	}
	for i, sc := range b.Scored {
		rows[i] = int32(sc.Seq*T + sc.Index - 1)
		if toks := b.Seqs[sc.Seq].Tokens; sc.Index < len(toks) {
			targets[i] = toks[sc.Index]
		} // else the sampler asks for the logits after the last token: nothing to score
	}
	mem := memoryOf(p.tokenBuf)
	for _, in := range []struct {
		t      *tensor.Dense
		values []int32
	}{{p.tokenBuf, tokens}, {p.posBuf, pos}, {p.lensBuf, lens}, {p.rowBuf, rows}, {p.targetBuf, targets}} {
		mem.writeIndex(in.t, in.values)
	}
	if p.key.kind >= logProbs {
		mask := make([]float64, p.key.scored*p.maskBuf.Shape()[1])
		for i, sc := range b.Scored {
			if sc.Allowed != nil {
				row := mask[i*p.maskBuf.Shape()[1] : (i+1)*p.maskBuf.Shape()[1]]
				for j := range row {
					row[j] = maskedLogit
				}
				for _, a := range sc.Allowed {
					row[a] = 0
				}
			}
		}
		setFloats(p.maskBuf, mask)
	}
	if p.key.kind == training {
		cols := make([][]float64, len(tokenColumns))
		for c := range cols {
			cols[c] = make([]float64, p.key.scored)
		}
		for i, sc := range b.Scored {
			cols[0][i], cols[1][i], cols[2][i] = float64(sc.OldLogp), float64(sc.RefLogp), float64(sc.Advantage)
			cols[3][i], cols[4][i] = float64(sc.PGWeight), float64(sc.DistillWeight)
		}
		for c, buf := range p.columnBufs {
			setFloats(buf, cols[c])
		}
	}
}

// programResults are the values of a run that the model reads: the logits, the
// log-probabilities, the gradients and each layer's q|k|v, as far as the program goes.
type programResults struct {
	logits, logp *tensor.Dense
	grads, qkv   []*tensor.Dense
}

func (p *program) run() error { return p.runInArena(p.lay, p.execute, p.results) }

// execute runs the program's instructions and records its results.
func (p *program) execute() error {
	p.vm.Reset()
	if err := p.vm.RunAll(); err != nil {
		return fmt.Errorf("model: running the graph: %w", err)
	}
	value := func(n *G.Node) *tensor.Dense {
		if n == nil {
			return nil
		}
		return n.Value().(*tensor.Dense)
	}
	p.out = programResults{logits: value(p.logits), logp: value(p.logp), grads: p.out.grads[:0], qkv: p.out.qkv[:0]}
	for _, n := range p.grads {
		p.out.grads = append(p.out.grads, value(n))
	}
	for _, n := range p.qkv {
		p.out.qkv = append(p.out.qkv, value(n))
	}
	return nil
}

// results returns the tensors of p.out.
func (p *program) results() []*tensor.Dense {
	out := append(append([]*tensor.Dense{p.out.logits, p.out.logp}, p.out.grads...), p.out.qkv...)
	return slices.DeleteFunc(out, func(t *tensor.Dense) bool { return t == nil })
}

// Logits runs the forward pass and returns, for every scored token in order, the logits that
// predict it (len(b.Scored) rows of Config.Vocab).
func (m *Model) Logits(b *Batch) ([][]float32, error) {
	if err := m.Validate(b); err != nil {
		return nil, err
	}
	out := make([][]float32, len(b.Scored))
	for _, mb := range m.microBatches(b) {
		p, err := m.runUpTo(logitsOnly, &mb.Batch)
		if err != nil {
			return nil, err
		}
		all := floatsOf(p.out.logits)
		v := m.Config.Vocab
		for i, at := range mb.scored {
			row := make([]float32, v)
			for j := range row {
				row[j] = float32(all[i*v+j])
			}
			out[at] = row
		}
	}
	return out, nil
}

// runUpTo runs the program of a kind that stops short of training on one micro-batch.
func (m *Model) runUpTo(kind programKind, mb *Batch) (*program, error) {
	p, err := m.program(len(mb.Seqs), maxLen(mb.Seqs), max(1, len(mb.Scored)), kind, Objective{})
	if err != nil {
		return nil, err
	}
	p.load(mb)
	return p, p.run()
}

func maxLen(seqs []Sequence) int {
	n := 1
	for _, s := range seqs {
		n = max(n, len(s.Tokens))
	}
	return n
}

// LogProbs returns the log-probability of every scored token under the model, over its
// allowed set; only those values are read back from the backend.
func (m *Model) LogProbs(b *Batch) ([]float32, error) {
	if err := m.Validate(b); err != nil {
		return nil, err
	}
	out := make([]float32, len(b.Scored))
	for _, mb := range m.microBatches(b) {
		p, err := m.runUpTo(logProbs, &mb.Batch)
		if err != nil {
			return nil, err
		}
		logp := floatsOf(p.out.logp)
		for i, at := range mb.scored {
			out[at] = float32(logp[i])
		}
	}
	return out, nil
}

// maskedLogit is added to the logits of tokens outside an allowed set: far enough below any
// logit that its exponential is 0, and finite, so that no NaN arises from ∞ − ∞.
const maskedLogit = -1e9

// logSoftmaxAt returns the log-probability of target under the softmax of row restricted to
// allowed (all of row when allowed is nil).
func logSoftmaxAt(row []float32, target int32, allowed []int32) float32 {
	if allowed == nil {
		allowed = make([]int32, len(row))
		for i := range allowed {
			allowed[i] = int32(i)
		}
	}
	mx := row[allowed[0]]
	for _, a := range allowed {
		mx = max(mx, row[a])
	}
	var sum float64
	for _, a := range allowed {
		sum += math.Exp(float64(row[a] - mx))
	}
	return float32(float64(row[target]-mx) - math.Log(sum))
}

// Gradients evaluates the objective on a batch and sets every Param's Grad to its gradient,
// running the batch in micro-batches and summing their gradients.
//
// With ref not nil, each scored token's reference log-probability (the KL term's) is ref's,
// computed on the backend beside the step, and the batch's RefLogp are not read: the values
// never leave the backend. ref must have m's config and live on m's backend.
func (m *Model) Gradients(b *Batch, obj Objective, ref *Model) (Terms, error) {
	var terms Terms
	if err := m.Validate(b); err != nil {
		return terms, err
	}
	if err := obj.Validate(); err != nil {
		return terms, err
	}
	if ref != nil && (ref.Config != m.Config || ref.mem != m.mem) {
		return terms, fmt.Errorf("model: the reference policy (%+v on %T) is not of the policy's config and backend (%+v on %T)", ref.Config, ref.mem, m.Config, m.mem)
	}
	for _, p := range m.Params {
		m.mem.zero(p.Grad)
	}
	for _, mb := range m.microBatches(b) {
		if len(mb.Scored) == 0 {
			continue
		}
		p, err := m.program(len(mb.Seqs), maxLen(mb.Seqs), len(mb.Scored), training, obj)
		if err != nil {
			return terms, err
		}
		p.load(&mb.Batch)
		if ref != nil {
			rp, err := ref.runUpTo(logProbs, &mb.Batch)
			if err != nil {
				return terms, err
			}
			refLogp := p.columnBufs[slices.Index(tokenColumns[:], "ref_logp")]
			m.mem.copy(refLogp, rp.out.logp)
		}
		if err := p.run(); err != nil {
			return terms, err
		}
		terms.Add(p.objective.lastTerms())
		for i, prm := range m.Params {
			m.mem.accumulate(prm.Grad, p.out.grads[i])
		}
	}
	return terms, nil
}
