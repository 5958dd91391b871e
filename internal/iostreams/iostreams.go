// Package iostreams gives commands their standard streams and tells them
// whether each one is a terminal, so that output is styled on a terminal and
// plain when piped. Only internal/cli uses it; domain packages never print.
package iostreams

import (
	"bytes"
	"io"
	"os"

	"github.com/mattn/go-isatty"
)

// IOStreams are the streams a command reads and writes. Commands never touch
// os.Stdout directly, so tests can swap in buffers with Test.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY  bool
	stdoutTTY bool
	stderrTTY bool
	noColor   bool
}

// System returns the process's standard streams. Colour is off when NO_COLOR
// is set (https://no-color.org) or TERM is "dumb", even on a terminal.
func System() *IOStreams {
	return &IOStreams{
		In:        os.Stdin,
		Out:       os.Stdout,
		ErrOut:    os.Stderr,
		stdinTTY:  isTerminal(os.Stdin),
		stdoutTTY: isTerminal(os.Stdout),
		stderrTTY: isTerminal(os.Stderr),
		noColor:   os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb",
	}
}

// Test returns streams backed by buffers: stdin, stdout, stderr. No stream is
// a terminal until the test says so with SetStdoutTTY and friends.
func Test() (ios *IOStreams, in *bytes.Buffer, out *bytes.Buffer, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

func isTerminal(f *os.File) bool {
	fd := f.Fd()
	return isatty.IsTerminal(fd) || isatty.IsCygwinTerminal(fd)
}

// IsStdinTTY reports whether standard input is a terminal.
func (s *IOStreams) IsStdinTTY() bool { return s.stdinTTY }

// IsStdoutTTY reports whether standard output is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStderrTTY reports whether standard error is a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// SetStdinTTY overrides terminal detection for standard input (tests).
func (s *IOStreams) SetStdinTTY(v bool) { s.stdinTTY = v }

// SetStdoutTTY overrides terminal detection for standard output (tests).
func (s *IOStreams) SetStdoutTTY(v bool) { s.stdoutTTY = v }

// SetStderrTTY overrides terminal detection for standard error (tests).
func (s *IOStreams) SetStderrTTY(v bool) { s.stderrTTY = v }

// SetNoColor turns styling off even on a terminal, as NO_COLOR does.
func (s *IOStreams) SetNoColor(v bool) { s.noColor = v }

// CanPrompt reports whether the user can answer a question: both standard
// input and standard output are terminals.
func (s *IOStreams) CanPrompt() bool { return s.stdinTTY && s.stdoutTTY }

// OutStyles returns the styles for writing to Out: lipgloss styling when Out
// is a terminal and colour is allowed, the identity otherwise.
func (s *IOStreams) OutStyles() *Styles { return newStyles(s.Out, s.stdoutTTY && !s.noColor) }

// ErrStyles returns the styles for writing to ErrOut, as OutStyles does for Out.
func (s *IOStreams) ErrStyles() *Styles { return newStyles(s.ErrOut, s.stderrTTY && !s.noColor) }
