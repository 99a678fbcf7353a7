package brokerclient

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ibusDaemonRunning reads ibus-daemon's address file for this display, the
// way IBus's clients find the daemon (ibus_get_socket_path), and checks
// that the process it names is alive.
func ibusDaemonRunning() bool {
	cfg := os.Getenv("XDG_CONFIG_HOME")
	if cfg == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return false
		}
		cfg = filepath.Join(home, ".config")
	}
	id, err := os.ReadFile("/etc/machine-id")
	if err != nil {
		if id, err = os.ReadFile("/var/lib/dbus/machine-id"); err != nil {
			return false
		}
	}
	display := "0"
	if w := os.Getenv("WAYLAND_DISPLAY"); w != "" {
		display = w
	} else if d := os.Getenv("DISPLAY"); d != "" {
		// ":1.0" and "host:1" name display 1.
		_, num, _ := strings.Cut(d, ":")
		num, _, _ = strings.Cut(num, ".")
		if num != "" {
			display = num
		}
	}
	f, err := os.Open(filepath.Join(cfg, "ibus", "bus", strings.TrimSpace(string(id))+"-unix-"+display))
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "IBUS_DAEMON_PID="); ok {
			pid, err := strconv.Atoi(v)
			return err == nil && pid > 0 && unix.Kill(pid, 0) == nil
		}
	}
	return false
}
