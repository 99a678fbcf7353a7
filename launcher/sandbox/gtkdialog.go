package sandbox

import (
	"net/url"
	"path/filepath"
	"strings"
)

// GTK 3 applications that draw their own file dialog (gedit, LibreOffice's
// gtk3 plugin: GtkFileChooserDialog, never the portal) get a small library
// preloaded that shows the portal's dialog, Airlock's chooser, instead
// (launcher/gtkdialog/gtkdialog.c says how).
const (
	// GtkDialogLib is the library's file name, built beside the airlock
	// binary (tests/lib.sh, tests/harness) or installed in PREFIX/lib/airlock.
	GtkDialogLib = "libairlock-gtkdialog.so"
	// gtkDialogDir is where the sandbox sees it: bound read-only into /run
	// before /run is made read-only.
	gtkDialogDir = "/run/airlock"
)

// FindGtkDialogLib returns the host path of the library, "" when it is not
// installed: $AIRLOCK_LIBDIR, beside the binary, then PREFIX/lib/airlock.
func FindGtkDialogLib() string { return findHelper(GtkDialogLib) }

// gtkBookmarks is GTK's bookmarks file (~/.config/gtk-3.0/bookmarks, read
// by GTK 3 and 4 file dialogs) listing folders: one file:// URI and a label
// per line.
func gtkBookmarks(folders []string) string {
	var b strings.Builder
	for _, f := range folders {
		u := url.URL{Scheme: "file", Path: f}
		b.WriteString(u.String() + " " + filepath.Base(f) + "\n")
	}
	return b.String()
}
