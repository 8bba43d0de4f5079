package model

import "fmt"

// Config is the shape of the transformer.
type Config struct {
	// Vocab is the number of token ids; it must equal the vocabulary's size.
	Vocab int `json:"vocab"`
	// DModel is the width of the residual stream; Heads divides it.
	DModel int `json:"d_model"`
	// Layers is the number of transformer blocks.
	Layers int `json:"layers"`
	// Heads is the number of attention heads per block.
	Heads int `json:"heads"`
	// ContextLen is the number of position ids, and so the longest context.
	ContextLen int `json:"context_len"`
}

// Size names a preset Config.
type Size string

// The named sizes: Small is the CPU default, Base the GPU default.
const (
	Small Size = "small"
	Base  Size = "base"
)

// NewConfig returns the preset of the named size for the standard vocabulary.
func NewConfig(size Size) (Config, error) {
	c := Config{Vocab: StandardVocab().Size(), ContextLen: 512}
	switch size {
	case Small:
		c.DModel, c.Layers, c.Heads = 64, 2, 4
	case Base:
		c.DModel, c.Layers, c.Heads = 256, 6, 8
	default:
		return Config{}, fmt.Errorf("unknown model size %q (want %q or %q)", size, Small, Base)
	}
	return c, nil
}

// Validate reports a shape that cannot be built.
func (c Config) Validate() error {
	switch {
	case c.Vocab < 2:
		return fmt.Errorf("vocab %d is too small", c.Vocab)
	case c.DModel < 1 || c.Layers < 1 || c.Heads < 1 || c.ContextLen < 1:
		return fmt.Errorf("d_model %d, layers %d, heads %d and context_len %d must all be positive", c.DModel, c.Layers, c.Heads, c.ContextLen)
	case c.DModel%c.Heads != 0:
		return fmt.Errorf("d_model %d is not a multiple of heads %d", c.DModel, c.Heads)
	}
	return nil
}

// HeadDim is the width of one attention head.
func (c Config) HeadDim() int { return c.DModel / c.Heads }

// NumParams is the number of scalars in the model's parameters.
func (c Config) NumParams() int {
	n := 0
	for _, s := range c.paramShapes() {
		n += s.size()
	}
	return n
}

// FlopsPerToken estimates the floating-point operations of one token's forward and backward
// pass through a context of t tokens: 6 per weight multiply-add, plus attention.
func (c Config) FlopsPerToken(t int) float64 {
	blocks := 12 * c.DModel * c.DModel * c.Layers
	attn := 2 * c.Layers * t * c.DModel
	return 6*float64(blocks) + 6*float64(attn)
}
