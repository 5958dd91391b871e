package cli

import (
	"context"
	"os"

	"github.com/chainctl/chainctl/internal/cli/auth/credentialhelper"
	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/credhelper"
	"github.com/chainctl/chainctl/internal/iostreams"
	"github.com/chainctl/chainctl/internal/version"
)

// Main runs chainctl with args (without the program name) on the process's
// standard streams and returns the exit code for os.Exit.
func Main(ctx context.Context, args []string) ExitCode {
	return Run(ctx, NewFactory(iostreams.System()), args)
}

// Run executes the command tree for args with the dependencies in f, prints
// any error, and returns the exit code.
func Run(ctx context.Context, f *cmdutil.Factory, args []string) ExitCode {
	root := NewCmdRoot(f)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	printError(f.IOStreams, cmd, err, f.Globals.Output == cmdutil.OutputJSON || wantsJSON(args))
	return exitCode(err)
}

// CredentialHelperMain runs chainctl as docker-credential-chainctl, the
// docker credential helper, with args (without the program name).
func CredentialHelperMain(ctx context.Context, args []string) ExitCode {
	// No cobra tree is built here: docker runs the helper for every pull
	// and push, so it only opens the token cache and reads one file.
	h := credentialhelper.NewHelper(version.Get().Version, credhelper.OpenDefault, credentialhelper.DefaultRegistry(loadUserConfig))
	return ExitCode(h.Run(ctx, args, os.Stdin, os.Stdout, os.Stderr))
}
