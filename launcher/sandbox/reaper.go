package sandbox

import (
	"os"
	"path/filepath"
)

// ReaperName is the small program (launcher/reaper/reaper.c) that init
// execs once the sandbox is built and its privileges are gone, instead of
// staying resident as a Go process: it starts the application, forwards
// signals to it, reaps, and exits with its status, in about a tenth of the
// memory (tests/bench/RESULTS.md, Launch). Built beside the airlock binary
// (tests/lib.sh, tests/harness) or installed in PREFIX/lib/airlock
// (meson.build). Without it init stays the reaper itself, as before.
const ReaperName = "airlock-reaper"

// FindReaper returns the host path of the reaper, "" when it is not
// installed, looked up where the file-dialog library is.
func FindReaper() string { return findHelper(ReaperName) }

// findHelper returns the resolved host path of a regular file that ships
// with airlock: $AIRLOCK_LIBDIR, beside the binary, ../lib/airlock from it,
// then PREFIX/lib/airlock; "" when there is none.
func findHelper(name string) string {
	var dirs []string
	if d := os.Getenv("AIRLOCK_LIBDIR"); d != "" {
		dirs = append(dirs, d)
	}
	if exe, err := os.Executable(); err == nil {
		d := filepath.Dir(exe)
		dirs = append(dirs, d, filepath.Join(d, "..", "lib", "airlock"))
	}
	dirs = append(dirs, "/usr/local/lib/airlock", "/usr/lib/airlock")
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			if real, err := filepath.EvalSymlinks(p); err == nil {
				return real
			}
		}
	}
	return ""
}
