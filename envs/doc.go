// Package envs holds the multi-turn text environments ERL is evaluated on: Sokoban and
// FrozenLake, their level formats, generators and solvers, and the feedback text a policy
// receives after an attempt. Everything here is deterministic given a seed.
//
// A Task names an environment and a level in file notation (XSB for Sokoban, gym's S F H G
// for FrozenLake); Task.New starts a Game, which a policy plays one Action at a time, reading
// the board as Cells and, at the end, the Feedback. Generators draw the paper's level
// distributions, and ReadLevels and WriteLevels keep level sets as JSON lines.
package envs
