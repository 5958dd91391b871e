// Package create is the `chainctl iam identities create` command and its
// presets, `create github` and `create gitlab`.
package create

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/iam/identities/shared"
	"github.com/chainctl/chainctl/internal/policy"
)

// maxIssuerKeys caps the --issuer-keys file; the registry refuses larger
// key sets anyway.
const maxIssuerKeys = 64 << 10

// CreateOptions are the inputs of `chainctl iam identities create` and of
// its presets, which differ only in how they build Identity.
type CreateOptions struct {
	api.Remote

	// Identity is the identity to create, from the flags.
	Identity policy.Identity
	// IssuerKeysFile, if set, names a JWKS file read into
	// Identity.IssuerKeys.
	IssuerKeysFile string
}

// securityRules is the part of every create command's help that explains
// who may create what.
const securityRules = `
	Creating an identity needs a session with the owner role on every repository
	pattern its roles name: owners manage identities within their repositories, and
	may hand out any role, owner included, there. The registry refuses:

	  - an identity that would accept every subject of its issuer (no --subject, no
	    --subject-pattern that rejects strangers, no claim naming the principal),
	    unless --allow-any-subject says that is what you mean;
	  - an issuer that is not https, except http on a loopback host;
	  - an id that is already taken.

	The identity is checked here first, so most mistakes are reported before
	anything is sent.`

// seeAlso points at what "chainctl iam identities --help" says for every
// identities command, rather than repeat it.
const seeAlso = `
	The registry and the session token are chosen as "chainctl iam identities
	--help" says.`

// NewCmdCreate returns `chainctl iam identities create` with its presets
// as subcommands. runF replaces createRun in tests, for the presets too.
func NewCmdCreate(f *cmdutil.Factory, runF func(context.Context, *CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{}
	var (
		roles, claims, claimPatterns []string
	)
	cmd := &cobra.Command{
		Use:   "create --name NAME --issuer URL --role ROLE:PATTERN[,PATTERN...] [flags]",
		Short: "Trust the OIDC tokens of an issuer, for one principal",
		Long: cmdutil.Paragraphs(`
			Create an identity: a rule that lets holders of matching OIDC tokens act on
			the registry with the identity's roles, without any password.

			A token matches if its "iss" is --issuer, its "aud" contains --audience (by
			default the registry's service name), its "sub" equals --subject or wholly
			matches --subject-pattern (an RE2 regular expression), and every --claim
			(name=value, exact) and --claim-pattern (name=RE) holds. The issuer's keys are
			discovered from the issuer, or taken from --issuer-keys, a JWKS file, for CI
			systems the registry cannot reach.

			--role binds a role to repository patterns: ROLE:PATTERN[,PATTERN...], where
			ROLE is viewer (pull), pusher (+ push), editor (+ delete) or owner (+ manage
			identities, pull tokens and subscriptions), and a PATTERN is a repository
			(team/app), everything under a path (team/*) or everything (*). Repeat --role
			for several bindings.

			For GitHub Actions and GitLab CI use the presets "create github" and "create
			gitlab", which pin the right claims.
		`, securityRules, `
			--id defaults to one derived from --name. The created identity is printed;
			"-o json" prints it as the API returns it.
		`, seeAlso),
		Example: cmdutil.Examples(`
			# A person at an identity provider may push to team/*
			$ chainctl iam identities create --name "Alice" --issuer https://accounts.example.com \
			    --subject 248289761001 --role pusher:team/*

			# Every service account of one namespace may pull, on one cluster's issuer
			$ chainctl iam identities create --name "prod pullers" \
			    --issuer https://oidc.eks.example.com/id/ABC \
			    --subject-pattern 'system:serviceaccount:prod:.+' --role viewer:prod/*

			# A CI system the registry cannot reach: give its keys
			$ chainctl iam identities create --name buildkite --issuer https://agent.buildkite.com \
			    --issuer-keys buildkite-jwks.json --claim organization_slug=acme \
			    --claim-pattern 'pipeline_slug=release-.*' --role pusher:acme/*
		`),
		Args: cobra.NoArgs,
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Identity.ID, "id", "", "identity id: a-z, 0-9, '.', '_', '-' (default: derived from --name)")
	fl.StringVar(&opts.Identity.Name, "name", "", "description for people")
	fl.StringVar(&opts.Identity.Issuer, "issuer", "", "exact \"iss\" of accepted tokens (https URL)")
	fl.StringVar(&opts.Identity.Subject, "subject", "", "exact \"sub\" of accepted tokens")
	fl.StringVar(&opts.Identity.SubjectPattern, "subject-pattern", "", "regular expression the whole \"sub\" must match")
	fl.StringVar(&opts.Identity.Audience, "audience", "", "value \"aud\" must contain (default: the registry's service name)")
	fl.StringArrayVar(&claims, "claim", nil, "`name=value`: the claim must equal value (repeatable)")
	fl.StringArrayVar(&claimPatterns, "claim-pattern", nil, "`name=RE`: the claim must wholly match RE (repeatable)")
	fl.BoolVar(&opts.Identity.AllowAnySubject, "allow-any-subject", false, "accept an identity that pins no principal: every subject of the issuer matches")
	addRoleFlag(cmd, &roles)
	fl.StringVar(&opts.IssuerKeysFile, "issuer-keys", "", "JWKS `FILE` with the issuer's public keys (the issuer is then never fetched)")
	cmd.MarkFlagsMutuallyExclusive("subject", "subject-pattern")
	api.Command(f, cmd, opts, func([]string) error {
		return completeIdentity(&opts.Identity, claims, claimPatterns, roles)
	}, runF, createRun)

	cmd.AddCommand(newCmdGitHub(f, runF))
	cmd.AddCommand(newCmdGitLab(f, runF))
	return cmd
}

// completeIdentity checks the flags of `create` and completes id from
// them: the id derived from the name when not given, the --claim and
// --claim-pattern conditions, and the --role bindings.
func completeIdentity(id *policy.Identity, claims, claimPatterns, roles []string) error {
	if id.ID == "" {
		if id.Name == "" {
			return cmdutil.FlagErrorf("pass --name (and optionally --id)")
		}
		id.ID = DeriveID("", id.Name)
	}
	if id.Issuer == "" {
		return cmdutil.FlagErrorf("--issuer is required")
	}
	for _, c := range claims {
		m, err := parseClaim("--claim", c)
		if err != nil {
			return err
		}
		id.Claims = append(id.Claims, policy.ClaimMatch{Name: m[0], Value: m[1]})
	}
	for _, c := range claimPatterns {
		m, err := parseClaim("--claim-pattern", c)
		if err != nil {
			return err
		}
		id.Claims = append(id.Claims, policy.ClaimMatch{Name: m[0], Pattern: m[1]})
	}
	bindings, err := ParseRoles(roles)
	if err != nil {
		return err
	}
	id.Roles = bindings
	return nil
}

func addRoleFlag(cmd *cobra.Command, roles *[]string) {
	cmd.Flags().StringArrayVar(roles, "role", nil, "`ROLE:PATTERN[,PATTERN...]`: viewer, pusher, editor or owner on repositories (repeatable, required)")
	_ = cmd.RegisterFlagCompletionFunc("role", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, r := range policy.Roles() {
			out = append(out, string(r)+":")
		}
		return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
	})
}

