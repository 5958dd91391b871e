// Package keys is the `chainctl registry keys` command group: the signing
// keys of the registry's own OIDC issuer.
package keys

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/registry/backend"
	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/oidc/issuer"
)

// NewCmdKeys returns `chainctl registry keys` and its subcommands.
func NewCmdKeys(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys <command>",
		Short: "Manage the registry's token signing keys",
		Long: cmdutil.Heredoc(`
			Manage the ES256 keys with which the registry's own OIDC issuer signs
			access, session and event tokens.

			The keys live in the registry's metadata database, so every replica signs
			with the same key. The first start creates one; "registry serve" rotates it
			when it reaches auth.key_rotation (30 days by default).
		`),
		Example: cmdutil.Examples(`
			$ chainctl registry keys rotate
		`),
	}
	cmd.AddCommand(NewCmdRotate(f, nil))
	return cmd
}

// RotateOptions are the inputs of `chainctl registry keys rotate`.
type RotateOptions struct {
	IO     *iostreams.IOStreams
	Config *config.Serve
	Output cmdutil.OutputFormat
}

// NewCmdRotate returns `chainctl registry keys rotate`. runF replaces
// rotateRun in tests.
func NewCmdRotate(f *cmdutil.Factory, runF func(context.Context, *RotateOptions) error) *cobra.Command {
	opts := &RotateOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Make a new signing key and retire the current one",
		Long: cmdutil.Heredoc(`
			Make a new signing key the one the registry signs with, at once, and retire
			the current one — after a suspected leak, or to test rotation.

			Tokens signed with the retired key keep verifying until they expire: its
			public key stays in the JWKS for longer than any token it signed can live,
			then "registry serve" deletes it. Running servers pick the new key up
			within a minute.

			It opens the same metadata database as "registry serve" and reads the same
			configuration (flags, CHAINCTL_* variables, --config file), so pass the
			settings you run the server with.
		`),
		Example: cmdutil.Examples(`
			$ chainctl registry keys rotate
			$ chainctl registry keys rotate --config /etc/chainctl/serve.yaml -o json
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := cmdutil.LoadServeConfig(f, cmd.Flags())
			if err != nil {
				return err
			}
			opts.Config = cfg
			opts.Output = f.Globals.Output
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return rotateRun(cmd.Context(), opts)
		},
	}
	config.AddKeyFlags(cmd.Flags())
	return cmdutil.SupportJSON(cmd)
}

// RotateJSON is the -o json output of rotate.
type RotateJSON struct {
	KeyID     string    `json:"kid"`
	RotatedAt time.Time `json:"rotated_at"`
}

func rotateRun(ctx context.Context, opts *RotateOptions) error {
	cfg := opts.Config
	if err := backend.CheckExisting(cfg, false); err != nil {
		return err
	}
	db, err := backend.OpenMetadata(ctx, cfg.Database, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer db.Close()
	// Say what sealing the keys did (a key-encryption key created, keys
	// sealed); the issuer's own log lines are left out.
	log := cmdutil.NewLogger(opts.IO.ErrOut, opts.IO.IsStderrTTY(), false)
	keys, _, err := backend.SigningKeys(ctx, cfg, db, log)
	if err != nil {
		return err
	}
	iss, err := issuer.New(ctx, keys,
		issuer.WithIssuerURL(cfg.ExternalURL),
		issuer.WithMaxTokenLifetime(max(cfg.Auth.MaxSessionTTL, cfg.Auth.AccessTokenTTL)),
		issuer.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return fmt.Errorf("load signing keys: %w", err)
	}
	kid, err := iss.Rotate(ctx)
	if err != nil {
		return fmt.Errorf("rotate: %w", err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	if opts.Output == cmdutil.OutputJSON {
		return cmdutil.WriteJSON(opts.IO.Out, RotateJSON{KeyID: kid, RotatedAt: now})
	}
	st := opts.IO.OutStyles()
	_, err = fmt.Fprintf(opts.IO.Out, "%s new signing key %s\n  the previous key keeps verifying the tokens it signed until they expire\n",
		st.Success("✓"), st.Code(kid))
	return err
}
