package backend

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/config"
)

// ErrNoRegistry is wrapped by CheckExisting's error when the configuration
// names a registry that was never created.
var ErrNoRegistry = errors.New("no registry")

// CheckExisting refuses a configuration whose local data does not exist:
// a command that reads a registry (gc, keys rotate) must not create an
// empty one where it looked, and then report nothing done about the wrong
// registry. Only local data is checked, a SQLite database file and a file
// storage directory (when storage is true: the command uses the blobs).
// The error names what was looked at, with a hint.
func CheckExisting(cfg *config.Serve, storage bool) error {
	var missing []string
	check := func(what, path string) error {
		_, err := os.Stat(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			missing = append(missing, what+" "+path)
		case err != nil:
			return fmt.Errorf("look for the registry's %s: %w", what, err)
		}
		return nil
	}
	if cfg.Database.Type == config.DatabaseSQLite {
		if err := check("database", cfg.Database.Path); err != nil {
			return err
		}
	}
	if storage && cfg.Storage.Type == config.StorageFile {
		if err := check("blob directory", cfg.Storage.Path); err != nil {
			return err
		}
	}
	if len(missing) == 0 {
		return nil
	}
	where := ""
	if cfg.DataDir != "" {
		where = " in data directory " + cfg.DataDir
	}
	verb := "does not exist"
	if len(missing) > 1 {
		verb = "do not exist"
	}
	return &cmdutil.HintError{
		Err: fmt.Errorf("%w%s: %s %s", ErrNoRegistry, where, strings.Join(missing, " and "), verb),
		Hint: "pass the settings `chainctl registry serve` runs with (--data-dir, --database, --storage or --config); " +
			"nothing is created here",
	}
}
