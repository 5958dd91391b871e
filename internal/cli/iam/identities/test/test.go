// Package test is the `chainctl iam identities test` command.
package test

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/iam/identities/shared"
	"github.com/chainctl/chainctl/internal/iostreams"
)

// maxIDToken caps the upstream token read; real ones are a few KB.
const maxIDToken = 64 << 10

// TestOptions are the inputs of `chainctl iam identities test`.
type TestOptions struct {
	api.Remote

	// TokenFile names the file holding the upstream ID token; "-" is
	// standard input.
	TokenFile string
}

// NewCmdTest returns `chainctl iam identities test`. runF replaces testRun
// in tests.
func NewCmdTest(f *cmdutil.Factory, runF func(context.Context, *TestOptions) error) *cobra.Command {
	opts := &TestOptions{}
	cmd := &cobra.Command{
		Use:   "test [FILE | -]",
		Short: "Show which identities accept an OIDC token, and why the others do not",
		Long: cmdutil.Heredoc(`
			Send an upstream OIDC ID token (a CI job's token, say) to the registry and
			show, for each identity, whether it accepts the token or which checks failed:
			the issuer, the audience, the subject, a claim. A misconfigured federation is
			the usual reason a CI job cannot log in; this finds it in one command.

			The token is read from FILE, or from standard input when FILE is "-" or is
			left out and standard input is not a terminal. It is sent only to the
			registry, which verifies it (signature, expiry, audience) but issues nothing
			for it. If it cannot be verified at all, the reason is shown.

			The exit status is 0 if some identity accepts the token and 1 if none does,
			so scripts can test with it. "-o json" prints the registry's answer:
			{"issuer", "subject", "error", "results": [{"id", "name", "matched",
			"failures": [{"check", "kind", "claim", "reason"}]}]}.

			Testing needs a session with the owner role; the results cover the
			identities the session may see. The registry and the session are found as
			for every identities command (see "chainctl iam identities --help"): by
			default, the registry and session of "chainctl auth login". Neither token is
			ever printed.
		`),
		Example: cmdutil.Examples(`
			# A token saved from a CI job
			$ chainctl iam identities test gha-token.jwt

			# In a GitHub Actions step, straight from the token endpoint
			$ curl -sH "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" \
			    "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=registry.example.com" | jq -r .value |
			    chainctl iam identities test -
		`),
		Args: cobra.MaximumNArgs(1),
	}
	return api.Command(f, cmd, opts, func(args []string) error {
		opts.TokenFile = "-"
		if len(args) == 1 {
			opts.TokenFile = args[0]
		} else if opts.IO.IsStdinTTY() {
			return cmdutil.FlagErrorf("give the token's FILE, or pipe it in and pass -")
		}
		return nil
	}, runF, testRun)
}

func readIDToken(opts *TestOptions) (string, error) {
	var r io.Reader = opts.IO.In
	name := "standard input"
	if opts.TokenFile != "-" {
		f, err := os.Open(opts.TokenFile)
		if err != nil {
			return "", fmt.Errorf("read token: %w", err)
		}
		defer f.Close()
		r, name = f, opts.TokenFile
	}
	b, err := io.ReadAll(io.LimitReader(r, maxIDToken+1))
	if err != nil {
		return "", fmt.Errorf("read token: %w", err)
	}
	if len(b) > maxIDToken {
		return "", fmt.Errorf("read token: %s is larger than %d bytes", name, maxIDToken)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("read token: %s is empty", name)
	}
	return tok, nil
}

func testRun(ctx context.Context, opts *TestOptions) error {
	idToken, err := readIDToken(opts)
	if err != nil {
		return err
	}
	client, err := opts.Connect(ctx)
	if err != nil {
		return err
	}
	res, err := shared.TestToken(ctx, client, idToken)
	if err != nil {
		return shared.MapError(err, "")
	}
	matched := false
	for _, r := range res.Results {
		matched = matched || r.Matched
	}
	if opts.Output == cmdutil.OutputJSON {
		if err := cmdutil.WriteJSON(opts.IO.Out, res); err != nil {
			return err
		}
	} else if err := printResult(opts.IO, res); err != nil {
		return err
	}
	if !matched {
		return cmdutil.ErrSilent // exit 1: scripts can test for a match
	}
	return nil
}

func printResult(ios *iostreams.IOStreams, res *shared.TestResult) error {
	st := ios.OutStyles()
	w := &errWriter{w: ios.Out}
	if res.Issuer != "" || res.Subject != "" {
		fmt.Fprintf(w, "%s %s, %s %s\n", st.Faint("issuer"), res.Issuer, st.Faint("subject"), res.Subject)
	}
	if res.Error != "" {
		fmt.Fprintf(w, "%s the token could not be verified: %s\n", st.Error("✗"), res.Error)
	}
	for _, r := range res.Results {
		label := r.ID
		if r.Name != "" {
			label += " (" + r.Name + ")"
		}
		if r.Matched {
			fmt.Fprintf(w, "%s %s: matched\n", st.Success("✓"), label)
			continue
		}
		reasons := make([]string, 0, len(r.Failures))
		for _, f := range r.Failures {
			reasons = append(reasons, failureText(f))
		}
		if len(reasons) == 0 {
			reasons = append(reasons, "not matched")
		}
		fmt.Fprintf(w, "%s %s: %s\n", st.Error("✗"), label, strings.Join(reasons, "; "))
	}
	if len(res.Results) == 0 && res.Error == "" {
		fmt.Fprintln(w, "no identities to test against")
	}
	return w.err
}

// failureText is a failure's reason, or a description made of its other
// fields when the registry gave none.
func failureText(f shared.MatchFailure) string {
	if f.Reason != "" {
		return f.Reason
	}
	parts := []string{}
	for _, s := range []string{f.Check, f.Kind, f.Claim} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return "failed"
	}
	return strings.Join(parts, " ") + " failed"
}

// errWriter keeps the first write error, so printResult checks once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, err
}
