package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

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

// printError tells the user what went wrong, on stderr: the error, then a
// hint or the command's usage when there is one.
func printError(ios *iostreams.IOStreams, cmd *cobra.Command, err error) {
	if err == nil || errors.Is(err, cmdutil.ErrSilent) {
		return
	}
	w := ios.ErrOut
	st := ios.ErrStyles()
	if exitCode(err) == ExitCancel {
		if ios.IsStderrTTY() {
			fmt.Fprintln(w) // end the line the ^C was echoed on
		}
		return
	}
	fmt.Fprintf(w, "%s %s\n", st.Error("error:"), err)

	var flagErr *cmdutil.FlagError
	var hintErr *cmdutil.HintError
	var authErr *cmdutil.AuthError
	switch {
	case isUnknownCommand(err):
		fmt.Fprintf(w, "%s run %s to see the commands\n", st.Warning("hint:"), st.Code("chainctl --help"))
	case errors.As(err, &flagErr):
		if cmd != nil {
			fmt.Fprintf(w, "\n%s", cmd.UsageString())
		}
	case errors.As(err, &hintErr) && hintErr.Hint != "":
		fmt.Fprintf(w, "%s %s\n", st.Warning("hint:"), hintErr.Hint)
	case errors.As(err, &authErr):
		fmt.Fprintf(w, "%s %s\n", st.Warning("hint:"), "log in with `chainctl auth login`")
	}
}

// isUnknownCommand recognises cobra's error for "chainctl nosuchcommand",
// which carries no type.
func isUnknownCommand(err error) bool {
	return strings.HasPrefix(err.Error(), "unknown command ")
}
