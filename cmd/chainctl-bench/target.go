package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// target is a running registry and a client for it.
type target struct {
	name    string
	version string
	srv     *server
	client  *client
	// authenticated is set when the registry wants bearer tokens, and the
	// client sends them.
	authenticated bool
	// backend is the bucket server and database schema of chainctl-s3.
	backend *s3Backend
	// meta is the kind of metadata store the target runs on, which
	// workload evlist opens a store of its own of; evlog is that store,
	// once seeded, kept across rounds.
	meta  metaStore
	evlog *seededLog
}

// stop stops the registry, then whatever it stored its data in.
func (t *target) stop() {
	if t.client != nil {
		t.client.close()
	}
	t.srv.stop()
	if t.backend != nil {
		t.backend.close(context.Background())
	}
	if t.evlog != nil {
		if err := t.evlog.close(context.Background()); err != nil {
			fmt.Fprintf(os.Stderr, "warning: %s: close evlist's event log: %v\n", t.name, err)
		}
	}
}

// chainctlBinary resolves -chainctl to an absolute path: the server runs
// in its own directory, where a relative path would not resolve.
func (o options) chainctlBinary() (string, error) {
	bin, err := exec.LookPath(o.chainctl)
	if err != nil {
		return "", fmt.Errorf("chainctl binary: %w (run `make build`, or pass -chainctl)", err)
	}
	if bin, err = filepath.Abs(bin); err != nil {
		return "", fmt.Errorf("chainctl binary: %w", err)
	}
	return bin, nil
}

// availableTargets returns the targets of a run without -targets: chainctl
// and Distribution, and chainctl-s3 (on -s3-server) and in-memory when what
// they need is installed. It says on stderr why it leaves either out.
func (o options) availableTargets(ctx context.Context, stderr io.Writer) []string {
	targets := []string{targetChainctl}
	if err := s3Available(ctx, o.s3Server, o.postgres); err != nil {
		fmt.Fprintf(stderr, "note: chainctl-s3 (chainctl on S3, %s, + PostgreSQL) not run: %v\n", s3ServerLabel(o.s3Server), err)
	} else {
		targets = append(targets, targetChainctlS3)
	}
	targets = append(targets, targetDistribution)
	if _, err := findCrane(ctx); err != nil {
		fmt.Fprintf(stderr, "note: in-memory (crane registry serve, the limit chainctl is measured against) not run: %v\n", err)
	} else {
		targets = append(targets, targetInMemory)
	}
	return targets
}

// start launches the named registry with its data under dir.
func (o options) start(ctx context.Context, name, dir string) (*target, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	t := &target{name: name, meta: metaStore{kind: "sqlite", dir: filepath.Join(dir, "evlist")}}
	if name == targetChainctlS3 {
		t.meta = metaStore{kind: "postgres", dsn: o.postgres}
	}
	var password credential // nil: the registry must not want tokens
	switch name {
	case targetChainctl, targetChainctlS3:
		bin, err := o.chainctlBinary()
		if err != nil {
			return nil, err
		}
		t.version = lastField(binaryVersion(ctx, bin, "version")) // "version  v0.1.0"
		up, err := newUpstreamIssuer()
		if err != nil {
			return nil, err
		}
		cfg := filepath.Join(dir, "chainctl.yaml")
		if err := up.writeConfig(cfg); err != nil {
			return nil, err
		}
		var args, env []string
		if name == targetChainctlS3 {
			if t.backend, err = startS3Backend(ctx, o.s3Server, o.postgres, dir); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			args, env = t.backend.serveArgs(), t.backend.env()
		}
		args = append(args, o.chainctlArgs...)
		t.srv, err = startChainctl(ctx, name, bin, dir, addr, cfg, args, env)
		if err != nil {
			if t.backend != nil {
				t.backend.close(ctx)
			}
			return nil, err
		}
		password = up.token
	case targetDistribution:
		bin, err := exec.LookPath(o.distribution)
		if err != nil {
			return nil, fmt.Errorf("distribution binary: %w (install it with `./.ci/tools.sh bench`, or pass -distribution)", err)
		}
		t.version = lastField(binaryVersion(ctx, bin, "--version")) // "registry github.com/distribution/distribution/v3 v3.1.1"
		t.srv, err = startDistribution(ctx, bin, dir, addr)
		if err != nil {
			return nil, err
		}
	case targetInMemory:
		bin, err := findCrane(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		// "v0.22.1"; a sentence when the binary has no build information.
		if v := binaryVersion(ctx, bin, "version"); v != "" && !strings.Contains(v, " ") {
			t.version = "crane " + v
		}
		if t.srv, err = startInMemory(ctx, bin, dir, addr); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown target %q", name)
	}
	if t.client, err = newClient(t.srv.base); err != nil {
		t.stop()
		return nil, err
	}
	// Only chainctl serves /metrics, on the API's listener.
	t.client.server = &serverProbe{pid: t.srv.cmd.Process.Pid}
	if slices.Contains(chainctlTargets, name) {
		t.client.server.metrics = t.srv.base + "/metrics"
	}
	if t.backend != nil {
		t.client.server.bucketPid = t.backend.gw.cmd.Process.Pid
	}
	if t.authenticated, err = t.client.connect(ctx, password, time.Now); err != nil {
		t.stop()
		return nil, fmt.Errorf("%s: %w%s", name, err, t.srv.exited())
	}
	return t, nil
}
