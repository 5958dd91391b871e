// Command docker-credential-chainctl is docker's credential helper for
// chainctl registries (docker, crane, oras and skopeo run it by this name;
// see `chainctl auth configure-docker`).
//
// It is a small program of its own, not a link to chainctl, because docker
// runs it before every pull and push: from a warm token cache it reads one
// file and answers, without the start-up work of the whole chainctl binary
// (measured in docs/performance.md). When the cache has nothing usable it
// runs `chainctl auth credential-helper get`, which renews the session.
package main

import (
	"context"
	"os"

	"github.com/chainctl/chainctl/internal/credhelper"
	"github.com/chainctl/chainctl/internal/version"
)

func main() {
	h := credhelper.Standalone(version.Get().Version, os.Getenv)
	os.Exit(h.Run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