// ParseRoles parses --role values, ROLE:PATTERN[,PATTERN...], into role
// bindings. It returns a *cmdutil.FlagError for bad syntax, an unknown role
// or an invalid pattern, and if there are none.
func ParseRoles(values []string) ([]policy.RoleBinding, error) {
	if len(values) == 0 {
		return nil, cmdutil.FlagErrorf("at least one --role ROLE:PATTERN is required, such as --role pusher:team/*")
	}
	var out []policy.RoleBinding
	for _, v := range values {
		role, pats, ok := strings.Cut(v, ":")
		if !ok || strings.TrimSpace(role) == "" || strings.TrimSpace(pats) == "" {
			return nil, cmdutil.FlagErrorf("--role %q: want ROLE:PATTERN[,PATTERN...], such as pusher:team/*", v)
		}
		b := policy.RoleBinding{Role: policy.Role(strings.TrimSpace(role))}
		for _, p := range strings.Split(pats, ",") {
			if p = strings.TrimSpace(p); p != "" {
				b.Repositories = append(b.Repositories, policy.RepositoryPattern(p))
			}
		}
		if err := b.Validate(); err != nil {
			return nil, cmdutil.FlagErrorf("--role %q: %v", v, err)
		}
		out = append(out, b)
	}
	return out, nil
}

func parseClaim(flag, v string) ([2]string, error) {
	name, val, ok := strings.Cut(v, "=")
	if !ok || name == "" || val == "" {
		return [2]string{}, cmdutil.FlagErrorf("%s %q: want NAME=VALUE", flag, v)
	}
	return [2]string{name, val}, nil
}

// DeriveID makes an identity id from prefix and a name: lower-case, runs
// of other characters turned into "-", at most 64 characters.
func DeriveID(prefix, name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(prefix + name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	trim := func(s string) string {
		return strings.TrimFunc(s, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') })
	}
	s := trim(b.String())
	if len(s) > 64 {
		s = trim(s[:64])
	}
	return s
}

// placeholderAudience stands in for the registry's service name when the
// identity is checked locally: the registry applies its own default.
const placeholderAudience = "chainctl-registry"

func createRun(ctx context.Context, opts *CreateOptions) error {
	id := opts.Identity
	if opts.IssuerKeysFile != "" {
		keys, err := readIssuerKeys(opts.IssuerKeysFile)
		if err != nil {
			return err
		}
		id.IssuerKeys = keys
	}
	if err := id.Validate(policy.IdentityOptions{Audience: placeholderAudience}); err != nil {
		return err
	}
	client, err := opts.Connect(ctx)
	if err != nil {
		return err
	}
	created, err := shared.CreateIdentity(ctx, client, id)
	if err != nil {
		return shared.MapError(err, "")
	}
	if opts.Output == cmdutil.OutputJSON {
		return cmdutil.WriteJSON(opts.IO.Out, created)
	}
	if opts.IO.IsStderrTTY() {
		st := opts.IO.ErrStyles()
		fmt.Fprintf(opts.IO.ErrOut, "%s Created identity %s\n", st.Success("✓"), st.Bold(created.ID))
	}
	return shared.PrintIdentity(opts.IO, created)
}

func readIssuerKeys(path string) (policy.JWKS, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("issuer keys: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxIssuerKeys+1))
	if err != nil {
		return nil, fmt.Errorf("issuer keys: %w", err)
	}
	if len(b) > maxIssuerKeys {
		return nil, fmt.Errorf("issuer keys: %s is larger than %d bytes", path, maxIssuerKeys)
	}
	var keys policy.JWKS
	if err := json.Unmarshal(b, &keys); err != nil {
		return nil, fmt.Errorf("issuer keys: %s: %w", path, err)
	}
	return keys, nil
}
