// Package configuredocker is `chainctl auth configure-docker`: it makes
// docker (and crane, oras, skopeo, which read the same file) ask chainctl
// for a registry's credentials.
package configuredocker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/chainctl/chainctl/internal/atomicfile"
	"github.com/chainctl/chainctl/internal/cli/api"
	"github.com/chainctl/chainctl/internal/cli/auth/pulltoken/shared"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/credhelper"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/tokencache"
)

// helperName is the credHelpers value; docker runs "docker-credential-" + it.
const (
	helperName = "chainctl"
	linkName   = "docker-credential-chainctl"
)

// ConfigureDockerOptions are the inputs of `chainctl auth configure-docker`.
type ConfigureDockerOptions struct {
	IO *iostreams.IOStreams
	// Registry is the registry host (or URL) a pull token is saved for
	// (--pull-token, and `auth pull-token create --save`).
	Registry string
	// Registries are the registry hosts (or URLs) to configure, or with
	// Remove to unconfigure; empty means Registry alone.
	Registries []string
	// Remove takes Registries out of docker's credHelpers instead.
	Remove bool
	// ConfigDir is docker's configuration directory: $DOCKER_CONFIG or
	// ~/.docker.
	ConfigDir string
	// Executable returns the path of the running chainctl (os.Executable).
	Executable func() (string, error)
	// Symlink creates the helper link (os.Symlink); tests make it fail.
	Symlink func(oldname, newname string) error
	// OpenCache opens the token cache the credential helper reads
	// (Factory.TokenCache), for a pull token saved there.
	OpenCache func() (*tokencache.Cache, error)

	// PullToken asks for a new pull token, saved for docker: Token
	// describes it, and Remote is the registry's API that makes it.
	PullToken bool
	Token     shared.Flags
	Request   shared.CreateRequest
	Remote    api.Remote
}

// hosts are the registries to configure or remove.
func (o *ConfigureDockerOptions) hosts() []string {
	if len(o.Registries) > 0 {
		return o.Registries
	}
	return []string{o.Registry}
}

