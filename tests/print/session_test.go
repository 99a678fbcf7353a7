package print_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"airlock/tests/harness"
)

// session is one test's private world: its session bus (and so its own
// broker), XDG_RUNTIME_DIR, host X display and cupsd.
type session struct {
	e       *harness.Env
	runtime string
	x       *harness.Xvfb
	cups    *cups
}

func newSession(t *testing.T) *session {
	t.Helper()
	harness.NeedBins(t, "Xvfb", "Xephyr", "xdotool", "import")
	if err := os.Chmod("/dev/fuse", 0o666); err != nil && os.Geteuid() == 0 {
		t.Fatalf("chmod /dev/fuse: %v", err)
	}
	c := startCUPS(t)
	base := harness.Get(t)
	if base.Chooser == "" {
		t.Fatal("airlock-chooser was not built")
	}
	e := base.SessionBus(t)
	rt := base.UserDir(t)
	if err := os.Chmod(rt, 0o700); err != nil {
		t.Fatal(err)
	}
	e = e.WithEnv("XDG_RUNTIME_DIR="+rt, "XDG_STATE_HOME="+base.UserDir(t), "CUPS_SERVER="+c.sock)
	s := &session{e: e, runtime: rt, cups: c}
	s.x = e.StartXvfb(t)
	s.e = s.e.WithEnv(s.x.Env()...)
	return s
}

func (s *session) portalLog() string {
	b, _ := os.ReadFile(filepath.Join(s.runtime, "airlock", "portal.log"))
	return string(b)
}

// app is a sandbox left running while the test drives the dialog.
type app struct {
	*harness.App
	s *session
}

// sandbox starts `airlock run flags... -- command...` (harness.StartApp).
func (s *session) sandbox(t *testing.T, flags []string, command ...string) *app {
	t.Helper()
	return &app{App: s.e.StartApp(t, s.portalLog, flags, command...), s: s}
}

func xdo(t *testing.T, x *harness.Xvfb, args ...string) string {
	t.Helper()
	out, err := x.Host("xdotool", args...)
	if err != nil {
		t.Fatalf("xdotool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(out)
}

func chooserWindows(x *harness.Xvfb) []string {
	return x.Windows("--onlyvisible", "--class", "^airlock-chooser$")
}

// dialog waits for Airlock's print dialog on the host display, checks its
// title, waits until its printer list shows the queue as chosen (the
// Print button can be pressed) and focuses it.
func (s *session) dialog(t *testing.T, a *app, wantTitle string) string {
	t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	var wid string
	for {
		if w := chooserWindows(s.x); len(w) == 1 {
			wid = w[0]
			break
		}
		if a.Exited() {
			t.Fatalf("the application ended before the print dialog showed: %v\nportal log:\n%s", a.Res, s.portalLog())
		}
		if time.Now().After(deadline) {
			t.Fatalf("no print dialog on the host display\nstdout:\n%s\nstderr:\n%s\nportal log:\n%s", a.Out.String(), a.ErrOut.String(), s.portalLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := xdo(t, s.x, "getwindowname", wid); got != wantTitle {
		t.Errorf("print dialog title %q, want %q", got, wantTitle)
	}
	xdo(t, s.x, "windowfocus", "--sync", wid)
	return wid
}

// accept presses Return until the dialog is gone: GTK asks CUPS for its
// printers after the dialog shows, and until the default printer is listed
// and chosen the Print button is insensitive and Return does nothing. The
// limit guards against hangs only.
func (s *session) accept(t *testing.T, wid string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if !slices.Contains(chooserWindows(s.x), wid) {
			return
		}
		if time.Now().After(deadline) {
			s.screenshot(t)
			t.Fatalf("the print dialog never took Return (no printer chosen?)\nportal log:\n%s", s.portalLog())
		}
		s.x.Host("xdotool", "windowfocus", "--sync", wid)
		s.x.Host("xdotool", "key", "--clearmodifiers", "Return")
		time.Sleep(200 * time.Millisecond)
	}
}

// cancel presses Escape in the dialog.
func (s *session) cancel(t *testing.T, wid string) {
	t.Helper()
	xdo(t, s.x, "windowfocus", "--sync", wid)
	xdo(t, s.x, "key", "--clearmodifiers", "Escape")
}

func (s *session) screenshot(t *testing.T) {
	s.x.Screenshot(t, filepath.Join(os.TempDir(), fmt.Sprintf("airlock-print-%s.png", strings.ReplaceAll(t.Name(), "/", "_"))))
}

// userScript copies a file of the repository where the test user reads it.
func userScript(t *testing.T, rel string) string {
	t.Helper()
	return harness.Get(t).UserCopy(t, rel, 0o755)
}
