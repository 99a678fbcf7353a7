package filechooser

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"airlock/chooser-ui/protocol"
	"airlock/portal/busserver"
	"airlock/portal/desktop"
	"airlock/portal/docpath"
	"airlock/portal/grant"
	"airlock/portal/grants"
	"airlock/portal/ratelimit"
)

// fakeGrants records grants; inside paths follow the document store's shape.
// The registry's own checks (symbolic links, kinds) are tested in
// portal/grants; here a pick in refuse cannot be granted.
type fakeGrants struct {
	mu     sync.Mutex
	grants []grant.Grant
	modes  []grants.Mode
	refuse map[string]bool
}

func (f *fakeGrants) Grant(sandbox, hostPath string, mode grants.Mode, writable bool) (grant.Grant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse[hostPath] {
		return grant.Grant{}, fmt.Errorf("cannot grant %q: refused by the test", hostPath)
	}
	id := "d" + string(rune('0'+len(f.grants)))
	st, err := os.Stat(hostPath)
	g := grant.Grant{Sandbox: sandbox, DocID: id, HostPath: hostPath, Inside: docpath.Inside(1000, id, filepath.Base(hostPath)),
		Dir: err == nil && st.IsDir(), Writable: writable || mode == grants.Save}
	f.grants = append(f.grants, g)
	f.modes = append(f.modes, mode)
	return g, nil
}

func (f *fakeGrants) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.grants)
}

// list and modeList copy what was granted: the portal grants on its own
// goroutine.
func (f *fakeGrants) list() []grant.Grant {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]grant.Grant(nil), f.grants...)
}

func (f *fakeGrants) modeList() []grants.Mode {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]grants.Mode(nil), f.modes...)
}

func (f *fakeGrants) Resolve(sandbox, inside string) (string, bool, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, g := range f.grants {
		if g.Inside == filepath.Clean(inside) {
			return g.HostPath, g.Dir, true
		}
	}
	return "", false, false
}

type harness struct {
	conn    *dbus.Conn
	grants  *fakeGrants
	reqs    chan protocol.Request
	answer  func(protocol.Request) (protocol.Response, error)
	portal  *Portal
	tempDir string
}

func start(t *testing.T, answer func(protocol.Request) (protocol.Response, error)) *harness {
	t.Helper()
	return startWith(t, answer, nil)
}

// startWith lets setup change the portal before the bus serves it.
func startWith(t *testing.T, answer func(protocol.Request) (protocol.Response, error), setup func(*Portal)) *harness {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := busserver.New(busserver.Config{SandboxID: "sb1", SandboxName: "Test", UID: os.Getuid(), Logger: log})
	d := desktop.Install(s, desktop.Options{Logger: log})
	h := &harness{grants: &fakeGrants{}, reqs: make(chan protocol.Request, 8), answer: answer, tempDir: t.TempDir()}
	dialog := func(ctx context.Context, r protocol.Request) (protocol.Response, error) {
		h.reqs <- r
		return h.answer(r)
	}
	t.Setenv("XDG_STATE_HOME", h.tempDir)
	h.portal = Install(d, Sandbox{ID: "sb1", Profile: "test", DisplayName: "Test Sandbox", Icon: "x", ReadOnlyDefault: true}, h.grants, dialog, NewFolders(), log)
	if setup != nil {
		setup(h.portal)
	}
	path := filepath.Join(h.tempDir, "bus")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	h.conn, err = dbus.Connect("unix:path=" + path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.conn.Close() })
	return h
}

// call makes a portal call and waits for its Response.
func (h *harness) call(t *testing.T, method, title string, opts map[string]dbus.Variant) (uint32, map[string]dbus.Variant, error) {
	t.Helper()
	sigs := make(chan *dbus.Signal, 4)
	h.conn.Signal(sigs)
	defer h.conn.RemoveSignal(sigs)
	if err := h.conn.AddMatchSignal(dbus.WithMatchInterface("org.freedesktop.portal.Request"), dbus.WithMatchMember("Response")); err != nil {
		t.Fatal(err)
	}
	var handle dbus.ObjectPath
	obj := h.conn.Object(desktop.BusName, desktop.ObjectPath)
	if err := obj.Call(Interface+"."+method, 0, "", title, opts).Store(&handle); err != nil {
		return 0, nil, err
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case s := <-sigs:
			if s.Name != "org.freedesktop.portal.Request.Response" {
				continue // NameAcquired and the like
			}
			if s.Path != handle {
				t.Fatalf("Response on %s, want %s", s.Path, handle)
			}
			return s.Body[0].(uint32), s.Body[1].(map[string]dbus.Variant), nil
		case <-timeout:
			t.Fatalf("%s: no Response", method)
			return 0, nil, nil
		}
	}
}

