package filechooser_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"airlock/tests/harness"
)

// linkHandler installs, for the broker's host session, a real desktop
// handler (a .desktop file in XDG_DATA_HOME, the default for web links and
// text files in XDG_CONFIG_HOME's mimeapps.list) that records what it was
// asked to open: the host's own xdg-open / gio open run it, as they would
// run a browser. It returns the record file.
func linkHandler(t *testing.T, s *session) string {
	t.Helper()
	e := harness.Get(t)
	data, config, rec := e.UserDir(t), e.UserDir(t), e.UserDir(t)
	record := filepath.Join(rec, "opened")
	script := filepath.Join(rec, "handler.sh")
	e.WriteUserFile(t, script, "#!/bin/sh\nprintf '%s\\n' \"$1\" >>"+record+"\n", 0o755)
	os.MkdirAll(filepath.Join(data, "applications"), 0o755)
	e.WriteUserFile(t, filepath.Join(data, "applications", "airlock-test-open.desktop"), `[Desktop Entry]
Type=Application
Name=Airlock test handler
Exec=`+script+` %u
MimeType=x-scheme-handler/http;x-scheme-handler/https;x-scheme-handler/mailto;text/plain;
NoDisplay=true
`, 0o644)
	var m strings.Builder
	m.WriteString("[Default Applications]\n")
	for _, k := range []string{"x-scheme-handler/http", "x-scheme-handler/https", "x-scheme-handler/mailto", "text/plain"} {
		m.WriteString(k + "=airlock-test-open.desktop\n")
	}
	e.WriteUserFile(t, filepath.Join(config, "mimeapps.list"), m.String(), 0o644)
	s.e = s.e.WithEnv("XDG_DATA_HOME="+data, "XDG_CONFIG_HOME="+config)
	return record
}

func opened(record string) string {
	b, _ := os.ReadFile(record)
	return string(b)
}

// openScript runs in the sandbox: each line on stdin is a target for GIO's
// own "gio open" (which, in a sandbox, goes through the OpenURI portal);
// "py" runs the hostile client instead.
const openScript = `while read what arg; do
  case "$what" in
  open) gio open "$arg" >/tmp/gio.out 2>&1; echo "== opened $? $arg";;
  own) echo mine >/tmp/own.txt; gio open /tmp/own.txt >/tmp/gio.out 2>&1; echo "== own $?";;
  py) /usr/bin/python3 "$1"; echo "== py";;
  quit) exit 0;;
  esac
done`

// TestOpenURIAsks: a link or a granted file opens in the host's handler
// only after the user's Open in Airlock's dialog; Don't Open opens nothing;
// a file of the sandbox's own, file: and javascript: links, control
// characters, a 10 KB link and a link with a user name are refused without
// a dialog; a profile with open_uri = "none" gets no dialog and opens
// nothing.
func TestOpenURIAsks(t *testing.T) {
	needBins(t, "gio")
	t.Parallel()
	s := newSession(t, true)
	record := linkHandler(t, s)
	py := userScript(t, "tests/filechooser/testdata/openuri.py")
	dir := hostFiles(t, map[string]string{"notes.txt": "hello\n"})
	a := s.sandbox(t, []string{"--name", "linker", "--ro", py}, "/bin/sh", "-c", openScript, "sh", py)
	a.waitRegistered(t, s, "linker")
	const title = "linker wants to open something on this computer"

	yes := "https://example.org/yes?q=1&r=%41"
	a.Send(t, "open "+yes)
	s.dialog(t, a, title)
	s.screenshot(t)
	s.key(t, "alt+o")
	eventually(t, s, func() bool { return strings.Contains(opened(record), yes+"\n") }, "the handler to get "+yes)

	no := "https://example.org/no"
	a.Send(t, "open "+no)
	s.dialog(t, a, title)
	s.key(t, "alt+d")
	a.WaitOutput(t, `^== opened \d+ `+no+`$`)
	s.noQuestion(t, "after Don't Open")
	if strings.Contains(opened(record), no) {
		t.Errorf("Don't Open opened %s", no)
	}

	inside := s.grantRO(t, "linker", filepath.Join(dir, "notes.txt"))
	a.Send(t, "open "+inside)
	s.dialog(t, a, title)
	s.key(t, "alt+o")
	eventually(t, s, func() bool { return strings.Contains(opened(record), filepath.Join(dir, "notes.txt")) }, "the handler to get the granted file")

	a.Send(t, "own")
	a.WaitOutput(t, `^== own \d+$`)
	s.noQuestion(t, "a file of the sandbox's own")
	a.Send(t, "py")
	a.WaitOutput(t, `^== py$`)
	s.noQuestion(t, "hostile links")
	for _, name := range []string{"javascript", "file", "control", "long", "userinfo", "bidi"} {
		if !strings.Contains(a.Out.String(), "refused "+name+" org.freedesktop.portal.Error.NotAllowed\n") {
			t.Errorf("the %s link was not refused:\n%s", name, a.Out.String())
		}
	}
	if got := strings.Count(opened(record), "\n"); got != 2 {
		t.Errorf("the handler ran %d times, want 2 (the link and the file the user let open):\n%s", got, opened(record))
	}
	a.Send(t, "quit")
	a.Wait(t)

	// open_uri = "none": refused, no dialog.
	e := harness.Get(t)
	prof := filepath.Join(e.UserDir(t), "nolinks.toml")
	e.WriteUserFile(t, prof, "display_name = \"No links\"\nopen_uri = \"none\"\n", 0o644)
	b := s.sandbox(t, []string{"--profile", prof, "--name", "nolinks"}, "/bin/sh", "-c", openScript, "sh", py)
	b.waitRegistered(t, s, "nolinks")
	b.Send(t, "open https://example.org/none")
	b.WaitOutput(t, `^== opened \d+ https://example.org/none$`)
	s.noQuestion(t, `open_uri = "none"`)
	b.Send(t, "quit")
	b.Wait(t)
	if strings.Contains(opened(record), "none") {
		t.Errorf(`a profile with open_uri = "none" opened a link`)
	}
	if !strings.Contains(s.portalLog(), "open link refused by the profile") {
		t.Errorf("the refusal is not in the log:\n%s", s.portalLog())
	}
}

