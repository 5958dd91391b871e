// Package gc is the `chainctl registry gc` command: online garbage
// collection of the registry's storage and metadata (package gc).
package gc

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/registry/backend"
	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/gc"
	"github.com/chainctl/chainctl/internal/iostreams"
)

// minGrace is the shortest grace period the command accepts: a push whose
// manifest comes later than the grace after its first blob fails, and
// below a minute even small pushes would. The registry relies on it too:
// it links bytes it wrote less than half a minute ago without checking
// that collection has not just deleted them.
const minGrace = time.Minute

// GCOptions are the inputs of `chainctl registry gc`.
type GCOptions struct {
	IO     *iostreams.IOStreams
	Config *config.Serve
	Output cmdutil.OutputFormat
	DryRun bool
	Grace  time.Duration
}

// NewCmdGC returns `chainctl registry gc`. runF replaces gcRun in tests.
func NewCmdGC(f *cmdutil.Factory, runF func(context.Context, *GCOptions) error) *cobra.Command {
	opts := &GCOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "gc",
		Short: "Delete untagged manifests and unreferenced blobs",
		Long: cmdutil.Heredoc(`
			Delete what no tag needs any more, while registries keep serving:

			- manifests that no tag points at, that no index lists, and that do not
			  refer (as a signature or SBOM does) to a manifest still stored;
			- blob links that no manifest of their repository references;
			- the bytes of blobs that no repository links.

			Only what is older than the grace period is considered: a push in
			progress keeps everything it uploaded, as long as it pushes its manifest
			within the grace period of its first blob. A push that meets a blob being
			deleted gets a retryable error and uploads it again.

			--dry-run deletes nothing and counts what one pass would delete: a lower
			bound, since a real run goes on to the blobs and index children that only
			the deleted manifests used.

			It opens the same blob storage and metadata database as "registry serve"
			and reads the same configuration (flags, CHAINCTL_* variables, --config
			file), so pass the settings you run the server with. Where they name no
			registry (no database file or blob directory), it fails rather than create
			an empty one.
		`),
		Example: cmdutil.Examples(`
			$ chainctl registry gc --dry-run
			$ chainctl registry gc --grace 72h --config /etc/chainctl/serve.yaml -o json
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Grace < minGrace {
				return cmdutil.FlagErrorf("--grace must be at least %s, got %s", minGrace, opts.Grace)
			}
			cfg, err := cmdutil.LoadServeConfig(f, cmd.Flags())
			if err != nil {
				return err
			}
			opts.Config = cfg
			opts.Output = f.Globals.Output
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return gcRun(cmd.Context(), opts)
		},
	}
	config.AddBackendFlags(cmd.Flags())
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "report what would be deleted, delete nothing (a lower bound: see above)")
	cmd.Flags().DurationVar(&opts.Grace, "grace", gc.DefaultGrace, "consider only what is older than this `duration` (at least 1m)")
	return cmdutil.SupportJSON(cmd)
}

// JSON is the -o json output.
type JSON struct {
	DryRun          bool      `json:"dry_run"`
	Cutoff          time.Time `json:"cutoff"`
	Grace           string    `json:"grace"`
	Manifests       countJSON `json:"manifests"`
	BlobLinks       linksJSON `json:"blob_links"`
	Blobs           countJSON `json:"blobs"`
	DurationSeconds float64   `json:"duration_seconds"`
}

type countJSON struct {
	Count int   `json:"count"`
	Bytes int64 `json:"bytes"`
}

type linksJSON struct {
	Count int `json:"count"`
}

func gcRun(ctx context.Context, opts *GCOptions) error {
	if err := backend.CheckExisting(opts.Config, true); err != nil {
		return err
	}
	log := slog.New(slog.DiscardHandler)
	db, err := backend.OpenMetadata(ctx, opts.Config.Database, log)
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := backend.OpenStorage(ctx, opts.Config.Storage, backend.StorageBeside, log)
	if err != nil {
		return err
	}
	blobs, ok := st.(gc.Blobs)
	if !ok {
		return fmt.Errorf("%s storage cannot list its blobs, which gc needs", opts.Config.Storage.Type)
	}

	pr := newProgress(opts.IO, opts.Output == cmdutil.OutputJSON, opts.DryRun)
	rep, err := gc.Run(ctx, db, blobs, gc.WithGrace(opts.Grace), gc.WithDryRun(opts.DryRun),
		gc.WithProgress(pr.update), gc.WithLogger(log))
	pr.done()
	if err != nil {
		return fmt.Errorf("garbage collection: %w (so far: %d manifests, %d blob links, %d blobs)",
			err, rep.Manifests, rep.BlobLinks, rep.Blobs)
	}
	if opts.Output == cmdutil.OutputJSON {
		return cmdutil.WriteJSON(opts.IO.Out, JSON{
			DryRun: rep.DryRun, Cutoff: rep.Cutoff.UTC(), Grace: opts.Grace.String(),
			Manifests:       countJSON{rep.Manifests, rep.ManifestBytes},
			BlobLinks:       linksJSON{rep.BlobLinks},
			Blobs:           countJSON{rep.Blobs, rep.BlobBytes},
			DurationSeconds: rep.Duration.Seconds(),
		})
	}
	return printReport(opts, rep)
}

func printReport(opts *GCOptions, rep *gc.Report) error {
	st := opts.IO.OutStyles()
	verb := "freed"
	head := st.Success("✓") + " garbage collected"
	if rep.DryRun {
		verb = "would free at least"
		head = st.Warning("!") + " dry run: nothing deleted"
	}
	_, err := fmt.Fprintf(opts.IO.Out, "%s (%s; cutoff %s, grace %s)\n"+
		"  %-11s %6d  %s\n  %-11s %6d\n  %-11s %6d  %s\n"+
		"  %s %s of blobs\n",
		head, rep.Duration.Round(time.Millisecond), rep.Cutoff.UTC().Format(time.RFC3339), opts.Grace,
		"manifests", rep.Manifests, cmdutil.FormatBytes(rep.ManifestBytes),
		"blob links", rep.BlobLinks,
		"blobs", rep.Blobs, cmdutil.FormatBytes(rep.BlobBytes),
		verb, st.Bold(cmdutil.FormatBytes(rep.BlobBytes)))
	if err == nil && rep.DryRun && rep.Manifests > 0 {
		// One pass cannot see what deleting those manifests would free.
		_, err = fmt.Fprintf(opts.IO.Out, "  %s\n", st.Faint("plus what only those manifests use (blobs, index children), which a real run frees too"))
	}
	return err
}