func TestVersion(t *testing.T) {
	h := start(t, nil)
	v, err := h.conn.Object(desktop.BusName, desktop.ObjectPath).GetProperty(Interface + ".version")
	if err != nil || v.Value().(uint32) != 4 {
		t.Fatalf("version = %v, %v; want 4", v, err)
	}
}

func TestOpenFileGrantsAndURIs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a b.txt")
	os.WriteFile(file, []byte("x"), 0o644)
	h := start(t, func(r protocol.Request) (protocol.Response, error) {
		return protocol.Response{Response: 0, Paths: []string{file}, ReadOnly: true, Choices: [][2]string{{"enc", "utf8"}, {protocol.ReadOnlyChoiceID, "true"}}}, nil
	})
	code, res, err := h.call(t, "OpenFile", "Open \u202eevil", map[string]dbus.Variant{
		"handle_token": dbus.MakeVariant("tok1"),
		"choices": dbus.MakeVariant([]struct {
			A, B string
			C    [][2]string
			D    string
		}{}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 {
		t.Fatalf("response %d", code)
	}
	uris := res["uris"].Value().([]string)
	if len(uris) != 1 || uris[0] != "file:///run/user/1000/doc/d0/a%20b.txt" {
		t.Fatalf("uris = %v", uris)
	}
	r := <-h.reqs
	if r.SandboxName != "Test Sandbox" || r.Mode != protocol.ModeOpen || !r.ShowReadOnly || !r.ReadOnlyDefault {
		t.Errorf("chooser request = %+v", r)
	}
	if strings.ContainsRune(r.AppTitle, '\u202e') {
		t.Errorf("bidi override reached the chooser: %q", r.AppTitle)
	}
	if g := h.grants.list()[0]; g.Writable || g.HostPath != file {
		t.Errorf("grant = %+v, want read-only %s", g, file)
	}
}

func TestCancelAndFailure(t *testing.T) {
	answer := protocol.Response{Response: 1}
	var err2 error
	h := start(t, func(protocol.Request) (protocol.Response, error) { return answer, err2 })
	code, res, err := h.call(t, "OpenFile", "t", map[string]dbus.Variant{})
	if err != nil || code != 1 {
		t.Fatalf("cancel: code %d, %v; want 1", code, err)
	}
	// GTK 3.24 dereferences "uris" unchecked: zenity crashed without it.
	if u, ok := res["uris"].Value().([]string); !ok || len(u) != 0 {
		t.Fatalf("cancel results %v: want an empty uris list", res)
	}
	answer = protocol.Response{Response: 2, Error: "timed out"}
	if code, _, _ := h.call(t, "OpenFile", "t", map[string]dbus.Variant{}); code != 2 {
		t.Fatalf("timeout: code %d; want 2", code)
	}
	err2 = context.DeadlineExceeded
	if code, _, _ := h.call(t, "SaveFile", "t", map[string]dbus.Variant{}); code != 2 {
		t.Fatalf("dialog killed: code %d; want 2", code)
	}
	if len(h.grants.list()) != 0 {
		t.Fatalf("grants after cancel: %v", h.grants.list())
	}
}

func TestSaveFileNewName(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "new.txt")
	h := start(t, func(r protocol.Request) (protocol.Response, error) {
		return protocol.Response{Response: 0, Paths: []string{target}}, nil
	})
	code, res, err := h.call(t, "SaveFile", "Save", map[string]dbus.Variant{"current_name": dbus.MakeVariant("new.txt")})
	if err != nil || code != 0 {
		t.Fatalf("code %d, %v", code, err)
	}
	if h.grants.modeList()[0] != grants.Save || !h.grants.list()[0].Writable {
		t.Errorf("a save of a new name must be a writable save grant: %+v mode=%v", h.grants.list()[0], h.grants.modeList()[0])
	}
	if r := <-h.reqs; r.CurrentName != "new.txt" || r.Mode != protocol.ModeSave {
		t.Errorf("chooser request %+v", r)
	}
	if len(res["uris"].Value().([]string)) != 1 {
		t.Errorf("uris %v", res["uris"])
	}
}

func TestSaveFilesNames(t *testing.T) {
	dir := t.TempDir()
	h := start(t, func(r protocol.Request) (protocol.Response, error) {
		return protocol.Response{Response: 0, Paths: []string{dir}}, nil
	})
	code, res, err := h.call(t, "SaveFiles", "Save all", map[string]dbus.Variant{"files": dbus.MakeVariant([][]byte{[]byte("a.txt\x00"), []byte("b.txt\x00")})})
	if err != nil || code != 0 {
		t.Fatalf("code %d, %v", code, err)
	}
	uris := res["uris"].Value().([]string)
	if len(uris) != 2 || !strings.HasSuffix(uris[0], "/a.txt") || !strings.HasSuffix(uris[1], "/b.txt") {
		t.Fatalf("uris %v", uris)
	}
	if h.grants.list()[1].HostPath != filepath.Join(dir, "b.txt") {
		t.Errorf("grant %+v", h.grants.list()[1])
	}
}

// TestUntrustedOptions: each hostile option is refused with InvalidArgument
// before any dialog appears, or neutralised.
func TestUntrustedOptions(t *testing.T) {
	h := start(t, func(r protocol.Request) (protocol.Response, error) { return protocol.Response{Response: 1}, nil })
	bad := []struct {
		name   string
		method string
		opts   map[string]dbus.Variant
	}{
		{"name with slash", "SaveFile", map[string]dbus.Variant{"current_name": dbus.MakeVariant("../../.bashrc")}},
		{"name dotdot", "SaveFile", map[string]dbus.Variant{"current_name": dbus.MakeVariant("..")}},
		{"name control", "SaveFile", map[string]dbus.Variant{"current_name": dbus.MakeVariant("a\nb")}},
		{"name too long", "SaveFile", map[string]dbus.Variant{"current_name": dbus.MakeVariant(strings.Repeat("a", 256))}},
		{"files slash", "SaveFiles", map[string]dbus.Variant{"files": dbus.MakeVariant([][]byte{[]byte("x/y")})}},
		{"files NUL inside", "SaveFiles", map[string]dbus.Variant{"files": dbus.MakeVariant([][]byte{[]byte("x\x00y\x00")})}},
		{"files empty", "SaveFiles", map[string]dbus.Variant{}},
		{"folder NUL", "OpenFile", map[string]dbus.Variant{"current_folder": dbus.MakeVariant([]byte("/tmp\x00/etc\x00"))}},
		{"multiple not bool", "OpenFile", map[string]dbus.Variant{"multiple": dbus.MakeVariant("yes")}},
		{"label not string", "OpenFile", map[string]dbus.Variant{"accept_label": dbus.MakeVariant(uint32(1))}},
		{"filter bad type", "OpenFile", map[string]dbus.Variant{"filters": dbus.MakeVariant([]struct {
			N string
			R []struct {
				K uint32
				V string
			}
		}{{"x", []struct {
			K uint32
			V string
		}{{7, "*.png"}}}})}},
		{"filters wrong signature", "OpenFile", map[string]dbus.Variant{"filters": dbus.MakeVariant([]string{"*"})}},
		{"token bad", "OpenFile", map[string]dbus.Variant{"handle_token": dbus.MakeVariant("a/b")}},
		{"title huge", "OpenFile", nil},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			title := "t"
			if tc.opts == nil {
				title = strings.Repeat("x", 5000)
				tc.opts = map[string]dbus.Variant{}
			}
			var handle dbus.ObjectPath
			err := h.conn.Object(desktop.BusName, desktop.ObjectPath).Call(Interface+"."+tc.method, 0, "", title, tc.opts).Store(&handle)
			var de dbus.Error
			if err == nil {
				t.Fatalf("accepted (handle %s)", handle)
			}
			if e, ok := err.(dbus.Error); ok {
				de = e
			}
			if de.Name != desktop.ErrInvalidArgument {
				t.Fatalf("error %v, want %s", err, desktop.ErrInvalidArgument)
			}
		})
	}
	select {
	case r := <-h.reqs:
		t.Fatalf("a dialog was shown for a refused request: %+v", r)
	default:
	}
}

