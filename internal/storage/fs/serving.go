package fs

import (
	"bytes"
	"errors"
	iofs "io/fs"
	"os"
	"path/filepath"

	"github.com/chainctl/chainctl/internal/atomicfile"
)

// servingMarker names, in root, the file a serving process keeps while it
// serves: the machine's boot id, removed at a clean stop.
const servingMarker = "serving"

// bootIDFile is where Linux says which boot this is.
const bootIDFile = "/proc/sys/kernel/random/boot_id"

// StartServing records that a process serves from root, and reports
// whether a crash of the machine may have left blobs whose bytes are not
// the ones verified when they were committed: the last process to serve
// did not stop cleanly, the machine has booted since (or which boot it
// was cannot be told), and blobs are not synced before they are
// acknowledged (WithSync off), so the last seconds of writes before a
// power loss may not have reached the disk. A process that was killed
// leaves its writes to the kernel, which still writes them.
func (s *Store) StartServing() (unchecked bool, err error) {
	marker := s.path(servingMarker)
	boot := bootID()
	prev, err := os.ReadFile(marker)
	switch {
	case errors.Is(err, iofs.ErrNotExist):
	case err != nil:
		return false, err
	default:
		unchecked = !s.sync && (boot == nil || !bytes.Equal(prev, boot))
	}
	// The marker must survive a power loss, or the next start would take
	// the crash for a clean stop.
	if err := atomicfile.Write(marker, boot, filePerm, ""); err != nil {
		return unchecked, err
	}
	return unchecked, fsyncDir(filepath.Dir(marker))
}

// StopServing records a clean stop.
func (s *Store) StopServing() error {
	err := os.Remove(s.path(servingMarker))
	if errors.Is(err, iofs.ErrNotExist) {
		return nil
	}
	return err
}

// bootID is this boot's id, or nil where the system does not say.
func bootID() []byte {
	b, err := os.ReadFile(bootIDFile)
	if err != nil || len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	return bytes.TrimSpace(b)
}
