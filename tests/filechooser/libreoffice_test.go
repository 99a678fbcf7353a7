package filechooser_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestLibreOfficeWritesBesideGrant: real LibreOffice (headless, in a
// sandbox) opens a writable granted file and writes a converted copy beside
// it, in the granted file's folder inside, as a Save As with its own dialog
// would. Its lock file never reaches the host; the new file is asked about
// and, kept, is on the host with LibreOffice's bytes after the sandbox ended.
func TestLibreOfficeWritesBesideGrant(t *testing.T) {
	needBins(t, "soffice")
	t.Parallel()
	s := newSession(t, true)
	dir := hostFiles(t, map[string]string{"notes.txt": "notes written on the host\n"})
	a := s.sandbox(t, []string{"--name", "writer"}, "/bin/sh", "-c",
		`read p; d=$(dirname "$p"); soffice --headless --norestore -env:UserInstallation=file:///tmp/lo-profile --convert-to odt --outdir "$d" "$p" >/dev/null 2>&1; echo "rc=$?"; echo "== inside"; ls -A "$d"; echo "== end"; read x`)
	a.waitRegistered(t, s, "writer")
	a.Send(t, s.grantRW(t, "writer", filepath.Join(dir, "notes.txt")))

	s.question(t, a, "writer", "alt+k")
	out := a.WaitOutput(t, `(?s)rc=(\d+)\n== inside\n(.*)== end`)
	if out[1] != "0" {
		t.Fatalf("soffice --convert-to failed (rc=%s)\n%s", out[1], a.ErrOut.String())
	}
	if got := strings.Fields(out[2]); !reflect.DeepEqual(got, []string{"notes.odt", "notes.txt"}) {
		t.Errorf("inside, the granted file's folder lists %v", got)
	}
	odt := filepath.Join(dir, "notes.odt")
	eventually(t, s, func() bool {
		b, err := os.ReadFile(odt)
		return err == nil && strings.HasPrefix(string(b), "PK")
	}, "notes.odt (a zip) on the host")
	a.Send(t, "done")
	a.Wait(t)
	if l := listDir(t, dir); !reflect.DeepEqual(l, []string{"notes.odt", "notes.txt"}) {
		t.Errorf("after the sandbox ended the host folder holds %v (lock or hidden files left?)", l)
	}
	if got := readFile(t, filepath.Join(dir, "notes.txt")); got != "notes written on the host\n" {
		t.Errorf("the granted file changed: %q", got)
	}
}