// TestFolderNeutralised: a current_folder the sandbox was not granted never
// reaches the chooser; the last folder of the profile is used instead.
func TestFolderNeutralised(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "x.txt")
	os.WriteFile(f, nil, 0o644)
	h := start(t, func(r protocol.Request) (protocol.Response, error) {
		return protocol.Response{Response: 0, Paths: []string{f}}, nil
	})
	if code, _, _ := h.call(t, "OpenFile", "t", map[string]dbus.Variant{"current_folder": dbus.MakeVariant([]byte("/etc\x00"))}); code != 0 {
		t.Fatalf("code %d", code)
	}
	if r := <-h.reqs; r.CurrentFolder == "/etc" {
		t.Fatalf("current_folder /etc reached the chooser")
	}
	// The second dialog starts in the folder of the first choice.
	h.call(t, "OpenFile", "t", map[string]dbus.Variant{})
	if r := <-h.reqs; r.CurrentFolder != dir {
		t.Fatalf("last folder = %q, want %q", r.CurrentFolder, dir)
	}
	// current_file of a granted document maps back to its host path.
	inside := h.grants.list()[0].Inside
	h.call(t, "SaveFile", "t", map[string]dbus.Variant{"current_file": dbus.MakeVariant([]byte(inside + "\x00"))})
	if r := <-h.reqs; r.CurrentFile != f || r.CurrentName != "x.txt" {
		t.Fatalf("current_file mapped to %q/%q, want %q", r.CurrentFile, r.CurrentName, f)
	}
}

