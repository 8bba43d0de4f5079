// Package erl turns environment episodes into training batches: batched multi-turn rollouts,
// GRPO groups, the reflection gate, reflections and guided second attempts, the cross-episode
// memory, selective distillation, the curricula that choose training levels, evaluation, and
// the training loop that ties them together and writes a run's records (metrics.jsonl,
// episodes.jsonl, checkpoints). What people read of a run is drawn from those records by
// package report, which erl does not import: Train reports through a function it is given.
package erl