// NewCmdConfigureDocker returns `chainctl auth configure-docker`. runF
// replaces configureDockerRun (and pullTokenRun, with --pull-token) in
// tests.
func NewCmdConfigureDocker(f *cmdutil.Factory, runF func(*ConfigureDockerOptions) error) *cobra.Command {
	opts := &ConfigureDockerOptions{IO: f.IOStreams, Executable: os.Executable, Symlink: os.Symlink, OpenCache: f.TokenCache}
	var flagRegistries []string
	cmd := &cobra.Command{
		Use:   "configure-docker [REGISTRY...] [--remove] [--pull-token --repository PATTERN...]",
		Short: "Make docker use chainctl for registries' credentials",
		Long: cmdutil.Heredoc(`
			Add "credHelpers": {"HOST": "chainctl"} to docker's config.json
			($DOCKER_CONFIG/config.json, or ~/.docker/config.json), so that docker, crane,
			oras, skopeo and regctl ask docker-credential-chainctl for HOST's credentials.
			Every other setting in the file, and its mode, are kept; a new file gets mode
			0600.

			The registries are the arguments and --registry (both may repeat, and take
			comma-separated lists, as "gcloud auth configure-docker" does); with none, the
			registry of every other command: $CHAINCTL_REGISTRY, then "chainctl config get
			registry". Running the command again changes nothing.

			--remove takes the registries out of credHelpers again (only entries that name
			chainctl; another helper's entry is left alone and reported). Stored
			credentials and login sessions are not touched: see "chainctl auth logout" and
			"docker logout".

			docker-credential-chainctl is installed next to chainctl by the release
			archives. If it is missing, a link to chainctl is created there instead (chainctl
			answers as the helper when run by that name; the standalone helper is faster).
			When that directory is not writable the command that creates the link is printed
			instead.

			With --pull-token, the machine pulls with a pull token instead of your login
			session, as a build farm or a scanner host that nobody logs in to needs: a new
			pull token for the --repository patterns is created (as "chainctl auth
			pull-token create --save" does) and saved in the credential helper, and docker
			is configured as above, for that one registry. Its id and expiry are printed,
			never its password. From then on docker, crane, oras and skopeo pull from HOST
			with the token (pull-only: pushes are refused) until it expires or is revoked,
			while chainctl's own commands keep using your session. "docker logout HOST"
			goes back to the session. Creating the token needs the owner role on every
			pattern; the registry may cap --ttl.
		`),
		Example: cmdutil.Examples(`
			# The registry of "chainctl config set registry"
			$ chainctl auth configure-docker

			# Several at once, then stop using chainctl for one of them
			$ chainctl auth configure-docker registry.example.com,localhost:5000
			$ chainctl auth configure-docker --remove localhost:5000

			# A scanner host: pull everything under acme/ with a 90-day pull token
			$ chainctl auth configure-docker --registry registry.example.com \
			    --pull-token --repository 'acme/*' --ttl 90d --name scanner-01
		`),
		RunE: func(cmd *cobra.Command, args []string) error {
			given := splitRegistries(append(slices.Clone(args), flagRegistries...))
			if opts.PullToken {
				if opts.Remove {
					return cmdutil.FlagErrorf("--remove and --pull-token cannot be used together")
				}
				if len(given) > 1 {
					return cmdutil.FlagErrorf("--pull-token saves a token for one registry; %d were given", len(given))
				}
				req, err := opts.Token.Request("--pull-token")
				if err != nil {
					return err
				}
				opts.Request = req
			} else if opts.Token.Changed(cmd.Flags()) {
				return cmdutil.FlagErrorf("--repository, --ttl, --name and --description describe a pull token: add --pull-token")
			}
			if opts.PullToken {
				// The registry of every API command: --registry,
				// $CHAINCTL_REGISTRY, then the user configuration.
				if len(given) == 1 {
					opts.Registry = given[0]
				}
				opts.Remote = api.Remote{IO: f.IOStreams, HTTPClient: f.HTTPClient}
				if err := opts.Remote.ResolveWith(f, opts.Registry); err != nil {
					return err
				}
				opts.Registry = opts.Remote.Registry
			} else if len(given) > 0 {
				opts.Registries = given
			} else {
				// As every other command: $CHAINCTL_REGISTRY, then the
				// user configuration.
				reg, err := f.Registry("")
				if err != nil {
					return err
				}
				opts.Registries = []string{reg.Host}
			}
			dir, err := DockerConfigDir(f.LookupEnv)
			if err != nil {
				return err
			}
			opts.ConfigDir = dir
			if runF != nil {
				return runF(opts)
			}
			if opts.PullToken {
				return pullTokenRun(cmd.Context(), opts)
			}
			return configureDockerRun(opts)
		},
	}
	cmd.Flags().StringSliceVar(&flagRegistries, "registry", nil, "registry `HOST` (host[:port] or URL) to configure; repeat or separate with commas")
	cmd.Flags().BoolVar(&opts.Remove, "remove", false, "take the registries out of docker's credHelpers instead")
	cmd.Flags().BoolVar(&opts.PullToken, "pull-token", false, "create a pull token for --repository and make docker pull with it")
	opts.Token.AddFlags(cmd.Flags())
	return cmd
}