// TestTrashGrantedFile: GIO's own trash inside the sandbox (which, in a
// sandbox, goes through the Trash portal) moves a file granted writable to
// the host's trash, with its info file, and ends the grant; a file granted
// read-only and a file of the sandbox's own are not trashed.
func TestTrashGrantedFile(t *testing.T) {
	needBins(t, "gio")
	t.Parallel()
	s := newSession(t, false)
	e := harness.Get(t)
	data := e.UserDir(t)
	s.e = s.e.WithEnv("XDG_DATA_HOME=" + data)
	content := randomText("trash")
	dir := hostFiles(t, map[string]string{"old draft.txt": content, "keep.txt": "keep"})
	script := `while read what p; do
  case "$what" in
  trash) gio trash "$p" 2>&1; r=$?; [ -e "$p" ] && echo "== trash $r kept $p" || echo "== trash $r gone $p";;
  own) echo x >/tmp/own.txt; gio trash /tmp/own.txt; echo "== own $?";;
  quit) exit 0;;
  esac
done`
	a := s.sandbox(t, []string{"--name", "trasher"}, "/bin/sh", "-c", script)
	a.waitRegistered(t, s, "trasher")

	ro := s.grantRO(t, "trasher", filepath.Join(dir, "keep.txt"))
	a.Send(t, "trash "+ro)
	if m := a.WaitOutput(t, `^== trash (\d+) (\w+) `+regexp.QuoteMeta(ro)+`$`); m[1] == "0" || m[2] != "kept" {
		t.Errorf("gio trash of a read-only grant: exit %s, file %s", m[1], m[2])
	}
	a.Send(t, "own")
	if m := a.WaitOutput(t, `^== own (\d+)$`); m[1] == "0" {
		t.Errorf("gio trash of the sandbox's own file succeeded through the portal")
	}
	if got := readFile(t, filepath.Join(dir, "keep.txt")); got != "keep" {
		t.Errorf("the read-only grant changed: %q", got)
	}

	rw := s.grantAs(t, "trasher", filepath.Join(dir, "old draft.txt"), "--rw")
	a.Send(t, "trash "+rw)
	if m := a.WaitOutput(t, `^== trash (\d+) (\w+) `+regexp.QuoteMeta(rw)+`$`); m[1] != "0" || m[2] != "gone" {
		t.Errorf("gio trash of a writable grant: exit %s, file %s\n%s\n%s", m[1], m[2], a.Out.String(), s.portalLog())
	}
	trashed := filepath.Join(data, "Trash", "files", "old draft.txt")
	if got := readFile(t, trashed); got != content {
		t.Errorf("the trash holds %q, want %q", got, content)
	}
	info, err := os.ReadFile(filepath.Join(data, "Trash", "info", "old draft.txt.trashinfo"))
	if err != nil || !strings.Contains(string(info), "Path="+strings.ReplaceAll(dir, " ", "%20")+"/old%20draft.txt\n") ||
		!strings.Contains(string(info), "DeletionDate="+time.Now().Format("2006-01-02")) {
		t.Errorf("info file: %v\n%s", err, info)
	}
	if _, err := os.Stat(filepath.Join(dir, "old draft.txt")); !os.IsNotExist(err) {
		t.Errorf("the file is still in its folder: %v", err)
	}
	for _, g := range s.grants(t, "trasher") {
		if strings.HasSuffix(g.Host, "old draft.txt") {
			t.Errorf("the trashed file's grant is still there: %+v", g)
		}
	}
	a.Send(t, "quit")
	a.Wait(t)
}
