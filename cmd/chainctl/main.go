// Command chainctl is a passwordless OCI container registry and its client.
// Installed (or linked) as docker-credential-chainctl it is docker's
// credential helper instead.
package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/chainctl/chainctl/internal/cli"
)

func main() {
	ctx := context.Background()
	name := strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe")
	if name == "docker-credential-chainctl" {
		os.Exit(int(cli.CredentialHelperMain(ctx, os.Args[1:])))
	}
	os.Exit(int(cli.Main(ctx, os.Args[1:])))
}
