package filechooser_test

import (
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestChooserKilled: when Airlock's chooser process is killed while the
// application waits (the user's session ends it, or it crashes), the
// application gets a Response (2: other), never a hang, and no grant.
func TestChooserKilled(t *testing.T) {
	t.Parallel()
	s := newSession(t, true)
	notes := userScript(t, "tests/demo/notes.py")
	a := s.sandbox(t, []string{"--display", "xephyr", "--name", "killed", "--ro", notes},
		"/usr/bin/python3", notes, "--open", "--quit-after")

	wid := s.dialog(t, a, "killed wants to open a file")
	pid, err := strconv.Atoi(strings.TrimSpace(xdo(t, s.x, "getwindowpid", wid)))
	if err != nil {
		t.Fatalf("no pid for the chooser window: %v", err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill the chooser: %v", err)
	}
	res := a.Wait(t)
	// GTK maps the portal's response 2 to GTK_RESPONSE_DELETE_EVENT (-4).
	if !strings.Contains(res.Stdout, "open: cancelled (-4)") {
		t.Fatalf("after the chooser was killed the application printed %q, want a cancelled open (-4)\nportal log:\n%s", res.Stdout, s.portalLog())
	}
	// The broker saw the chooser die and answered 2 without granting.
	if log := s.portalLog(); !strings.Contains(log, "file chooser failed") || strings.Contains(log, "msg=granted sandbox=killed") {
		t.Errorf("portal log does not show a failed, grant-less dialog:\n%s", log)
	}
}
