package cmdutil

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/chainctl/chainctl/internal/iostreams"
)

// ParseIDs checks that every argument has the form valid accepts and drops
// repeats, before a command acts on any: a typo is a *FlagError naming
// every bad argument, "<args> is not a <kind>: <form>".
func ParseIDs(args []string, valid func(string) bool, kind, form string) ([]string, error) {
	var ids, bad []string
	for _, a := range args {
		switch {
		case !valid(a):
			bad = append(bad, fmt.Sprintf("%q", a))
		case !slices.Contains(ids, a):
			ids = append(ids, a)
		}
	}
	if len(bad) == 0 {
		return ids, nil
	}
	what := "is not a " + kind
	if len(bad) > 1 {
		what = "are not " + kind + "s"
	}
	return nil, FlagErrorf("%s %s: %s", joinList(bad), what, form)
}

// joinList joins s as "a", "a and b" or "a, b and c".
func joinList(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// EachID is a command that acts on every ID it is given (revoke, delete),
// trying them all even when one fails.
type EachID struct {
	IO   *iostreams.IOStreams
	JSON bool // -o json
	// Field is the JSON field saying an ID was done ("revoked"); Done the
	// line's verb on success ("Revoked"); Failed the summary's words after
	// "N of M" ("pull tokens not revoked").
	Field, Done, Failed string
}

// Result is what became of one ID; with -o json the results are printed
// as [{"id", "<Field>", "error"}], in order.
type Result struct {
	ID    string
	OK    bool
	Error string
	field string
}

// MarshalJSON writes r with its command's field name.
func (r Result) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	id, _ := json.Marshal(r.ID)
	fmt.Fprintf(&b, `{"id":%s,%q:%t`, id, r.field, r.OK)
	if r.Error != "" {
		msg, _ := json.Marshal(r.Error)
		fmt.Fprintf(&b, `,"error":%s`, msg)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Run applies do to each ID in order: "✓ <Done> <id>" on stdout for each
// success, each failure on stderr when there are several, or with JSON one
// list of results. It returns the results and the command's error (see
// summarize).
func (e EachID) Run(ids []string, do func(id string) error) ([]Result, error) {
	results := make([]Result, 0, len(ids))
	var failed []error
	st, est := e.IO.OutStyles(), e.IO.ErrStyles()
	for _, id := range ids {
		if err := do(id); err != nil {
			failed = append(failed, err)
			results = append(results, Result{ID: id, Error: err.Error(), field: e.Field})
			if !e.JSON && len(ids) > 1 {
				fmt.Fprintf(e.IO.ErrOut, "%s %s: %v\n", est.Error("X"), id, err)
			}
			continue
		}
		results = append(results, Result{ID: id, OK: true, field: e.Field})
		if !e.JSON {
			if _, err := fmt.Fprintf(e.IO.Out, "%s %s %s\n", st.Success("✓"), e.Done, st.Bold(id)); err != nil {
				return results, err
			}
		}
	}
	if e.JSON {
		if err := WriteJSON(e.IO.Out, results); err != nil {
			return results, err
		}
	}
	return results, e.summarize(failed, len(ids))
}

// summarize is the command's error: nil if nothing failed, the one error
// of a single ID as it is, and otherwise a count with the first failure's
// hint. It is an *AuthError (exit 4) when every failure was one.
func (e EachID) summarize(failed []error, n int) error {
	if len(failed) == 0 {
		return nil
	}
	if n == 1 {
		return failed[0]
	}
	allAuth := true
	var hint string
	for _, err := range failed {
		var ae *AuthError
		if !errors.As(err, &ae) {
			allAuth = false
		}
		var he *HintError
		if hint == "" && errors.As(err, &he) {
			hint = he.Hint
		}
	}
	var err error = fmt.Errorf("%d of %d %s", len(failed), n, e.Failed)
	if hint != "" {
		err = &HintError{Err: err, Hint: hint}
	}
	if allAuth {
		err = &AuthError{Err: err}
	}
	return err
}
