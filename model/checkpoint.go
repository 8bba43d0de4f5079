package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gorgonia.org/tensor"
)

// A checkpoint is one safetensors file. Its tensors are the weights under their GPT-2 names
// (a PyTorch state dict) and, when an optimizer is saved, AdamW's moments under "optim.m." and
// "optim.v." prefixes. Its metadata holds the config, the vocabulary with its version and hash,
// the optimizer's config and step, and the caller's own entries (step, RNG state, memory, ...).
const (
	metaConfig       = "erlgo.config"
	metaVocabVersion = "erlgo.vocab_version"
	metaVocabHash    = "erlgo.vocab_hash"
	metaVocab        = "erlgo.vocab"
	metaOptim        = "erlgo.optim"
	metaOptimStep    = "erlgo.optim_step"
	optimMPrefix     = "optim.m."
	optimVPrefix     = "optim.v."
)

// SaveCheckpoint writes the model, the optimizer (may be nil) and extra metadata to path,
// atomically, with the vocabulary the model reads: the known one of its size (VocabOfSize),
// or for a model of another size (a test's, the PyTorch peer's) the standard one, whose
// first ids it reads. Extra keys must not start with "erlgo.".
func SaveCheckpoint(path string, m *Model, opt *AdamW, extra map[string]string) error {
	meta := map[string]string{}
	for k, v := range extra {
		if strings.HasPrefix(k, "erlgo.") {
			return fmt.Errorf("checkpoint metadata key %q is reserved", k)
		}
		meta[k] = v
	}
	cfg, err := json.Marshal(m.Config)
	if err != nil {
		return err
	}
	vocab, err := VocabOfSize(m.Config.Vocab)
	if err != nil {
		vocab = StandardVocab() // a model of tests and of the PyTorch peer, over the standard vocabulary's first ids
	}
	words, err := json.Marshal(vocab.Words())
	if err != nil {
		return err
	}
	meta[metaConfig] = string(cfg)
	meta[metaVocabVersion] = vocab.Version()
	meta[metaVocabHash] = vocab.Hash()
	meta[metaVocab] = string(words)
	tensors := map[string]*stTensor{}
	put := func(name string, t *tensor.Dense) {
		st := &stTensor{Shape: slices.Clone([]int(t.Shape()))}
		values := floatsOf(t)
		switch t.Dtype() {
		case tensor.Float32:
			st.DType, st.data = "F32", float32Bytes(values)
		case tensor.Float64:
			st.DType, st.data = "F64", float64Bytes(values)
		}
		tensors[name] = st
	}
	for _, p := range m.Params {
		put(p.Name, p.Value)
	}
	if opt != nil {
		oc, err := json.Marshal(opt.Config)
		if err != nil {
			return err
		}
		meta[metaOptim] = string(oc)
		meta[metaOptimStep] = strconv.Itoa(opt.Step)
		for i, p := range m.Params {
			put(optimMPrefix+p.Name, opt.M[i])
			put(optimVPrefix+p.Name, opt.V[i])
		}
	}
	return writeSafetensors(path, tensors, meta)
}

// vocabOfVersion returns the known vocabulary called version, or nil.
func vocabOfVersion(version string) *Vocab {
	for _, v := range Vocabs() {
		if v.Version() == version {
			return v
		}
	}
	return nil
}

// Checkpoint is what LoadCheckpoint read.
type Checkpoint struct {
	Model *Model
	// Optim is nil when the file holds no optimizer state.
	Optim *AdamW
	// Vocab is the vocabulary the model was trained on, one of Vocabs.
	Vocab *Vocab
	// Extra holds the metadata entries the caller saved.
	Extra map[string]string
}

// LoadCheckpoint reads a checkpoint written by SaveCheckpoint. It checks the vocabulary against
// those this build knows (Vocabs), and every tensor's name, shape and dtype against the config; all mismatches are
// reported together, naming the file.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	tensors, meta, err := readSafetensors(path)
	if err != nil {
		return nil, err
	}
	fail := func(problems []string) error {
		return fmt.Errorf("%s: not a usable erlgo checkpoint:\n  %s", path, strings.Join(problems, "\n  "))
	}
	var problems []string
	vocab := vocabOfVersion(meta[metaVocabVersion])
	if vocab == nil {
		problems = append(problems, fmt.Sprintf("vocabulary %q, but this build knows only %q and %q", meta[metaVocabVersion], VocabVersion, PlansVocabVersion))
	} else if h := meta[metaVocabHash]; h != vocab.Hash() {
		problems = append(problems, fmt.Sprintf("vocabulary hash %.12s… differs from this build's %.12s… of %s", h, vocab.Hash(), vocab.Version()))
	}
	var cfg Config
	if err := json.Unmarshal([]byte(meta[metaConfig]), &cfg); err != nil {
		problems = append(problems, fmt.Sprintf("config metadata: %v", err))
	} else if err := cfg.Validate(); err != nil {
		problems = append(problems, fmt.Sprintf("config: %v", err))
	}
	if len(problems) > 0 {
		return nil, fail(problems)
	}
	dtype := tensor.Float32
	if t, ok := tensors["wte"]; ok && t.DType == "F64" {
		dtype = tensor.Float64
	}
	m, err := New(cfg, dtype, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	want := map[string]bool{}
	fill := func(name string, dst *tensor.Dense) {
		want[name] = true
		t, ok := tensors[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("tensor %q is missing", name))
			return
		}
		if wantType := map[tensor.Dtype]string{tensor.Float32: "F32", tensor.Float64: "F64"}[dtype]; t.DType != wantType {
			problems = append(problems, fmt.Sprintf("tensor %q is %s, want %s", name, t.DType, wantType))
			return
		}
		if !slices.Equal(t.Shape, []int(dst.Shape())) {
			problems = append(problems, fmt.Sprintf("tensor %q has shape %v, want %v", name, t.Shape, []int(dst.Shape())))
			return
		}
		setFloats(dst, t.float64s())
	}
	for _, p := range m.Params {
		fill(p.Name, p.Value)
	}
	ck := &Checkpoint{Model: m, Vocab: vocab, Extra: map[string]string{}}
	if oc, ok := meta[metaOptim]; ok {
		var cfg OptimConfig
		step, stepErr := strconv.Atoi(meta[metaOptimStep])
		if err := errors.Join(json.Unmarshal([]byte(oc), &cfg), stepErr); err != nil {
			problems = append(problems, fmt.Sprintf("optimizer metadata: %v", err))
		} else if opt, err := NewAdamW(cfg, m.Params); err != nil {
			problems = append(problems, fmt.Sprintf("optimizer config: %v", err))
		} else {
			opt.Step = step
			for i, p := range m.Params {
				fill(optimMPrefix+p.Name, opt.M[i])
				fill(optimVPrefix+p.Name, opt.V[i])
			}
			ck.Optim = opt
		}
	}
	for name := range tensors {
		if !want[name] {
			problems = append(problems, fmt.Sprintf("unexpected tensor %q", name))
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return nil, fail(problems)
	}
	for k, v := range meta {
		if !strings.HasPrefix(k, "erlgo.") {
			ck.Extra[k] = v
		}
	}
	return ck, nil
}
