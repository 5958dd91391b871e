package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/iostreams"
)

// ExitCode is the process exit status. Scripts rely on these values.
type ExitCode int

// The exit codes.
const (
	ExitOK     ExitCode = 0 // success
	ExitError  ExitCode = 1 // any failure not listed below
	ExitCancel ExitCode = 2 // cancelled by the user (Ctrl-C)
	ExitAuth   ExitCode = 4 // not logged in, or not allowed
)

// exitCode maps a command's error to the exit code. It is the only place
// that decides.
func exitCode(err error) ExitCode {
	var authErr *cmdutil.AuthError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, cmdutil.ErrCancel), errors.Is(err, context.Canceled):
		return ExitCancel
	case errors.As(err, &authErr):
		return ExitAuth
	}
	return ExitError
}

// printError tells the user what went wrong, on stderr: the error, then
// what to run next (a hint, the commands meant by an unknown one, or the
// command's --help for a usage mistake). With -o json it is one JSON
// object, {"error", "hint", "suggestions"}, so that a script reading
// JSON gets JSON on both streams; the exit code is the same.
func printError(ios *iostreams.IOStreams, cmd *cobra.Command, err error, jsonOutput bool) {
	if err == nil || errors.Is(err, cmdutil.ErrSilent) {
		return
	}
	w := ios.ErrOut
	if exitCode(err) == ExitCancel {
		if ios.IsStderrTTY() && !jsonOutput {
			fmt.Fprintln(w) // end the line the ^C was echoed on
		}
		return
	}
	st := ios.ErrStyles()
	r := describeError(cmd, err, st.Code)
	if jsonOutput {
		_ = cmdutil.WriteJSON(w, r)
		return
	}
	fmt.Fprintf(w, "%s %s\n", st.Error("error:"), r.Error)
	if len(r.Suggestions) > 0 {
		fmt.Fprintf(w, "\nDid you mean this?\n")
		for _, s := range r.Suggestions {
			fmt.Fprintf(w, "\t%s\n", s)
		}
		fmt.Fprintln(w)
	}
	if r.Hint != "" {
		fmt.Fprintf(w, "%s %s\n", st.Warning("hint:"), r.Hint)
	}
}

// errorReport is what printError says; its JSON form is what -o json
// prints on stderr.
type errorReport struct {
	Error       string   `json:"error"`
	Hint        string   `json:"hint,omitempty"`
	Suggestions []string `json:"suggestions,omitempty"`
}

// describeError works out what to say about err, which cmd returned;
// code styles a command to run.
func describeError(cmd *cobra.Command, err error, code func(string) string) errorReport {
	r := errorReport{Error: err.Error()}
	var unknownErr *cmdutil.UnknownCommandError
	var flagErr *cmdutil.FlagError
	var hintErr *cmdutil.HintError
	var authErr *cmdutil.AuthError
	switch {
	case errors.As(err, &unknownErr):
		r.Suggestions = unknownErr.Suggestions
		r.Hint = "run " + code(unknownErr.Parent+" --help") + " to see the commands"
	case errors.As(err, &flagErr):
		if cmd != nil {
			r.Hint = "run " + code(cmd.CommandPath()+" --help") + " for usage"
		}
	case errors.As(err, &hintErr) && hintErr.Hint != "":
		r.Hint = hintErr.Hint
	case errors.As(err, &authErr):
		r.Hint = "log in with `chainctl auth login`"
	}
	return r
}

// wantsJSON reports whether args ask for -o json, for an error found
// before the flags were parsed (or while they were).
func wantsJSON(args []string) bool {
	for i, a := range args {
		switch {
		case a == "--":
			return false
		case a == "--output=json", a == "-ojson", a == "-o=json":
			return true
		case (a == "--output" || a == "-o") && i+1 < len(args) && args[i+1] == "json":
			return true
		}
	}
	return false
}
