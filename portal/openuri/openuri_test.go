package openuri

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"golang.org/x/sys/unix"

	"airlock/chooser-ui/protocol"
	"airlock/portal/busserver"
	"airlock/portal/busserver/bustest"
	"airlock/portal/desktop"
	"airlock/portal/grant"
)

// user answers the dialogs the portal shows and records them.
type user struct {
	mu     sync.Mutex
	answer string
	asked  []protocol.Request
	opened []string
}

func (u *user) dialog(_ context.Context, r protocol.Request) (protocol.Response, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.asked = append(u.asked, r)
	return protocol.Response{Response: protocol.ResponseSuccess, Answer: u.answer}, nil
}

func (u *user) open(target string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.opened = append(u.opened, target)
	return nil
}

func (u *user) counts() (int, int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.asked), len(u.opened)
}

type noGrants struct{}

func (noGrants) ByFD(string, int) (grant.Grant, bool) { return grant.Grant{}, false }

// oneGrant holds one granted host file: a descriptor of that very file is
// its grant (as grants.ByFD answers for a native bind).
type oneGrant struct{ path string }

func (g oneGrant) ByFD(sandbox string, fd int) (grant.Grant, bool) {
	var a, b unix.Stat_t
	if sandbox != "id" || unix.Fstat(fd, &a) != nil || unix.Stat(g.path, &b) != nil || a.Dev != b.Dev || a.Ino != b.Ino {
		return grant.Grant{}, false
	}
	return grant.Grant{Sandbox: sandbox, DocID: "abcdefgh", HostPath: g.path}, true
}

func start(t *testing.T, policy string, u *user) *dbus.Conn {
	return startWith(t, policy, u, noGrants{})
}

func startWith(t *testing.T, policy string, u *user, reg Grants) *dbus.Conn {
	t.Helper()
	lg := slog.New(slog.DiscardHandler)
	s := busserver.New(busserver.Config{SandboxID: "id", SandboxName: "Browser", UID: os.Getuid(), Logger: lg})
	d := desktop.Install(s, desktop.Options{Logger: lg})
	Install(d, Sandbox{ID: "id", Name: "Browser", Color: "#c03a7e", Policy: policy}, reg, u.dialog, u.open, lg)
	path := filepath.Join(t.TempDir(), "bus")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return bustest.Dial(t, "unix:path="+path)
}

// call makes an OpenURI call and waits for its Response ("" error name and
// the code), or returns the error name of a refusal.
func call(t *testing.T, c *dbus.Conn, method string, args ...any) (string, uint32) {
	t.Helper()
	sig := make(chan *dbus.Signal, 4)
	c.Signal(sig)
	defer c.RemoveSignal(sig)
	if err := c.AddMatchSignal(dbus.WithMatchInterface("org.freedesktop.portal.Request")); err != nil {
		t.Fatal(err)
	}
	var h dbus.ObjectPath
	err := c.Object(desktop.BusName, desktop.ObjectPath).Call(Interface+"."+method, 0, args...).Store(&h)
	if err != nil {
		return bustest.ErrName(err), 0
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case s := <-sig:
			if s.Name != "org.freedesktop.portal.Request.Response" {
				continue // NameAcquired and the like
			}
			if s.Path != h {
				t.Fatalf("response on %s, want %s", s.Path, h)
			}
			return "", s.Body[0].(uint32)
		case <-deadline:
			t.Fatal("no response")
		}
	}
}

func TestOpenURIAsksFirst(t *testing.T) {
	u := &user{answer: protocol.AnswerOpen}
	c := start(t, PolicyAsk, u)
	opts := map[string]dbus.Variant{}
	if e, code := call(t, c, "OpenURI", "", "https://example.org/a", opts); e != "" || code != desktop.ResponseSuccess {
		t.Fatalf("open: %q %d", e, code)
	}
	u.answer = protocol.AnswerDontOpen
	if e, code := call(t, c, "OpenURI", "", "https://example.org/b", opts); e != "" || code != desktop.ResponseCancelled {
		t.Fatalf("don't open: %q %d", e, code)
	}
	for _, bad := range []string{"file:///etc/passwd", "javascript:alert(1)", "https://a.example/\x1b[2J", "https://u@a.example/"} {
		if e, _ := call(t, c, "OpenURI", "", bad, opts); e != desktop.ErrNotAllowed {
			t.Errorf("%q: %q, want NotAllowed", bad, e)
		}
	}
	asked, opened := u.counts()
	if asked != 2 || opened != 1 || u.opened[0] != "https://example.org/a" {
		t.Errorf("asked %d, opened %v; want 2 questions and the first link opened", asked, u.opened)
	}
	if r := u.asked[0]; r.Mode != protocol.ModeOpenURI || r.SandboxName != "Browser" || r.SandboxColor != "#c03a7e" || r.OpenURI.URI != "https://example.org/a" {
		t.Errorf("question %+v", r)
	}
	// A descriptor of anything but a grant: refused, nobody asked.
	f, _ := os.Open("/etc/hostname")
	defer f.Close()
	if e, _ := call(t, c, "OpenFile", "", dbus.UnixFD(f.Fd()), opts); e != "org.freedesktop.DBus.Error.AccessDenied" {
		t.Errorf("OpenFile of a file not granted: %q", e)
	}
	if asked2, _ := u.counts(); asked2 != asked {
		t.Error("a file not granted was asked about")
	}
}

func TestOpenURIPolicyNone(t *testing.T) {
	u := &user{answer: protocol.AnswerOpen}
	c := start(t, PolicyNone, u)
	if e, _ := call(t, c, "OpenURI", "", "https://example.org/", map[string]dbus.Variant{}); e != desktop.ErrNotAllowed {
		t.Errorf("policy none: %q", e)
	}
	if a, o := u.counts(); a != 0 || o != 0 {
		t.Errorf("asked %d, opened %d", a, o)
	}
}

func TestOpenFileAndDirectory(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "report.pdf")
	os.WriteFile(p, []byte("%PDF"), 0o600)
	u := &user{answer: protocol.AnswerOpen}
	c := startWith(t, PolicyAsk, u, oneGrant{p})
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	opts := map[string]dbus.Variant{}
	if e, code := call(t, c, "OpenFile", "", dbus.UnixFD(f.Fd()), opts); e != "" || code != desktop.ResponseSuccess {
		t.Fatalf("OpenFile: %q %d", e, code)
	}
	if e, code := call(t, c, "OpenDirectory", "", dbus.UnixFD(f.Fd()), opts); e != "" || code != desktop.ResponseSuccess {
		t.Fatalf("OpenDirectory: %q %d", e, code)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.opened) != 2 || u.opened[0] != p || u.opened[1] != dir {
		t.Errorf("opened %q, want the file then its folder", u.opened)
	}
	if q := u.asked[1].OpenURI; q.Path != dir || !q.Directory {
		t.Errorf("the folder question: %+v", q)
	}
}

func TestOpenURIRateLimited(t *testing.T) {
	u := &user{answer: protocol.AnswerDontOpen}
	c := start(t, PolicyAsk, u)
	limited := 0
	for i := 0; i < dialogBurst+3; i++ {
		if e, _ := call(t, c, "OpenURI", "", "https://example.org/", map[string]dbus.Variant{}); e == "org.freedesktop.DBus.Error.LimitsExceeded" {
			limited++
		}
	}
	if a, _ := u.counts(); a > dialogBurst+1 || limited == 0 {
		t.Errorf("%d questions asked, %d refused: no storm limit", a, limited)
	}
}
