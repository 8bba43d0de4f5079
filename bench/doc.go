// Package bench holds the project's benchmark programs; their results are recorded in
// bench/RESULTS.md with the command, machine and date that produced them.
package bench
