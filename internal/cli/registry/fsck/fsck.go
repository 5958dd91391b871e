// Package fsck is the `chainctl registry fsck` command: re-hash the stored
// blobs and quarantine those that no longer match their digest (package
// fsck).
package fsck

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/cli/registry/backend"
	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/fsck"
	"github.com/chainctl/chainctl/internal/iostreams"
)

// FsckOptions are the inputs of `chainctl registry fsck`.
type FsckOptions struct {
	IO     *iostreams.IOStreams
	Config *config.Serve
	Output cmdutil.OutputFormat
	DryRun bool
	Rate   int64 // bytes a second; 0: as fast as the disk
}

// NewCmdFsck returns `chainctl registry fsck`. runF replaces fsckRun in
// tests.
func NewCmdFsck(f *cmdutil.Factory, runF func(context.Context, *FsckOptions) error) *cobra.Command {
	opts := &FsckOptions{IO: f.IOStreams}
	var rate string
	cmd := &cobra.Command{
		Use:   "fsck",
		Short: "Re-hash stored blobs and quarantine any that no longer match their digest",
		Long: cmdutil.Heredoc(`
			Read every stored blob again, hash it, and set aside (quarantine) each one
			whose bytes no longer match its digest: a failing disk, or a hand in the
			blob directory.

			Blobs are verified when they are pushed. On file storage the registry then
			sends them as they are stored (sendfile) rather than hashing every byte of
			every pull, and this check is what stands between damaged bytes and a
			client. Run it regularly (a daily timer), beside the serving registry;
			--rate keeps it from taking the disk from the pulls.

			A quarantined blob is answered as missing (BLOB_UNKNOWN) to HEAD and GET,
			so pushing an image that contains it again stores a sound copy; the bad
			bytes are moved to the quarantine directory beside the blobs, for
			inspection. The command exits 1 when it found a corrupt blob, so that a
			timer can alert on it.

			--dry-run reports corrupt blobs and quarantines nothing.

			It opens the same blob storage as "registry serve" and reads the same
			configuration (flags, CHAINCTL_* variables, --config file). On S3 storage
			the registry hashes what it streams and redirects the rest to the bucket,
			which keeps its own checksums, so there is nothing for this command to do.
		`),
		Example: cmdutil.Examples(`
			$ chainctl registry fsck
			$ chainctl registry fsck --rate 50MiB --config /etc/chainctl/serve.yaml -o json
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := config.ParseBytes(rate)
			if err != nil {
				return cmdutil.FlagErrorf("--rate %q: %v", rate, err)
			}
			opts.Rate = n
			cfg, err := cmdutil.LoadServeConfig(f, cmd.Flags())
			if err != nil {
				return err
			}
			opts.Config = cfg
			opts.Output = f.Globals.Output
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return fsckRun(cmd.Context(), opts)
		},
	}
	config.AddBackendFlags(cmd.Flags())
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "report corrupt blobs, quarantine nothing")
	cmd.Flags().StringVar(&rate, "rate", "0", "read at most this many `bytes` a second, such as 50MiB (0: as fast as the disk)")
	return cmdutil.SupportJSON(cmd)
}

// JSON is the -o json output.
type JSON struct {
	DryRun          bool          `json:"dry_run"`
	Blobs           int           `json:"blobs"`
	Bytes           int64         `json:"bytes"`
	Vanished        int           `json:"vanished"`
	Corrupt         []CorruptJSON `json:"corrupt"`
	DurationSeconds float64       `json:"duration_seconds"`
}

// CorruptJSON is a corrupt blob in the -o json output.
type CorruptJSON struct {
	Digest      string `json:"digest"`
	Size        int64  `json:"size"`
	HashesTo    string `json:"hashes_to"`
	Quarantined string `json:"quarantined,omitempty"`
}

func fsckRun(ctx context.Context, opts *FsckOptions) error {
	if opts.Config.Storage.Type != config.StorageFile {
		return fmt.Errorf("registry fsck checks file storage; %s storage is hashed as it is streamed and redirected to the bucket otherwise, "+
			"which keeps its own checksums", opts.Config.Storage.Type)
	}
	if err := backend.CheckExisting(opts.Config, true); err != nil {
		return err
	}
	log := slog.New(slog.DiscardHandler)
	st, err := backend.OpenStorage(ctx, opts.Config.Storage, backend.StorageBeside, log)
	if err != nil {
		return err
	}
	blobs, ok := st.(fsck.Blobs)
	if !ok {
		return fmt.Errorf("%s storage cannot list and quarantine its blobs, which fsck needs", opts.Config.Storage.Type)
	}
	pr := newProgress(opts.IO)
	rep, err := fsck.Check(ctx, blobs, fsck.WithDryRun(opts.DryRun), fsck.WithRate(opts.Rate), fsck.WithProgress(pr.update))
	pr.done()
	if err != nil {
		return fmt.Errorf("%w (so far: %d blobs checked, %d corrupt)", err, rep.Blobs, len(rep.Corrupt))
	}
	if opts.Output == cmdutil.OutputJSON {
		out := JSON{DryRun: rep.DryRun, Blobs: rep.Blobs, Bytes: rep.Bytes, Vanished: rep.Vanished,
			Corrupt: []CorruptJSON{}, DurationSeconds: rep.Duration.Seconds()}
		for _, c := range rep.Corrupt {
			out.Corrupt = append(out.Corrupt, CorruptJSON{Digest: string(c.Digest), Size: c.Size, HashesTo: string(c.Got), Quarantined: c.Quarantined})
		}
		if err := cmdutil.WriteJSON(opts.IO.Out, out); err != nil {
			return err
		}
	} else if err := printReport(opts, rep); err != nil {
		return err
	}
	if len(rep.Corrupt) > 0 {
		return cmdutil.ErrSilent
	}
	return nil
}

func printReport(opts *FsckOptions, rep *fsck.Report) error {
	st := opts.IO.OutStyles()
	w := opts.IO.Out
	if len(rep.Corrupt) == 0 {
		_, err := fmt.Fprintf(w, "%s %d blobs (%s) match their digests (%s)\n", st.Success("✓"), rep.Blobs, cmdutil.FormatBytes(rep.Bytes), rep.Duration.Round(time.Millisecond))
		return err
	}
	verb := "quarantined"
	if rep.DryRun {
		verb = "not quarantined (dry run)"
	}
	fmt.Fprintf(w, "%s %d of %d blobs do not match their digest, %s:\n", st.Error("✗"), len(rep.Corrupt), rep.Blobs, verb)
	for _, c := range rep.Corrupt {
		fmt.Fprintf(w, "  %s  %s, hashes to %s\n", c.Digest, cmdutil.FormatBytes(c.Size), c.Got)
		if c.Quarantined != "" {
			fmt.Fprintf(w, "    %s %s\n", st.Faint("bytes moved to"), c.Quarantined)
		}
	}
	hint := "push the images that contain them again: the registry now answers them as missing"
	if rep.DryRun {
		hint = "run without --dry-run to quarantine them, then push the images that contain them again"
	}
	_, err := fmt.Fprintf(w, "%s\n", st.Faint(hint))
	return err
}
