package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// This file holds how the commands parse their flags and report a bad one: in one line that
// names the flag (or variable, or config file setting), the value and the form expected,
// then where every flag is described; never the whole usage, which buries the error.

// flagError is a flag, an environment variable or a config file setting that is wrong.
type flagError struct {
	msg  string // e.g. "--read-timeout 30: expected a duration such as 30s or 2m"
	cmd  string // e.g. "latchkey serve"
	args bool   // the arguments are wrong rather than a flag
}

// Error is the message, then where the flags are described.
func (e *flagError) Error() string {
	if e.args {
		return e.msg + "\nRun '" + e.cmd + " -h' for usage."
	}
	return e.msg + "\nRun '" + e.cmd + " -h' for every flag."
}

// badValue returns the error of value given to f from source: "--NAME VALUE" for the
// command line, "NAME=VALUE" for a variable, "FILE: KEY = VALUE" for a config file.
func badValue(fs *flag.FlagSet, f *flag.Flag, source string, err error) error {
	return &flagError{msg: source + ": " + expected(f.Value, err), cmd: fs.Name()}
}

// expected says what a value of v looks like: the built-in kinds by their type, the
// others (durationFlag, rateFlag, ...) by their own error.
func expected(v flag.Value, err error) string {
	if g, ok := v.(flag.Getter); ok {
		switch g.Get().(type) {
		case time.Duration:
			return "expected a duration such as 30s or 2m"
		case int, int64, uint, uint64:
			return "expected a whole number such as 10"
		case float64:
			return "expected a number such as 1.5"
		case bool:
			return "expected true or false"
		}
	}
	return err.Error()
}

// shown writes a value as the user typed it: quoted only if empty or with spaces.
func shown(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\n\"") {
		return strconv.Quote(s)
	}
	return s
}

// recorder is a flag's value while the command line is parsed: it keeps the first value
// that fails, which the flag package's own error does not carry.
type recorder struct {
	flag.Value
	name string
	bad  **failedValue
}

type failedValue struct {
	name, value string
	err         error
}

func (r recorder) Set(s string) error {
	err := r.Value.Set(s)
	if err != nil && *r.bad == nil {
		*r.bad = &failedValue{name: r.name, value: s, err: err}
	}
	return err
}

func (r recorder) IsBoolFlag() bool { return isBoolFlag(&flag.Flag{Value: r.Value}) }

// parseCommandLine parses args with fs. A bad value is a *flagError; -h prints the usage
// (fs.Usage) and returns flag.ErrHelp; any other error (an unknown flag, a missing value) is
// the flag package's one line, with the same pointer to the usage.
func parseCommandLine(fs *flag.FlagSet, args []string) error {
	var bad *failedValue
	var flags []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) { flags = append(flags, f) })
	values := make([]flag.Value, len(flags))
	for i, f := range flags {
		values[i] = f.Value
		f.Value = recorder{Value: f.Value, name: f.Name, bad: &bad}
	}
	usage := fs.Usage
	fs.Usage = func() {} // the flag package calls it on every error; only -h wants it
	err := fs.Parse(args)
	fs.Usage = usage
	for i, f := range flags {
		f.Value = values[i]
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return err
	case bad != nil:
		return badValue(fs, fs.Lookup(bad.name), "--"+bad.name+" "+shown(bad.value), bad.err)
	}
	return &flagError{msg: err.Error(), cmd: fs.Name()}
}

// checkNoArgs refuses arguments left after the flags, for a command that takes none.
func checkNoArgs(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return &flagError{msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0)), cmd: fs.Name(), args: true}
	}
	return nil
}

// newFlagSet returns a flag set that writes nothing itself: its errors are returned
// (see parseCommandLine), and its usage, written to w on -h, is synopsis, about and the flags.
func newFlagSet(name, synopsis, about string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(w, "Usage: %s\n", synopsis)
		if about != "" {
			fmt.Fprintf(w, "\n%s\n", about)
		}
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(w, "\nFlags:")
			fs.SetOutput(w)
			fs.PrintDefaults()
			fs.SetOutput(io.Discard)
		}
	}
	return fs
}
