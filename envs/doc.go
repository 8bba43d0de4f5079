// Package envs holds the multi-turn text environments ERL is evaluated on: Sokoban and
// FrozenLake, their level formats, generators and solvers, and the feedback text a policy
// receives after an attempt. Everything here is deterministic given a seed.
package envs
