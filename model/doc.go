// Package model owns the policy: its closed vocabulary, the decoder-only transformer defined
// once as a Gorgonia graph, the training objective (GRPO clipped surrogate, KL to a reference
// policy, selective distillation), AdamW, the KV-cache sampler and safetensors checkpoints.
package model
