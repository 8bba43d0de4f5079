// Package erl turns environment episodes into training batches: batched multi-turn rollouts,
// GRPO groups, the reflection gate, reflections and guided second attempts, the cross-episode
// memory, selective distillation, the curricula that choose training levels, evaluation, and
// the training loop that ties them together.
package erl