// TestQtCurrentFileName: Qt 5.15 names a save only by current_file, a path
// in the sandbox's home. Its base name is the suggested name; the path itself
// never reaches the chooser; a base name that is no plain file name is dropped.
func TestQtCurrentFileName(t *testing.T) {
	h := startWith(t, func(r protocol.Request) (protocol.Response, error) {
		return protocol.Response{Response: 1}, nil
	}, func(p *Portal) {
		p.gate.bucket = ratelimit.New(100, DialogEvery) // many dialogs in a row here
	})
	for _, c := range []struct{ current, name, want string }{
		{"/home/user/report.txt\x00", "", "report.txt"},
		{"report.txt", "", "report.txt"},
		{"/home/user/report.txt\x00", "given.txt", "given.txt"},
		{"/home/user/dir/\x00", "", ""},
		{"/home/user/..\x00", "", ""},
		{"/home/user/a\x01b\x00", "", ""},
		{"/home/user/" + strings.Repeat("n", 256) + "\x00", "", ""},
		{"/home/user/\xff\xfe\x00", "", ""},
	} {
		opts := map[string]dbus.Variant{"current_file": dbus.MakeVariant([]byte(c.current))}
		if c.name != "" {
			opts["current_name"] = dbus.MakeVariant(c.name)
		}
		h.call(t, "SaveFile", "t", opts)
		r := <-h.reqs
		if r.CurrentName != c.want || r.CurrentFile != "" {
			t.Errorf("current_file %q: chooser got name %q file %q, want name %q and no file", c.current, r.CurrentName, r.CurrentFile, c.want)
		}
		if strings.Contains(r.CurrentFolder, "/home/user") {
			t.Errorf("current_file %q: the sandbox's folder reached the chooser: %q", c.current, r.CurrentFolder)
		}
	}
}

// TestCloseEndsDialog: Request.Close from the caller stops the chooser and
// no Response follows.
func TestCloseEndsDialog(t *testing.T) {
	ended := make(chan struct{})
	h := start(t, nil)
	h.answer = func(r protocol.Request) (protocol.Response, error) {
		<-time.After(50 * time.Millisecond)
		return protocol.Response{Response: 0}, nil
	}
	// A dialog that waits for its context, as the process dialog does.
	h.portal.dialog = func(ctx context.Context, r protocol.Request) (protocol.Response, error) {
		<-ctx.Done()
		close(ended)
		return protocol.Response{}, ctx.Err()
	}
	var handle dbus.ObjectPath
	obj := h.conn.Object(desktop.BusName, desktop.ObjectPath)
	if err := obj.Call(Interface+".OpenFile", 0, "", "t", map[string]dbus.Variant{"handle_token": dbus.MakeVariant("c1")}).Store(&handle); err != nil {
		t.Fatal(err)
	}
	if err := h.conn.Object(desktop.BusName, handle).Call("org.freedesktop.portal.Request.Close", 0).Err; err != nil {
		t.Fatal(err)
	}
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the dialog was not ended by Request.Close")
	}
}

