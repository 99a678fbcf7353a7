package control

import (
	"errors"
	"os"
	"path/filepath"
)

// LogFile is the broker's log file, in the session's runtime folder: the
// launcher starts a broker with its output there, a broker started by
// D-Bus activation writes there with --runtime-log (the service file says
// so), and `airlock log` reads it (and LogFile + ".1", the rotated one).
// Under systemd the broker logs to the journal instead.
func LogFile() (string, error) {
	d := os.Getenv("XDG_RUNTIME_DIR")
	if d == "" {
		return "", errors.New("XDG_RUNTIME_DIR is not set")
	}
	return filepath.Join(d, "airlock", "portal.log"), nil
}
