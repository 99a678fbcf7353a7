package portal_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startTicker starts a sandbox whose python3-gi application reads a
// setting every 0.2 s and logs OK/ERR lines to DIR/ticks, and waits for
// its first three OKs.
func startTicker(t *testing.T, s *session, name string) (*background, string) {
	t.Helper()
	py := script(t, "ticker.py")
	dir := s.e.UserDir(t)
	b := s.sandbox(t, "run", "--name", name, "--ro", py, "--rw", dir, "--", "/usr/bin/python3", py, dir)
	ticks := filepath.Join(dir, "ticks")
	waitFor(t, 60*time.Second, "the ticker's first calls", func() bool { return countLines(ticks, "OK") >= 3 || b.exited() })
	if b.exited() {
		t.Fatalf("ticker sandbox ended early: %v", b.res)
	}
	return b, dir
}

// TestBrokerReplace runs `airlock-portal --replace` while a sandbox's GDBus
// application is using the old broker: that application keeps being
// served, without a single error, a new sandbox registers with the new
// broker, and the old broker exits once its last sandbox has ended.
func TestBrokerReplace(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	ticker, dir := startTicker(t, s, "ticker-replace")
	ticks := filepath.Join(dir, "ticks")
	old := s.broker(t)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	repl := start(t, s.e.Command(ctx, s.e.Portal, "--replace"), cancel)
	waitFor(t, 30*time.Second, "the new broker to take the name", func() bool {
		return strings.Contains(repl.errOut.String(), "airlock-portal ready") || repl.exited()
	})
	if repl.exited() {
		t.Fatalf("airlock-portal --replace ended: %v", repl.res)
	}
	newPid := repl.cmd.Process.Pid
	waitFor(t, 30*time.Second, "the old broker to notice it was replaced", func() bool {
		return strings.Contains(s.portalLog(), "replaced by another broker")
	})
	if !alive(old) {
		t.Fatalf("the old broker exited while it still had a sandbox:\n%s", s.portalLog())
	}
	n0 := countLines(ticks, "OK")
	waitFor(t, 60*time.Second, "the running sandbox's application to keep being answered", func() bool {
		return countLines(ticks, "OK") >= n0+10 || ticker.exited()
	})
	if ticker.exited() {
		t.Fatalf("the running sandbox ended after the replacement: %v", ticker.res)
	}

	// A new sandbox registers with the new broker, and is served.
	r := s.sh(t, []string{"--name", "after-replace"}, `gdbus call --session -d org.freedesktop.portal.Desktop -o /org/freedesktop/portal/desktop -m org.freedesktop.DBus.Properties.Get org.freedesktop.portal.Settings version`)
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "(<uint32 2>,)" {
		t.Errorf("new sandbox after the replacement: %v", r)
	}
	if !strings.Contains(repl.errOut.String(), `msg="sandbox registered" sandbox=after-replace`) {
		t.Errorf("the new sandbox did not register with the new broker; new broker's log:\n%s", repl.errOut.String())
	}
	if strings.Contains(s.portalLog(), "sandbox=after-replace") {
		t.Errorf("the old broker saw the new sandbox:\n%s", s.portalLog())
	}

	// The old broker's last sandbox ends: it exits, the new one stays.
	os.WriteFile(filepath.Join(dir, "stop"), nil, 0o644)
	if res := ticker.wait(t, 60*time.Second); res.Code != 0 {
		t.Errorf("ticker sandbox: %v", res)
	}
	if errs := linesWithPrefix(ticks, "ERR"); len(errs) != 0 {
		t.Errorf("the application saw errors across the replacement: %q", errs)
	}
	waitFor(t, 30*time.Second, "the old broker to exit after its last sandbox", func() bool { return !alive(old) })
	if !strings.Contains(s.portalLog(), "replaced, and the last sandbox of this broker ended: exiting") {
		t.Errorf("old broker's log lacks its exit reason:\n%s", s.portalLog())
	}
	if b := s.brokers(); len(b) != 1 || b[0] != newPid {
		t.Errorf("brokers after the old one left: %v, want only the new one (%d)", b, newPid)
	}
}

// TestBrokerKilled kills the broker with SIGKILL under a running sandbox
// whose python3-gi application uses the bus every 0.2 s.
//
// Observed outcome (and asserted): the sandbox's bus is served by the
// broker alone, so its connection is lost and cannot come back. GDBus
// treats the loss of the session bus as the end of the session
// (exit-on-close, the default for g_bus_get): the application is
// terminated by SIGTERM, which GLib raises itself, before its next call
// can fail, so the log holds only OKs and `airlock run` reports 128+15.
// A new sandbox then gets a new broker, started by its launcher.
func TestBrokerKilled(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	ticker, dir := startTicker(t, s, "ticker-kill")
	ticks := filepath.Join(dir, "ticks")
	pid := s.broker(t)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	res := ticker.wait(t, 60*time.Second)
	t.Logf("after SIGKILL of the broker: airlock run: %v\nticks:\n%s", res, readFile(ticks))
	if res.Code != 128+int(syscall.SIGTERM) {
		t.Errorf("airlock run status %d, want %d (GDBus ends the application with SIGTERM when its bus closes)", res.Code, 128+int(syscall.SIGTERM))
	}
	if countLines(ticks, "STOP") != 0 {
		t.Errorf("the application stopped on its own, not because its bus went away")
	}
	if errs := linesWithPrefix(ticks, "ERR"); len(errs) != 0 {
		t.Errorf("the application logged errors: %q", errs)
	}
	r := s.sh(t, []string{"--name", "after-kill"}, `gdbus call --session -d org.freedesktop.portal.Desktop -o /org/freedesktop/portal/desktop -m org.freedesktop.DBus.Properties.Get org.freedesktop.portal.Settings version`)
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "(<uint32 2>,)" {
		t.Errorf("new sandbox after the broker was killed: %v", r)
	}
	if b := s.brokers(); len(b) != 1 || b[0] == pid {
		t.Errorf("brokers after the kill: %v, want one new broker", b)
	}
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}
