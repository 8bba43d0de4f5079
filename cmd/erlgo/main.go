// Command erlgo trains small transformer policies with Experiential Reinforcement Learning,
// and generates, plays and replays the levels of its environments.
//
// Usage:
//
//	erlgo <command> [flags]
//
// erlgo --help lists the commands; erlgo <command> --help describes one. Exit status is 0 on
// success, 2 for a usage error and 1 when a command fails; a training run stopped by a signal
// (Ctrl-C, SIGTERM, SIGHUP) saves itself and exits with 128 plus the signal's number, as a
// shell reports a command killed by it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// stdio is where a command reads and writes, so that tests can run commands on buffers.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

type command struct {
	name    string
	summary string // one line for erlgo --help
	run     func(sio stdio, args []string) error
}

// commands is the dispatch table. To add a command (train, eval, compare), write its run
// function in a file of its own, using newFlagSet and parseFlags, and add one line here.
var commands = []command{
	{"train", "train a policy with ERL, RLVR or an ablation (the main job)", runTrain},
	{"pretrain", "pretrain a policy as a world model on random play, for train --init", runPretrain},
	{"eval", "score a checkpoint's first-attempt success on held-out levels", runEval},
	{"levels", "generate a set of distinct random levels as JSON lines", runLevels},
	{"play", "play levels in the terminal", runPlay},
	{"replay", "replay action sequences read as JSON lines and report what happened", runReplay},
	{"compare", "compare training runs: a table and a figure of held-out success", runCompare},
	{"reproduce", "run the paper's comparison (every algorithm, seed and environment) and report it", runReproduce},
	{"view", "write a run's report as an HTML page: curves and an episode browser", runView},
	{"version", "print erlgo's version and build settings", runVersion},
}

func main() {
	os.Exit(run(os.Args[1:], stdio{os.Stdin, os.Stdout, os.Stderr}))
}

// run runs the command line args and returns the exit status.
func run(args []string, sio stdio) int {
	if len(args) == 0 {
		usage(sio.err)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(sio.out)
		return 0
	case "-version", "--version":
		args[0] = "version"
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := runCommand(c, sio, args[1:])
		var uerr usageError
		var code exitCode
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &code):
			return int(code)
		case errors.As(err, &uerr):
			fmt.Fprintf(sio.err, "erlgo %s: %v\nRun 'erlgo %s --help' for usage.\n", c.name, err, c.name)
			return 2
		default:
			fmt.Fprintf(sio.err, "erlgo %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(sio.err, "erlgo: unknown command %q\nRun 'erlgo --help' for the commands.\n", args[0])
	return 2
}

// deviceFailure turns the panic of a failed GPU call into the error it carries, in a build
// with GPU support (device_gpu.go); other panics stay panics.
var deviceFailure = func(any) error { return nil }

// runCommand runs c, with a failure of the GPU reported as the command's error.
func runCommand(c command, sio stdio, args []string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if err = deviceFailure(r); err == nil {
				panic(r)
			}
		}
	}()
	return c.run(sio, args)
}

func usage(w io.Writer) {
	fmt.Fprint(w, "Usage: erlgo <command> [flags]\n\nCommands:\n")
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'erlgo <command> --help' for a command's flags.\n")
}

// exitCode is an error that sets the exit status of a command that has already said what
// happened, such as a run stopped by a signal.
type exitCode int

func (c exitCode) Error() string { return fmt.Sprintf("exit status %d", int(c)) }

// usageError is a mistake in the command line, as opposed to a failure of the command.
type usageError struct{ error }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// newFlagSet returns the flag set of a command. Its usage text is the synopsis
// "erlgo name args", the description doc, then the flags.
func newFlagSet(name, args, doc string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: erlgo %s %s\n\n%s\n\nFlags:\n", name, args, strings.TrimSpace(doc))
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses a command's arguments, none of which may be positional. On -help it
// prints the usage on standard output and returns flag.ErrHelp; other mistakes are
// usageErrors.
func parseFlags(fs *flag.FlagSet, args []string, sio stdio) error {
	fs.SetOutput(io.Discard) // the flag package would print its own complaint and the usage
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(sio.out)
		fs.Usage()
		return err
	case err != nil:
		return usageError{err}
	case fs.NArg() > 0:
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// parseFlagsAndArgs parses a command's flags, which may come before, between or after its
// positional arguments, and returns the arguments. Mistakes and help requests are reported as
// by parseFlags.
func parseFlagsAndArgs(fs *flag.FlagSet, args []string, sio stdio) ([]string, error) {
	// parseFlags would take the first argument as an unexpected one; so the arguments are
	// taken out one by one, and parseFlags has the last word.
	fs.SetOutput(io.Discard)
	var positional []string
	for rest := args; ; {
		if fs.Parse(rest) != nil || fs.NArg() == 0 {
			if err := parseFlags(fs, rest, sio); err != nil {
				return nil, err
			}
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		rest = fs.Args()[1:]
	}
}
