package gc

import (
	"os"
	"time"

	"github.com/chainctl/chainctl/internal/gc"
)

func chtimes(path string, t time.Time) error { return os.Chtimes(path, t, t) }

func gcProgress(phase string, pass, examined int) gc.Progress {
	return gc.Progress{Phase: gc.Phase(phase), Pass: pass, Examined: examined}
}