// TestOneDialogAtATime: while a sandbox's chooser is open, its next
// requests wait their turn (at most MaxQueued); one more is answered with
// response 2 at once, and a waiting request closed by the application never
// shows.
func TestOneDialogAtATime(t *testing.T) {
	block := make(chan struct{})
	shown := make(chan string, 8)
	h := startWith(t, nil, func(p *Portal) {
		p.dialog = func(ctx context.Context, r protocol.Request) (protocol.Response, error) {
			shown <- r.AppTitle
			select {
			case <-block:
			case <-ctx.Done():
			}
			return protocol.Response{Response: 1}, nil
		}
	})
	obj := h.conn.Object(desktop.BusName, desktop.ObjectPath)
	open := func(title, token string) dbus.ObjectPath {
		var handle dbus.ObjectPath
		if err := obj.Call(Interface+".OpenFile", 0, "", title, map[string]dbus.Variant{"handle_token": dbus.MakeVariant(token)}).Store(&handle); err != nil {
			t.Fatalf("%s: %v", title, err)
		}
		return handle
	}
	open("first", "t1")
	if got := <-shown; got != "first" {
		t.Fatalf("first dialog shown: %q", got)
	}
	second := open("second", "t2")
	open("third", "t3")
	select {
	case got := <-shown:
		t.Fatalf("dialog %q shown while another was open", got)
	case <-time.After(200 * time.Millisecond):
	}
	// The queue is full: the next request is answered with 2, no dialog.
	code, _, err := h.call(t, "OpenFile", "fourth", map[string]dbus.Variant{"handle_token": dbus.MakeVariant("t4")})
	if err != nil || code != 2 {
		t.Fatalf("request beyond the queue: code %d, %v; want response 2", code, err)
	}
	// The application gives up on the second while it waits.
	if err := h.conn.Object(desktop.BusName, second).Call("org.freedesktop.portal.Request.Close", 0).Err; err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	block <- struct{}{} // the user closes the first dialog
	if got := <-shown; got != "third" {
		t.Fatalf("after the first dialog, %q was shown; want the third (the second was closed)", got)
	}
	block <- struct{}{}
	select {
	case got := <-shown:
		t.Fatalf("unexpected dialog %q", got)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestRateLimit: a few dialogs in a row, then at most one per DialogEvery;
// a request over the limit is answered with 2 without a dialog and logged
// once per burst, with the sandbox's name.
func TestRateLimit(t *testing.T) {
	var shown atomic.Int32
	var logs lockedBuffer
	var now atomic.Int64 // seconds of a fake clock
	now.Store(1_000_000)
	h := startWith(t, func(protocol.Request) (protocol.Response, error) {
		shown.Add(1)
		return protocol.Response{Response: 1}, nil
	}, func(p *Portal) {
		p.log = portalLog(slog.New(slog.NewTextHandler(&logs, nil)), p.sb)
		p.gate.now = func() time.Time { return time.Unix(now.Load(), 0) }
	})
	for i := 0; i < DialogBurst; i++ {
		if code, _, err := h.call(t, "OpenFile", "t", map[string]dbus.Variant{}); err != nil || code != 1 {
			t.Fatalf("dialog %d within the burst: code %d, %v", i, code, err)
		}
	}
	for i := 0; i < 5; i++ {
		if code, _, err := h.call(t, "OpenFile", "t", map[string]dbus.Variant{}); err != nil || code != 2 {
			t.Fatalf("request %d over the limit: code %d, %v; want 2", i, code, err)
		}
	}
	if n := shown.Load(); n != DialogBurst {
		t.Fatalf("%d dialogs shown, want %d", n, DialogBurst)
	}
	if n := strings.Count(logs.String(), "file chooser refused"); n != 1 {
		t.Errorf("%d refusal log lines for one burst, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), `sandbox="Test Sandbox"`) {
		t.Errorf("the refusal log does not name the sandbox:\n%s", logs.String())
	}
	// After DialogEvery, one more; not two.
	now.Add(int64(DialogEvery / time.Second))
	if code, _, _ := h.call(t, "OpenFile", "t", map[string]dbus.Variant{}); code != 1 {
		t.Fatalf("after %v: code %d, want a dialog (1)", DialogEvery, code)
	}
	if code, _, _ := h.call(t, "OpenFile", "t", map[string]dbus.Variant{}); code != 2 {
		t.Fatalf("second request after %v: code %d, want 2", DialogEvery, code)
	}
	if !strings.Contains(logs.String(), "refused=5") {
		t.Errorf("the end of the burst is not logged with its count:\n%s", logs.String())
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRiskyNamesNeedConfirmation: SaveFiles of "photo1.jpg" and
// ".bash_aliases" (which Debian's .bashrc sources), or a save into ~/.ssh,
// is granted only when the chooser says the user confirmed the risk; the
// chooser is told every name.
func TestRiskyNamesNeedConfirmation(t *testing.T) {
	dir := t.TempDir()
	ssh := filepath.Join(dir, ".ssh")
	os.Mkdir(ssh, 0o700)
	var mu sync.Mutex
	confirmed, readOnly := false, false
	var paths []string
	set := func(c bool, p ...string) {
		mu.Lock()
		confirmed, paths = c, p
		mu.Unlock()
	}
	h := startWith(t, func(r protocol.Request) (protocol.Response, error) {
		mu.Lock()
		defer mu.Unlock()
		return protocol.Response{Response: 0, Paths: paths, RiskConfirmed: confirmed, ReadOnly: readOnly}, nil
	}, func(p *Portal) {
		p.gate.bucket = ratelimit.New(100, DialogEvery) // many dialogs in a row here
	})
	files := dbus.MakeVariant([][]byte{[]byte("photo1.jpg\x00"), []byte(".bash_aliases\x00")})
	set(false, dir)
	code, res, err := h.call(t, "SaveFiles", "t", map[string]dbus.Variant{"files": files})
	if err != nil || code != 2 {
		t.Fatalf("unconfirmed .bash_aliases: code %d, %v; want 2", code, err)
	}
	if u := res["uris"].Value().([]string); len(u) != 0 || h.grants.count() != 0 {
		t.Fatalf("unconfirmed risky save granted: %v", u)
	}
	if r := <-h.reqs; len(r.Files) != 2 || r.Files[1] != ".bash_aliases" {
		t.Fatalf("the chooser was not told every name: %v", r.Files)
	}
	set(false, filepath.Join(ssh, "authorized_keys"))
	if code, _, _ := h.call(t, "SaveFile", "t", map[string]dbus.Variant{"current_name": dbus.MakeVariant("authorized_keys")}); code != 2 || h.grants.count() != 0 {
		t.Fatalf("unconfirmed save into .ssh: code %d, %d grants", code, h.grants.count())
	}
	<-h.reqs
	set(true, dir)
	if code, _, _ := h.call(t, "SaveFiles", "t", map[string]dbus.Variant{"files": files}); code != 0 || h.grants.count() != 2 {
		t.Fatalf("confirmed save: code %d, %d grants", code, h.grants.count())
	}
	<-h.reqs
	// OpenFile writable is a write too: a folder such as ~/.ssh, or a
	// dotfile, opened with the read-only switch off needs the confirmation;
	// read-only it does not.
	os.WriteFile(filepath.Join(dir, ".bashrc"), nil, 0o644)
	for _, c := range []struct {
		path              string
		readOnly, confirm bool
		want              uint32
	}{
		{ssh, false, false, 2},
		{filepath.Join(dir, ".bashrc"), false, false, 2},
		{filepath.Join(dir, ".bashrc"), true, false, 0},
		{ssh, false, true, 0},
	} {
		mu.Lock()
		paths, confirmed, readOnly = []string{c.path}, c.confirm, c.readOnly
		mu.Unlock()

		n := h.grants.count()
		code, _, _ := h.call(t, "OpenFile", "t", map[string]dbus.Variant{"directory": dbus.MakeVariant(c.path == ssh)})
		<-h.reqs
		if code != c.want || (code == 0) != (h.grants.count() == n+1) {
			t.Errorf("open %s read-only=%v confirmed=%v: code %d, want %d", c.path, c.readOnly, c.confirm, code, c.want)
		}
	}
	// An ordinary name needs no confirmation.
	set(false, filepath.Join(dir, "photo2.jpg"))
	if code, _, _ := h.call(t, "SaveFile", "t", map[string]dbus.Variant{}); code != 0 {
		t.Fatalf("ordinary save: code %d", code)
	}
}

// TestRiskyNameClassification: the names an application may send, the tricky
// ones included. A name with a slash ("./.bashrc") never gets as far as a
// dialog; a dotfile in any case is risky; a lookalike dot is an ordinary name.
func TestRiskyNameClassification(t *testing.T) {
	pl := protocol.Places{Home: "/home/u", ConfigHome: "/home/u/.config", DataHome: "/home/u/.local/share"}
	for _, c := range []struct {
		name, folder string
		refused      bool
		risky        bool
	}{
		{"./.bashrc", "/home/u", true, true},
		{"../.bashrc", "/home/u/Documents", true, true},
		{".bashrc", "/home/u", false, true},
		{".Bashrc", "/home/u", false, true},
		{".bash_aliases", "/home/u/Pictures", false, true},
		{".hidden-anything", "/home/u/Pictures", false, true},
		{"x.desktop", "/home/u/Desktop", false, true},
		{"X.Desktop", "/home/u", false, true},
		{"notes.txt", "/home/u/.config/autostart", false, true},
		{"notes.txt", "/home/u/.ssh", false, true},
		{"notes.txt", "/home/u/.local/share/applications", false, true},
		{"notes.txt", "/home/u/.config", false, true},
		{"id.pub", "/home/u/.gnupg", false, true},
		{"\u2024bashrc", "/home/u", false, false}, // ONE DOT LEADER
		{"\uff0ebashrc", "/home/u", false, false}, // FULLWIDTH FULL STOP
		{"photo1.jpg", "/home/u/Pictures", false, false},
		{"bashrc", "/home/u", false, false},
	} {
		if err := checkName("files[0]", c.name); (err != nil) != c.refused {
			t.Errorf("checkName(%q) = %v, want refused=%v", c.name, err, c.refused)
		}
		if c.refused {
			continue
		}
		if r := pl.Classify(filepath.Join(c.folder, c.name)); (r != protocol.RiskNone) != c.risky {
			t.Errorf("%s in %s: risk %d, want risky=%v", c.name, c.folder, r, c.risky)
		}
	}
}

// TestCheckName covers what cannot even be sent through D-Bus (invalid
// UTF-8 is refused by the wire format) but could reach checkName from bytes.
func TestCheckName(t *testing.T) {
	for _, n := range []string{"", ".", "..", "a/b", "a\x00b", "a\xffb", "a\tb", strings.Repeat("x", 256)} {
		if checkName("n", n) == nil {
			t.Errorf("checkName(%q) accepted", n)
		}
	}
	for _, n := range []string{"a.txt", "ünïcødé.odt", ".hidden", "a b", strings.Repeat("x", 255)} {
		if err := checkName("n", n); err != nil {
			t.Errorf("checkName(%q) = %v", n, err)
		}
	}
}

// TestRefusedPick: a single pick that cannot be granted (a symbolic link,
// say) fails the request, with no grant.
func TestRefusedPick(t *testing.T) {
	dir := t.TempDir()
	bait := filepath.Join(dir, "photo.jpg")
	h := start(t, func(protocol.Request) (protocol.Response, error) {
		return protocol.Response{Response: 0, Paths: []string{bait}}, nil
	})
	h.grants.mu.Lock()
	h.grants.refuse = map[string]bool{bait: true}
	h.grants.mu.Unlock()
	code, res, err := h.call(t, "OpenFile", "t", map[string]dbus.Variant{})
	if err != nil || code != 2 {
		t.Fatalf("refused pick: code %d, %v; want 2", code, err)
	}
	if u := res["uris"].Value().([]string); len(u) != 0 || len(h.grants.list()) != 0 {
		t.Fatalf("a refused pick was granted: %v %v", u, h.grants.list())
	}
}

// TestMultiSelectSkipsRefused: of several files (OpenFile multiple,
// SaveFiles), one that cannot be granted is skipped and the others are
// answered, as xdg-desktop-portal does; only when none can be granted does
// the request fail.
func TestMultiSelectSkipsRefused(t *testing.T) {
	dir := t.TempDir()
	a, bad, c := filepath.Join(dir, "a.txt"), filepath.Join(dir, "bad.txt"), filepath.Join(dir, "c.txt")
	for _, p := range []string{a, bad, c} {
		os.WriteFile(p, []byte("x"), 0o600)
	}
	var mu sync.Mutex
	var paths []string
	setPaths := func(p ...string) {
		mu.Lock()
		defer mu.Unlock()
		paths = p
	}
	h := start(t, func(protocol.Request) (protocol.Response, error) {
		mu.Lock()
		defer mu.Unlock()
		return protocol.Response{Response: 0, Paths: paths}, nil
	})
	h.grants.mu.Lock()
	h.grants.refuse = map[string]bool{bad: true, filepath.Join(dir, "bad2.txt"): true}
	h.grants.mu.Unlock()

	setPaths(a, bad, c)
	code, res, err := h.call(t, "OpenFile", "t", map[string]dbus.Variant{"multiple": dbus.MakeVariant(true)})
	if err != nil || code != 0 {
		t.Fatalf("OpenFile multiple with one refused: code %d, %v; want 0", code, err)
	}
	uris := res["uris"].Value().([]string)
	if len(uris) != 2 || !strings.HasSuffix(uris[0], "/a.txt") || !strings.HasSuffix(uris[1], "/c.txt") {
		t.Fatalf("uris %v, want a.txt and c.txt", uris)
	}

	setPaths(dir)
	files := [][]byte{[]byte("bad.txt\x00"), []byte("new.txt\x00")}
	code, res, err = h.call(t, "SaveFiles", "t", map[string]dbus.Variant{"files": dbus.MakeVariant(files)})
	if err != nil || code != 0 {
		t.Fatalf("SaveFiles with one refused: code %d, %v; want 0", code, err)
	}
	if uris := res["uris"].Value().([]string); len(uris) != 1 || !strings.HasSuffix(uris[0], "/new.txt") {
		t.Fatalf("uris %v, want new.txt alone", uris)
	}

	files = [][]byte{[]byte("bad.txt\x00"), []byte("bad2.txt\x00")}
	code, res, _ = h.call(t, "SaveFiles", "t", map[string]dbus.Variant{"files": dbus.MakeVariant(files)})
	if code != 2 || len(res["uris"].Value().([]string)) != 0 {
		t.Fatalf("SaveFiles with every name refused: code %d, %v; want 2 and no uris", code, res)
	}
	if gs := h.grants.list(); len(gs) != 3 {
		t.Errorf("%d grants, want 3: %v", len(gs), gs)
	}
}

func TestStartErrorNamesStep(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "airlock-chooser")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := &chooserPool{bin: bin, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, c := range []struct {
		name, bin, dir, want string
	}{
		{"missing folder", bin, filepath.Join(dir, "no-home"), "chdir " + filepath.Join(dir, "no-home")},
		{"missing binary", filepath.Join(dir, "nope"), dir, "exec " + filepath.Join(dir, "nope")},
	} {
		t.Run(c.name, func(t *testing.T) {
			p.bin = c.bin
			t.Setenv("HOME", c.dir)
			// workDir falls back to / for a missing home: check the
			// diagnosis itself for the folder case.
			err := startError(c.bin, c.dir, errors.New("fork/exec "+c.bin+": no such file or directory"))
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not name %q", err, c.want)
			}
		})
	}
	t.Setenv("HOME", filepath.Join(dir, "no-home"))
	if got := workDir(); got != "/" {
		t.Fatalf("workDir with a missing home = %q, want /", got)
	}
	p.bin = filepath.Join(dir, "nope")
	if _, err := p.start(false); err == nil || !strings.Contains(err.Error(), "exec "+p.bin) {
		t.Fatalf("start of a missing chooser: %v", err)
	}
}
