package cmdutil

import (
	"errors"
	"fmt"
)

// ErrSilent means the command already told the user what went wrong; exit 1
// without printing anything more.
var ErrSilent = errors.New("silent error")

// ErrCancel means the user cancelled (Ctrl-C, or declined a prompt); exit 2.
var ErrCancel = errors.New("cancelled")

// FlagError is a usage mistake: the error is printed with the command's usage.
type FlagError struct {
	Err error
}

func (e *FlagError) Error() string { return e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

// FlagErrorf returns a *FlagError with a formatted message.
func FlagErrorf(format string, args ...any) error {
	return &FlagError{Err: fmt.Errorf(format, args...)}
}

// HintError is an error with advice on what to do next, printed under it:
// HintError{Err: err, Hint: "run `chainctl auth login`"}.
type HintError struct {
	Err  error
	Hint string
}

func (e *HintError) Error() string { return e.Err.Error() }
func (e *HintError) Unwrap() error { return e.Err }

// AuthError means the user is not logged in or not allowed; exit 4, so that
// scripts can tell "log in again" from other failures.
type AuthError struct {
	Err error
}

func (e *AuthError) Error() string { return e.Err.Error() }
func (e *AuthError) Unwrap() error { return e.Err }
