package main

import (
	"context"

	"github.com/chainctl/chainctl/internal/toolpath"
)

// The in-memory target is go-containerregistry's registry as `crane
// registry serve` runs it: blobs and manifests in maps, no disk, no
// authentication, no durability. It does the least a registry can for each
// request, so its figures are the most this machine's HTTP stack and the
// benchmark's client allow, and chainctl / in-memory shows what is left to
// gain. It keeps every blob pushed to it in RAM for the whole run.

// findCrane returns crane's path from PATH, GOBIN or GOPATH/bin (where
// .ci/tools.sh installs it), or an error saying where it looked.
func findCrane(ctx context.Context) (string, error) {
	return toolpath.Find(ctx, "crane", nil)
}

// startInMemory starts `crane registry serve` on addr, with its log in dir.
// It logs every request, one write each, to that log: crane has no flag
// to turn that off.
func startInMemory(ctx context.Context, bin, dir, addr string) (*server, error) {
	return startProcess(ctx, targetInMemory, bin, []string{"registry", "serve", "--address", addr}, dir, nil, "http://"+addr, pingReady)
}
