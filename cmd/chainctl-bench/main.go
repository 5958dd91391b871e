// Command chainctl-bench runs the same load against `chainctl registry
// serve` and CNCF Distribution v3.1.1, side by side on loopback, and prints
// each figure for both with the ratio and the target the project set for
// it, and beside them the ratio to go-containerregistry's in-memory
// registry, the limit of the machine. `make bench` runs it;
// docs/performance.md describes the method.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	default:
		fmt.Fprintf(os.Stderr, "chainctl-bench: %v\n", err)
		os.Exit(1)
	}
}

// options are the command-line flags.
type options struct {
	chainctl     string
	helper       string
	chainctlArgs []string
	distribution string
	targets      []string
	// autoTargets is set when -targets was not given: chainctl-s3 and
	// in-memory then run too if what they need is available.
	autoTargets bool
	postgres    string
	s3Server    string // chainctl-s3's S3 server, one of s3Servers
	only        []string
	duration    time.Duration
	rounds      int
	quick       bool
	markdown    bool
	helperCalls int
	workdir     string
	timeout     time.Duration
	// evlistEvents and evlistQueries size workload evlist; 0 keeps the
	// configuration's.
	evlistEvents  int
	evlistQueries int
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("chainctl-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var only, targets, extra, s3Server string
	fs.StringVar(&o.chainctl, "chainctl", "bin/chainctl", "the chainctl `binary` to benchmark")
	fs.StringVar(&o.helper, "helper", "bin/docker-credential-chainctl", "the docker-credential-chainctl `binary` to time")
	fs.StringVar(&o.distribution, "distribution", "registry", "CNCF Distribution v3.1.1's registry `binary` (looked up in PATH)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long each manifest GET, HEAD, blob GET and /token phase runs; the tags list phase runs half as long")
	fs.IntVar(&o.rounds, "rounds", 1, "run every workload this many times, alternating the registries, and report medians")
	fs.StringVar(&only, "only", "", "comma-separated `workloads` to run, of "+strings.Join(workloadNames(), ",")+" (default all)")
	fs.StringVar(&targets, "targets", "", "comma-separated `registries` to run against, of "+strings.Join(allTargets(), ",")+
		" (default chainctl,distribution, chainctl-s3 when -s3-server's server is installed and -postgres answers, and in-memory when crane is installed)")
	fs.StringVar(&o.postgres, "postgres", defaultPostgres, "PostgreSQL `DSN` for chainctl-s3; each run creates a schema of its own there and drops it at the end")
	fs.StringVar(&s3Server, "s3-server", s3Versitygw, "the S3 `server` chainctl-s3 keeps its bucket on, started by the benchmark: "+strings.Join(s3Servers(), " or "))
	fs.BoolVar(&o.quick, "quick", false, "smoke run: 8 MiB blobs in 1 MiB chunks, 5 images, 50 tags, 1s phases")
	fs.BoolVar(&o.markdown, "markdown", false, "print the table as markdown, for docs/performance.md")
	fs.IntVar(&o.helperCalls, "helper-calls", 200, "time this many `docker-credential-chainctl get` calls from a warm cache against an empty Go program (0: skip)")
	fs.StringVar(&extra, "chainctl-args", "", "extra space-separated `arguments` for chainctl registry serve, on both chainctl targets")
	fs.StringVar(&o.workdir, "workdir", "", "`directory` for the registries' data (default the system temp dir)")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Minute, "abort the whole run after this long")
	fs.IntVar(&o.evlistEvents, "evlist-events", 0, "`events` workload evlist seeds its event log with (default 1000000; 50000 with -quick)")
	fs.IntVar(&o.evlistQueries, "evlist-queries", 0, "timed pages of each of evlist's filters (default 200; 50 with -quick)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: chainctl-bench [flags]\n\nRuns the same workloads against chainctl, CNCF Distribution and an in-memory registry and prints a table.\n\n"+
			"Targets:\n  chainctl     chainctl registry serve on its defaults: filesystem blobs, SQLite\n"+
			"  chainctl-s3  chainctl on S3 (a versitygw or SeaweedFS the benchmark starts, -s3-server)\n"+
			"               + PostgreSQL (-postgres), blob GETs answered with 307 to presigned bucket URLs\n"+
			"  distribution CNCF Distribution v3.1.1, filesystem\n"+
			"  in-memory    crane registry serve: go-containerregistry's registry in memory, no auth, no disk;\n"+
			"               the limit of the machine and client, holding every pushed blob in RAM\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\nWorkloads:\n")
		for _, w := range workloads() {
			fmt.Fprintf(fs.Output(), "  %-8s %s\n", w.name, w.about)
		}
	}
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.quick && !set["duration"] {
		o.duration = time.Second
	}
	if o.duration <= 0 || o.timeout <= 0 {
		return options{}, errors.New("-duration and -timeout must be positive")
	}
	if o.evlistEvents < 0 || o.evlistQueries < 0 {
		return options{}, errors.New("-evlist-events and -evlist-queries must not be negative")
	}
	if o.rounds < 1 || o.rounds > 100 {
		return options{}, fmt.Errorf("-rounds %d: want 1 to 100", o.rounds)
	}
	o.chainctlArgs = strings.Fields(extra)
	if !slices.Contains(s3Servers(), s3Server) {
		return options{}, fmt.Errorf("-s3-server %q: want %s", s3Server, strings.Join(s3Servers(), " or "))
	}
	o.s3Server = s3Server
	var err error
	if o.only, err = splitList(only, workloadNames()); err != nil {
		return options{}, fmt.Errorf("-only: %w", err)
	}
	if o.targets, err = splitList(targets, allTargets()); err != nil {
		return options{}, fmt.Errorf("-targets: %w", err)
	}
	if len(o.targets) == 0 {
		o.targets = []string{targetChainctl, targetDistribution}
		o.autoTargets = true
	}
	return o, nil
}