// splitRegistries splits comma-separated lists and drops empty items and
// repeats, keeping the order given.
func splitRegistries(vals []string) []string {
	var out []string
	for _, v := range vals {
		for r := range strings.SplitSeq(v, ",") {
			if r = strings.TrimSpace(r); r != "" && !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	return out
}

// DockerConfigDir is where docker reads config.json from: $DOCKER_CONFIG,
// else ~/.docker.
func DockerConfigDir(lookupEnv func(string) (string, bool)) (string, error) {
	if v, ok := lookupEnv("DOCKER_CONFIG"); ok && v != "" {
		return v, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find docker's config directory: %w; set DOCKER_CONFIG", err)
	}
	return filepath.Join(home, ".docker"), nil
}

func configureDockerRun(opts *ConfigureDockerOptions) error {
	if opts.Remove {
		return removeRun(opts)
	}
	return configure(opts, opts.IO.Out)
}

// configure makes docker ask chainctl for the credentials of opts' hosts:
// the credHelpers entries, then the helper link. It says what it did on w.
func configure(opts *ConfigureDockerOptions, w io.Writer) error {
	hosts, err := parseHosts(opts.hosts())
	if err != nil {
		return err
	}
	path := filepath.Join(opts.ConfigDir, "config.json")
	for _, host := range hosts {
		changed, prev, err := addCredHelper(path, host)
		if err != nil {
			return err
		}
		switch {
		case !changed:
			fmt.Fprintf(w, "%s already uses chainctl for %s; nothing to change\n", path, host)
		case prev != "":
			fmt.Fprintf(w, "Configured %s to use chainctl for %s (it used %q before)\n", path, host, prev)
		default:
			fmt.Fprintf(w, "Configured %s to use chainctl for %s\n", path, host)
		}
	}
	return ensureLink(opts, strings.Join(hosts, ", "), w)
}

// parseHosts turns registries as given (host[:port] or URL) into the
// hosts docker's credHelpers are keyed by, all or none.
func parseHosts(registries []string) ([]string, error) {
	hosts := make([]string, 0, len(registries))
	for _, r := range registries {
		host, err := credhelper.ServerHost(r)
		if err != nil {
			return nil, cmdutil.FlagErrorf("registry %q: not a registry host or https URL", r)
		}
		if !slices.Contains(hosts, host) {
			hosts = append(hosts, host)
		}
	}
	return hosts, nil
}

// removeRun is configure-docker --remove: take the hosts' chainctl
// entries out of credHelpers. Another helper's entry stays, reported.
func removeRun(opts *ConfigureDockerOptions) error {
	hosts, err := parseHosts(opts.hosts())
	if err != nil {
		return err
	}
	path := filepath.Join(opts.ConfigDir, "config.json")
	for _, host := range hosts {
		other, err := removeCredHelper(path, host)
		if err != nil {
			return err
		}
		switch {
		case other == "":
			fmt.Fprintf(opts.IO.Out, "Removed chainctl for %s from %s\n", host, path)
		case other == noEntry:
			fmt.Fprintf(opts.IO.Out, "%s does not use chainctl for %s; nothing to change\n", path, host)
		default:
			fmt.Fprintf(opts.IO.Out, "%s uses %q, not chainctl, for %s; left as it is\n", path, other, host)
		}
	}
	return nil
}

// noEntry is what removeCredHelper reports for a host with no entry.
const noEntry = "\x00none"

// addCredHelper sets credHelpers[host] = "chainctl" in the docker config
// file at path, keeping every other key as it was. It reports whether the
// file changed and the helper host had before, if any.
func addCredHelper(path, host string) (changed bool, prev string, err error) {
	d, err := readDockerConfig(path, true)
	if err != nil {
		return false, "", err
	}
	if raw, ok := d.helpers[host]; ok {
		var v string
		if json.Unmarshal(raw, &v) == nil && v == helperName {
			return false, "", nil
		}
		prev = string(raw)
		_ = json.Unmarshal(raw, &prev)
	}
	d.helpers[host], _ = json.Marshal(helperName)
	return true, prev, d.write()
}

// removeCredHelper deletes credHelpers[host] from the docker config file
// at path when it is "chainctl", keeping every other key as it was. It
// returns "" when it removed it, noEntry when there was none (or no
// file), and otherwise the helper the host uses, which it leaves alone.
func removeCredHelper(path, host string) (other string, err error) {
	d, err := readDockerConfig(path, false)
	if errors.Is(err, fs.ErrNotExist) {
		return noEntry, nil
	}
	if err != nil {
		return "", err
	}
	raw, ok := d.helpers[host]
	if !ok {
		return noEntry, nil
	}
	var v string
	if json.Unmarshal(raw, &v) != nil || v != helperName {
		if v == "" {
			v = string(raw)
		}
		return v, nil
	}
	delete(d.helpers, host)
	return "", d.write()
}

// dockerConfig is docker's config.json as read, to be written back with
// only credHelpers changed.
type dockerConfig struct {
	path    string
	mode    fs.FileMode
	cfg     map[string]json.RawMessage
	helpers map[string]json.RawMessage
}

// readDockerConfig reads the docker config file at path (through a
// symlink to its target, as docker writes it). A missing file is an empty
// one when create is set (its directory is made), else fs.ErrNotExist.
func readDockerConfig(path string, create bool) (*dockerConfig, error) {
	if p, err := filepath.EvalSymlinks(path); err == nil {
		path = p
	}
	d := &dockerConfig{path: path, mode: 0o600, cfg: map[string]json.RawMessage{}, helpers: map[string]json.RawMessage{}}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && create:
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create docker config directory: %w", err)
		}
		return d, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("read docker config: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read docker config: %w", err)
	}
	d.mode = fi.Mode().Perm()
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &d.cfg); err != nil {
			return nil, fmt.Errorf("read docker config %s: %w; fix or move the file and run this again", path, err)
		}
	}
	if raw, ok := d.cfg["credHelpers"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &d.helpers); err != nil {
			return nil, fmt.Errorf("read docker config %s: credHelpers is not an object: %w", path, err)
		}
	}
	return d, nil
}