// splitList splits a comma-separated flag value and checks each item is
// one of valid.
func splitList(s string, valid []string) ([]string, error) {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !slices.Contains(valid, item) {
			return nil, fmt.Errorf("unknown %q, want one of %s", item, strings.Join(valid, ","))
		}
		if !slices.Contains(out, item) {
			out = append(out, item)
		}
	}
	return out, nil
}

func workloadNames() []string {
	var names []string
	for _, w := range workloads() {
		names = append(names, w.name)
	}
	return names
}

// config returns the workload sizes the flags ask for.
func (o options) config() config {
	cfg := defaultConfig()
	if o.quick {
		cfg = quickConfig()
	}
	cfg.duration = o.duration
	cfg.tagsDuration = o.duration / 2
	cfg.s3Server = o.s3Server
	if o.evlistEvents > 0 {
		cfg.eventLog = o.evlistEvents
	}
	if o.evlistQueries > 0 {
		cfg.eventLogQueries = o.evlistQueries
	}
	return cfg
}

// selected returns the workloads -only asks for, in their fixed order.
func (o options) selected() []workload {
	var out []workload
	for _, w := range workloads() {
		if len(o.only) == 0 || slices.Contains(o.only, w.name) {
			out = append(out, w)
		}
	}
	return out
}

func lastField(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

// workloadTimeout bounds one workload against one registry, beyond its
// load phases: at 1 MiB/s a 256 MiB push still finishes.
const workloadTimeout = 5 * time.Minute

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	cfg := o.config()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	dir, err := os.MkdirTemp(o.workdir, "chainctl-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if o.autoTargets {
		o.targets = o.availableTargets(ctx, stderr)
	}
	var targets []*target
	defer func() {
		for _, t := range targets {
			t.stop()
		}
	}()
	for _, name := range o.targets {
		t, err := o.start(ctx, name, filepath.Join(dir, name))
		if err != nil {
			return err
		}
		targets = append(targets, t)
		fmt.Fprintf(stderr, "%s %s serving at %s (pid %d), %s\n", t.name, t.version, t.srv.base, t.srv.cmd.Process.Pid, authNote(t.authenticated))
		if name == targetChainctl && !t.authenticated {
			fmt.Fprintln(stderr, "note: chainctl answered GET /v2/ without a token, so the run is unauthenticated; "+
				"the anon row then compares two anonymous GET loads")
		}
		if name == targetDistribution && t.version != "" && !strings.HasPrefix(t.version, "v3.1.1") {
			fmt.Fprintf(stderr, "warning: the targets were set against Distribution v3.1.1, this is %s\n", t.version)
		}
	}

	rep := newReport(cfg)
	wls := o.selected()
	for _, w := range wls {
		if !slices.ContainsFunc(o.targets, w.runsAgainst) {
			fmt.Fprintf(stderr, "note: %s runs against %s only; skipped\n", w.name, strings.Join(w.only, " and "))
		}
	}
	for round := range o.rounds {
		for k, w := range wls {
			var ts []*target
			for _, t := range targets {
				if w.runsAgainst(t.name) {
					ts = append(ts, t)
				}
			}
			// Alternate which registry goes first, from workload to
			// workload and round to round, so neither always runs on a
			// warmer (or more fragmented) machine.
			for j := range ts {
				t := ts[(j+k+round)%len(ts)]
				if o.rounds > 1 {
					fmt.Fprintf(stderr, "round %d  ", round+1)
				}
				fmt.Fprintf(stderr, "%-8s %-13s ", w.name, t.name)
				settle()
				limit := workloadTimeout + 2*cfg.duration
				if w.direct != nil {
					limit += evListSeedLimit // its seeding, in round 0
				}
				wctx, cancel := context.WithTimeout(ctx, limit)
				var out outcome
				var err error
				if w.direct != nil {
					out, err = w.direct(wctx, t, cfg, round)
				} else {
					out, err = w.run(wctx, t.client, cfg, round)
				}
				cancel()
				if err != nil {
					fmt.Fprintln(stderr, "failed")
					return fmt.Errorf("%s against %s: %w%s", w.name, t.name, err, t.srv.exited())
				}
				rep.add(t.name, w.name, out)
				fmt.Fprintln(stderr, summary(cfg, out))
			}
		}
	}
	for _, t := range targets {
		rss, err := t.srv.peakRSS()
		if err != nil {
			fmt.Fprintf(stderr, "warning: %s: %v\n", t.name, err)
			continue
		}
		rep.add(t.name, "rss", outcome{values: map[string]float64{"rss": mib(rss)}, cpu: -1})
	}

	var helper *helperTiming
	if o.helperCalls > 0 && slices.Contains(o.targets, targetChainctl) {
		fmt.Fprintf(stderr, "helper   docker-credential-chainctl get × %d ", o.helperCalls)
		bin, err := filepath.Abs(o.chainctl)
		if err != nil {
			return err
		}
		helperBin, err := filepath.Abs(o.helper)
		if err != nil {
			return err
		}
		if helper, err = measureHelper(ctx, helperBin, bin, filepath.Join(dir, "helper"), o.helperCalls); err != nil {
			fmt.Fprintln(stderr, "failed")
			return err
		}
		fmt.Fprintf(stderr, "%v (linked chainctl %v) vs %v\n", helper.helper, helper.link, helper.noop)
	}

	fmt.Fprintln(stdout, machineLine(targets, o.rounds))
	fmt.Fprintln(stdout)
	if o.markdown {
		err = rep.writeMarkdown(stdout)
	} else {
		err = rep.writeText(stdout)
	}
	if helper != nil && err == nil {
		helper.write(stdout, o.markdown)
	}
	return err
}