// write replaces the file with d's credHelpers (dropped when empty) and
// every other key as read.
func (d *dockerConfig) write() error {
	if len(d.helpers) == 0 {
		delete(d.cfg, "credHelpers")
	} else {
		raw, err := json.Marshal(d.helpers)
		if err != nil {
			return err
		}
		d.cfg["credHelpers"] = raw
	}
	// Tabs, as docker writes the file.
	out, err := json.MarshalIndent(d.cfg, "", "\t")
	if err != nil {
		return err
	}
	if err := writeAtomic(d.path, append(out, '\n'), d.mode); err != nil {
		return fmt.Errorf("write docker config: %w", err)
	}
	return nil
}

// writeAtomic replaces path with data in mode, so docker never reads half
// a file.
func writeAtomic(path string, data []byte, mode fs.FileMode) error {
	return atomicfile.Write(path, data, mode, "")
}

// isChainctlHelper reports whether the program at path is chainctl's
// standalone credential helper (cmd/docker-credential-chainctl, installed
// next to chainctl by the release archives), by its version line
// "docker-credential-chainctl (chainctl) VERSION"; it returns VERSION.
func isChainctlHelper(path string) (string, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "version").Output()
	if err != nil {
		return "", false
	}
	_, v, ok := strings.Cut(strings.TrimSpace(string(out)), " (chainctl) ")
	return v, ok && strings.HasPrefix(string(out), linkName+" (chainctl) ")
}

// ensureLink makes sure docker-credential-chainctl, next to the chainctl
// executable, is chainctl's credential helper: the standalone program the
// release archives install, or else a link to chainctl, which answers as
// the helper when run by that name. It says what it found or did on w.
// When it cannot create the link it prints, on stderr, the command that
// would, and fails with cmdutil.ErrSilent: docker cannot use chainctl
// until the link exists.
func ensureLink(opts *ConfigureDockerOptions, registries string, w io.Writer) error {
	exe, err := opts.Executable()
	if err != nil {
		return fmt.Errorf("find the chainctl executable: %w", err)
	}
	if p, err := filepath.EvalSymlinks(exe); err == nil {
		exe = p
	}
	name := linkName
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	link := filepath.Join(filepath.Dir(exe), name)
	out := w
	if fi, err := os.Stat(link); err == nil {
		if efi, err := os.Stat(exe); err == nil && os.SameFile(fi, efi) {
			fmt.Fprintf(out, "%s already runs chainctl\n", link)
			return nil
		}
		if v, ok := isChainctlHelper(link); ok {
			fmt.Fprintf(out, "%s is chainctl's credential helper (%s)\n", link, v)
			return nil
		}
		fmt.Fprintf(out, "%s exists but is not this chainctl (%s); docker will run it for %s.\n"+
			"To use this chainctl, run:\n  ln -sf %s %s\n", link, exe, registries, exe, link)
		return nil
	} else if _, lerr := os.Lstat(link); lerr == nil {
		fmt.Fprintf(out, "%s is a broken link. To fix it, run:\n  ln -sf %s %s\n", link, exe, link)
		return nil
	}
	// A relative target keeps working when the directory moves, as
	// `make build` makes it.
	symlink := opts.Symlink
	if symlink == nil {
		symlink = os.Symlink
	}
	if err := symlink(filepath.Base(exe), link); err != nil {
		cmd := fmt.Sprintf("ln -s %s %s", exe, link)
		if errors.Is(err, fs.ErrPermission) {
			cmd = "sudo " + cmd
		}
		fmt.Fprintf(opts.IO.ErrOut, "Could not create %s: %v\nTo create it, run:\n  %s\n", link, err, cmd)
		return cmdutil.ErrSilent
	}
	fmt.Fprintf(out, "Created %s -> %s\n", link, filepath.Base(exe))
	return nil
}
