package main

// These tests run the real airlock-chooser binary against a real GTK on a
// private Xvfb display and drive it with xdotool, the way a person would:
// focus the window, press keys, read the JSON answer.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"airlock/chooser-ui/protocol"
	"airlock/tests/harness"
)

var chooserBin string // built once by TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "airlock-chooser-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	chooserBin = filepath.Join(dir, "airlock-chooser")
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go"
	}
	build := exec.Command(goBin, "build", "-buildvcs=false", "-o", chooserBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "cannot build airlock-chooser: %v\n", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func needX(t *testing.T) {
	t.Helper()
	for _, p := range []string{"Xvfb", "xdotool"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s is not installed", p)
		}
	}
}

// xvfbMu serialises Xvfb start-ups within this test binary.
var xvfbMu sync.Mutex

// freeDisplay picks a random display number that no X server here uses: no
// lock file, no socket file, and no abstract socket. Low numbers and
// -displayfd's own search collide with other test suites on the machine,
// some in other mount namespaces, where only the abstract socket is shared.
func freeDisplay() int {
	unix, _ := os.ReadFile("/proc/net/unix")
	for {
		n := 200 + rand.IntN(4000)
		if bytes.Contains(unix, []byte(fmt.Sprintf("@/tmp/.X11-unix/X%d\n", n))) {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X%d-lock", n)); err == nil {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); err == nil {
			continue
		}
		return n
	}
}

// startXvfb starts a private X server on a display number it picks itself
// (-displayfd), checks that it answers, and stops it, by PID, when the test
// ends.
func startXvfb(t *testing.T) string {
	t.Helper()
	needX(t)
	xvfbMu.Lock()
	defer xvfbMu.Unlock()
	var last string
	for attempt := 0; attempt < 5; attempt++ {
		display, ok, log := tryXvfb(t)
		if ok {
			return display
		}
		last = log
	}
	t.Fatalf("cannot start a working Xvfb; last log:\n%s", last)
	return ""
}

func tryXvfb(t *testing.T) (display string, ok bool, log string) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// With an explicit display, -displayfd only signals readiness. -noreset:
	// a server reset after the last client leaves refuses connections for a
	// moment, and the readiness check below is such a last client.
	cmd := exec.Command("Xvfb", fmt.Sprintf(":%d", freeDisplay()), "-displayfd", "3", "-screen", "0", "1280x900x24", "-nolisten", "tcp", "-noreset")
	cmd.ExtraFiles = []*os.File{w}
	xlog := &harness.SyncBuffer{}
	cmd.Stderr = xlog
	if err := cmd.Start(); err != nil {
		w.Close()
		t.Fatalf("cannot start Xvfb: %v", err)
	}
	w.Close()
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}
	got := make(chan string, 1)
	go func() {
		var buf [16]byte
		n, _ := r.Read(buf[:])
		got <- strings.TrimSpace(string(buf[:n]))
	}()
	select {
	case n := <-got:
		if _, err := strconv.Atoi(n); err != nil {
			stop()
			return "", false, xlog.String()
		}
		display = ":" + n
	case <-time.After(15 * time.Second):
		stop()
		return "", false, "Xvfb did not report a display within 15 s\n" + xlog.String()
	}
	// The server must answer, and still be ours, before a test uses it.
	time.Sleep(100 * time.Millisecond)
	check := exec.Command("xdotool", "getdisplaygeometry")
	check.Env = []string{"DISPLAY=" + display, "PATH=" + os.Getenv("PATH")}
	out, err := check.Output()
	select {
	case <-exited:
		err = fmt.Errorf("Xvfb exited")
	default:
	}
	if err != nil || strings.TrimSpace(string(out)) != "1280 900" {
		stop()
		return "", false, fmt.Sprintf("display %s: %v %q\n%s", display, err, out, xlog.String())
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("Xvfb %s log:\n%s", display, xlog.String())
		}
	})
	return display, true, ""
}

// chooser is one running airlock-chooser.
type chooser struct {
	t       *testing.T
	display string
	cmd     *exec.Cmd
	stdout  bytes.Buffer
	stderr  harness.SyncBuffer
	done    chan error
	// trace is where the chooser writes what its focused entry shows
	// (AIRLOCK_CHOOSER_TRACE): the test waits on it, not on pauses.
	trace string
}

func chooserEnv(t *testing.T, display string) []string {
	home := t.TempDir()
	runtimeDir := filepath.Join(home, "run")
	if err := os.Mkdir(runtimeDir, 0o700); err != nil {
		t.Fatal(err)
	}
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"DISPLAY=" + display,
		"HOME=" + home,
		"XDG_RUNTIME_DIR=" + runtimeDir,
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_DATA_HOME=" + filepath.Join(home, "data"),
		"XDG_CACHE_HOME=" + filepath.Join(home, "cache"),
		"LC_ALL=C.UTF-8",
		"GSETTINGS_BACKEND=memory",
		"NO_AT_BRIDGE=1",
		// No session bus, no GVfs: nothing may outlive the test.
		"DBUS_SESSION_BUS_ADDRESS=disabled:",
		"GIO_USE_VFS=local",
		"GIO_USE_VOLUME_MONITOR=unix",
		// The chooser prints its widgets on stderr, for widgets().
		"AIRLOCK_CHOOSER_DUMP_WIDGETS=1",
	}
}

func startChooser(t *testing.T, display string, req protocol.Request) *chooser {
	t.Helper()
	in, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	c := &chooser{t: t, display: display, done: make(chan error, 1), trace: filepath.Join(t.TempDir(), "entries")}
	c.cmd = exec.Command(chooserBin)
	c.cmd.Env = append(chooserEnv(t, display), protocol.EnvTrace+"="+c.trace)
	c.cmd.Stdin = bytes.NewReader(in)
	c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.done <- c.cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			_ = syscall.Kill(c.cmd.Process.Pid, syscall.SIGKILL)
			<-c.done
		}
		if t.Failed() {
			t.Logf("chooser stderr:\n%s", c.stderr.String())
		}
	})
	return c
}

func (c *chooser) xdo(args ...string) string {
	c.t.Helper()
	cmd := exec.Command("xdotool", args...)
	cmd.Env = []string{"DISPLAY=" + c.display, "PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	if err != nil {
		c.t.Fatalf("xdotool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// windows lists the visible windows whose name (or, with class, WM_CLASS)
// matches; polled by us, as xdotool --sync polls only twice a second.
func (c *chooser) windows(by, pattern string) []string {
	cmd := exec.Command("xdotool", "search", "--onlyvisible", by, pattern)
	cmd.Env = []string{"DISPLAY=" + c.display, "PATH=" + os.Getenv("PATH")}
	out, _ := cmd.Output() // exit 1 when nothing matches
	return strings.Fields(string(out))
}

func (c *chooser) waitWindows(by, pattern string, n int) []string {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if w := c.windows(by, pattern); len(w) == n {
			return w
		}
		select {
		case err := <-c.done:
			c.done <- err
			c.t.Fatalf("chooser exited (%v) while waiting for %d windows %s %q; stdout %q stderr:\n%s",
				err, n, by, pattern, c.stdout.String(), c.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	c.t.Fatalf("no %d visible windows %s %q within 20 s", n, by, pattern)
	return nil
}

// waitDialog waits for the chooser's window, found by the sandbox name in
// its title, focuses it and lets GTK finish loading the folder.
func (c *chooser) waitDialog(sandbox string) string {
	c.t.Helper()
	wid := c.waitWindows("--name", regexp.QuoteMeta(sandbox), 1)[0]
	c.focus(wid)
	return wid
}

func (c *chooser) focus(wid string) {
	c.t.Helper()
	c.xdo("windowfocus", "--sync", wid)
}

func (c *chooser) key(keys ...string) {
	c.t.Helper()
	c.xdo(append([]string{"key", "--clearmodifiers", "--delay", "50"}, keys...)...)
}

func (c *chooser) typeText(s string) {
	c.t.Helper()
	c.xdo("type", "--clearmodifiers", "--delay", "20", s)
}

// typeLocation opens the location entry (Ctrl+L), types path, waits until
// the entry shows exactly path (a completion GTK appended deleted first)
// and presses Return.
func (c *chooser) typeLocation(path string) {
	c.t.Helper()
	c.key("ctrl+l")
	c.key("ctrl+a")
	c.typeText(path)
	deadline := time.Now().Add(30 * time.Second)
	for {
		tr := protocol.ReadTrace(c.trace)
		if tr.HasEntry && tr.Entry.Typed() == path && tr.Entry.Text == path {
			break
		}
		if tr.HasEntry && tr.Entry.Typed() == path && tr.Entry.Text != path {
			c.key("Delete") // GTK's inline completion, selected
		}
		if time.Now().After(deadline) {
			tr, _ := os.ReadFile(c.trace)
			c.t.Fatalf("the location entry never showed %q; trace:\n%s", path, tr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.key("Return")
}

// response waits for the chooser to exit and decodes its answer.
func (c *chooser) response() protocol.Response {
	c.t.Helper()
	select {
	case err := <-c.done:
		c.done <- err
		if err != nil {
			c.t.Fatalf("chooser failed: %v\nstderr:\n%s", err, c.stderr.String())
		}
	case <-time.After(30 * time.Second):
		c.t.Fatalf("chooser still running after 30 s; stderr:\n%s", c.stderr.String())
	}
	var r protocol.Response
	dec := json.NewDecoder(bytes.NewReader(c.stdout.Bytes()))
	if err := dec.Decode(&r); err != nil {
		c.t.Fatalf("cannot decode response %q: %v", c.stdout.String(), err)
	}
	if dec.More() {
		c.t.Fatalf("more than one response on stdout: %q", c.stdout.String())
	}
	return r
}

func (c *chooser) running() bool {
	select {
	case err := <-c.done:
		c.done <- err
		return false
	default:
		return true
	}
}

// widgets waits for the chooser's dump of window what ("chooser",
// "confirm") and returns the lines of its latest one, without the prefix:
// "AREA KIND [STATE] TEXT", AREA being the Airlock area the widget sits in
// (airlock-header, airlock-names, airlock-app-note, airlock-app-options,
// airlock-confirm) or "-".
func (c *chooser) widgets(what string) []string {
	c.t.Helper()
	end := "airlock-widget: end " + what + "\n"
	begin := "airlock-widget: begin " + what + "\n"
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := c.stderr.String()
		if e := strings.LastIndex(s, end); e >= 0 {
			b := strings.LastIndex(s[:e], begin)
			var out []string
			for _, l := range strings.Split(s[b+len(begin):e], "\n") {
				if v, ok := strings.CutPrefix(l, "airlock-widget: "); ok {
					out = append(out, v)
				}
			}
			return out
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("no widget dump of %q within 20 s; stderr:\n%s", what, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func hasLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

func writeFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const sandbox = "Test Sandbox"

func TestOpenTypedPath(t *testing.T) {
	t.Parallel()
	display := startXvfb(t)
	dir := t.TempDir()
	writeFiles(t, dir, "alpha.txt", "beta.txt")
	c := startChooser(t, display, protocol.Request{
		Mode:        protocol.ModeOpen,
		SandboxName: sandbox,
		SandboxIcon: "no-such-icon",
		// A hostile title: a right-to-left override, a newline, a NUL and
		// more than 80 runes.
		AppTitle:      "Open \u202eevil\u202c\nfile\x00 " + strings.Repeat("x", 100),
		CurrentFolder: dir,
	})
	wid := c.waitDialog(sandbox)
	if got, want := c.xdo("getwindowname", wid), sandbox+" wants to open a file"; got != want {
		t.Errorf("window name %q, want %q", got, want)
	}
	if w := c.windows("--class", "^airlock-chooser$"); len(w) != 1 || w[0] != wid {
		t.Errorf("windows of class airlock-chooser: %v, want [%s]", w, wid)
	}
	shot := filepath.Join(os.TempDir(), "airlock-chooser-screenshot.png")
	imp := exec.Command("import", "-window", "root", shot)
	imp.Env = []string{"DISPLAY=" + display, "PATH=" + os.Getenv("PATH")}
	if out, err := imp.CombinedOutput(); err != nil {
		t.Logf("no screenshot (ImageMagick import): %v %s", err, out)
	} else {
		t.Logf("screenshot: %s", shot)
	}

	want := filepath.Join(dir, "beta.txt")
	c.typeLocation(want)
	r := c.response()
	if r.Response != protocol.ResponseSuccess || !reflect.DeepEqual(r.Paths, []string{want}) {
		t.Fatalf("response %+v, want success with [%s]", r, want)
	}
}

func TestEscapeCancels(t *testing.T) {
	t.Parallel()
	display := startXvfb(t)
	c := startChooser(t, display, protocol.Request{Mode: protocol.ModeOpen, SandboxName: sandbox, CurrentFolder: t.TempDir()})
	c.waitDialog(sandbox)
	c.key("Escape")
	if r := c.response(); r.Response != protocol.ResponseCancelled || len(r.Paths) != 0 {
		t.Fatalf("response %+v, want cancelled without paths", r)
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	display := startXvfb(t)
	start := time.Now()
	c := startChooser(t, display, protocol.Request{Mode: protocol.ModeOpen, SandboxName: sandbox, TimeoutSeconds: 1})
	c.waitWindows("--name", sandbox, 1)
	r := c.response()
	if r.Response != protocol.ResponseOther || r.Error != "timed out" || len(r.Paths) != 0 {
		t.Fatalf("response %+v, want 2 \"timed out\"", r)
	}
	// The GLib timer answers, not the 10 s backstop in main.
	if d := time.Since(start); d > 9*time.Second {
		t.Errorf("timed out after %v, want about 1 s", d)
	}
}

func TestTimeoutDuringConfirmation(t *testing.T) {
	t.Parallel()
	display := startXvfb(t)
	dir := t.TempDir()
	writeFiles(t, dir, "exists.txt")
	c := startChooser(t, display, protocol.Request{
		Mode: protocol.ModeSave, SandboxName: sandbox, CurrentFolder: dir, CurrentName: "exists.txt", TimeoutSeconds: 3,
	})
	c.waitDialog(sandbox)
	c.key("Return")
	c.waitWindows("--class", "^airlock-chooser$", 2) // GTK's overwrite confirmation, left open
	r := c.response()
	if r.Response != protocol.ResponseOther || r.Error != "timed out" {
		t.Fatalf("response %+v, want 2 \"timed out\"", r)
	}
}

func TestSaveOverwriteConfirmation(t *testing.T) {
	t.Parallel()
	display := startXvfb(t)
	dir := t.TempDir()
	writeFiles(t, dir, "exists.txt")
	c := startChooser(t, display, protocol.Request{
		Mode: protocol.ModeSave, SandboxName: sandbox, CurrentFolder: dir, CurrentName: "exists.txt",
		AppTitle: "Save As", AcceptLabel: "_Export",
	})
	wid := c.waitDialog(sandbox)
	if got, want := c.xdo("getwindowname", wid), sandbox+" wants to save a file"; got != want {
		t.Errorf("window name %q, want %q", got, want)
	}
	// The name entry has the focus: Return asks whether to replace.
	c.key("Return")
	confirm := otherWindow(c.waitWindows("--class", "^airlock-chooser$", 2), wid)
	// Declining goes back to the chooser, which must not answer.
	c.focus(confirm)
	c.key("Escape")
	c.waitWindows("--class", "^airlock-chooser$", 1)
	time.Sleep(200 * time.Millisecond)
	if !c.running() {
		t.Fatalf("declining the replacement ended the chooser: %q", c.stdout.String())
	}
	c.focus(wid)
	c.key("Return")
	confirm = otherWindow(c.waitWindows("--class", "^airlock-chooser$", 2), wid)
	c.focus(confirm)
	c.key("alt+r") // "_Replace"
	want := filepath.Join(dir, "exists.txt")
	if r := c.response(); r.Response != protocol.ResponseSuccess || !reflect.DeepEqual(r.Paths, []string{want}) {
		t.Fatalf("response %+v, want success with [%s]", r, want)
	}
}

func otherWindow(ws []string, not string) string {
	for _, w := range ws {
		if w != not {
			return w
		}
	}
	return ""
}

func TestSaveNewFileTyped(t *testing.T) {
	t.Parallel()
	display := startXvfb(t)
	dir := t.TempDir()
	c := startChooser(t, display, protocol.Request{Mode: protocol.ModeSave, SandboxName: sandbox, CurrentFolder: dir, CurrentName: "draft.odt"})
	c.waitDialog(sandbox)
	c.key("ctrl+a")
	c.typeText("report.txt")
	c.key("Return")
	want := filepath.Join(dir, "report.txt")
	if r := c.response(); r.Response != protocol.ResponseSuccess || !reflect.DeepEqual(r.Paths, []string{want}) {
		t.Fatalf("response %+v, want success with [%s]", r, want)
	}
}

// TestSaveCompanionNote: a save of page.html says, in Airlock's area,
// that the application may also save "page_files" beside it (the document
// store lets that save create it: Firefox's "Web Page, complete").
func TestSaveCompanionNote(t *testing.T) {
	t.Parallel()
	display := startXvfb(t)
	c := startChooser(t, display, protocol.Request{Mode: protocol.ModeSave, SandboxName: sandbox, CurrentFolder: t.TempDir(), CurrentName: "page.html"})
	c.waitDialog(sandbox)
	w := c.widgets("chooser")
	if want := "airlock-header label " + sandbox + " may also save a folder “page_files” beside it."; !hasLine(w, want) {
		t.Errorf("the dialog does not show %q; widgets:\n%s", want, strings.Join(w, "\n"))
	}
	c.key("Escape")
	c.response()
}

// TestSaveCompanionExists: saving page.html where page_files is already
// there asks first (the store will not merge into it); Cancel, the
// default, goes back; "Save Anyway" saves the page.
func TestSaveCompanionExists(t *testing.T) {
	t.Parallel()
	display := startXvfb(t)
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "page_files"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := startChooser(t, display, protocol.Request{Mode: protocol.ModeSave, SandboxName: sandbox, CurrentFolder: dir, CurrentName: "page.html"})
	wid := c.waitDialog(sandbox)
	c.key("Return")
	confirm := otherWindow(c.waitWindows("--class", "^airlock-chooser$", 2), wid)
	if text := strings.Join(c.widgets("confirm"), "\n"); !strings.Contains(text, "“page_files” is already in") {
		t.Errorf("the question does not name page_files:\n%s", text)
	}
	c.focus(confirm)
	c.key("Return") // Cancel is the default
	c.waitWindows("--class", "^airlock-chooser$", 1)
	if !c.running() {
		t.Fatalf("declining ended the chooser: %q", c.stdout.String())
	}
	c.focus(wid)
	c.key("Return")
	confirm = otherWindow(c.waitWindows("--class", "^airlock-chooser$", 2), wid)
	c.focus(confirm)
	c.key("alt+a")
	if r := c.response(); r.Response != protocol.ResponseSuccess || !reflect.DeepEqual(r.Paths, []string{filepath.Join(dir, "page.html")}) {
		t.Fatalf("response %+v, want success with page.html", r)
	}
}

func TestSaveFilesConfirmsReplacement(t *testing.T) {
	t.Parallel()
	display := startXvfb(t)
	dir := t.TempDir()
	writeFiles(t, dir, "one.txt")
	c := startChooser(t, display, protocol.Request{
		Mode: protocol.ModeSaveFiles, SandboxName: sandbox, CurrentFolder: dir, Files: []string{"one.txt", "two.txt"},
	})
	wid := c.waitDialog(sandbox)
	if got, want := c.xdo("getwindowname", wid), sandbox+" wants to save files into a folder"; got != want {
		t.Errorf("window name %q, want %q", got, want)
	}
	c.key("Return")
	confirm := otherWindow(c.waitWindows("--class", "^airlock-chooser$", 2), wid)
	c.focus(confirm)
	c.key("Escape")
	c.waitWindows("--class", "^airlock-chooser$", 1)
	if !c.running() {
		t.Fatalf("declining the replacement ended the chooser: %q", c.stdout.String())
	}
	c.focus(wid)
	c.key("Return")
	confirm = otherWindow(c.waitWindows("--class", "^airlock-chooser$", 2), wid)
	c.focus(confirm)
	c.key("alt+r")
	if r := c.response(); r.Response != protocol.ResponseSuccess || !reflect.DeepEqual(r.Paths, []string{dir}) {
		t.Fatalf("response %+v, want success with the folder [%s]", r, dir)
	}
}

func TestMultipleSelection(t *testing.T) {
	t.Parallel()
	display := startXvfb(t)
	dir := t.TempDir()
	writeFiles(t, dir, "a.txt", "b.txt", "c.txt")
	c := startChooser(t, display, protocol.Request{Mode: protocol.ModeOpen, SandboxName: sandbox, CurrentFolder: dir, Multiple: true})
	wid := c.waitDialog(sandbox)
	if got, want := c.xdo("getwindowname", wid), sandbox+" wants to open files"; got != want {
		t.Errorf("window name %q, want %q", got, want)
	}
	// The file list has the focus: select everything, accept.
	c.key("ctrl+a", "Return")
	r := c.response()
	want := []string{filepath.Join(dir, "a.txt"), filepath.Join(dir, "b.txt"), filepath.Join(dir, "c.txt")}
	got := append([]string(nil), r.Paths...)
	sortStrings(got)
	if r.Response != protocol.ResponseSuccess || !reflect.DeepEqual(got, want) {
		t.Fatalf("response %+v, want success with %v", r, want)
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestFolderSelection(t *testing.T) {
	t.Parallel()
	display := startXvfb(t)
	dir := t.TempDir()
	sub := filepath.Join(dir, "photos")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, "not-a-folder.txt")
	c := startChooser(t, display, protocol.Request{Mode: protocol.ModeOpen, SandboxName: sandbox, CurrentFolder: dir, Directory: true})
	wid := c.waitDialog(sandbox)
	if got, want := c.xdo("getwindowname", wid), sandbox+" wants to choose a folder"; got != want {
		t.Errorf("window name %q, want %q", got, want)
	}
	c.typeLocation(sub)
	if r := c.response(); r.Response != protocol.ResponseSuccess || !reflect.DeepEqual(r.Paths, []string{sub}) {
		t.Fatalf("response %+v, want success with [%s]", r, sub)
	}
}

func TestChoicesAndFilter(t *testing.T) {
	t.Parallel()
	display := startXvfb(t)
	dir := t.TempDir()
	writeFiles(t, dir, "doc.txt")
	text := protocol.Filter{Name: "Text", Patterns: []protocol.Pattern{{Kind: protocol.PatternGlob, Value: "*.txt"}}}
	images := protocol.Filter{Name: "Images", Patterns: []protocol.Pattern{{Kind: protocol.PatternMIME, Value: "image/*"}}}
	c := startChooser(t, display, protocol.Request{
		Mode: protocol.ModeOpen, SandboxName: sandbox, CurrentFolder: dir,
		Filters:       []protocol.Filter{images, text},
		CurrentFilter: &text,
		Choices: []protocol.Choice{
			{ID: "encoding", Label: "Encoding", Options: [][2]string{{"utf8", "UTF-8"}, {"latin1", "Latin-1"}}, Default: "latin1"},
			{ID: "compress", Label: "Compress", Default: "true"},
			{ID: "strip", Label: "Strip metadata"},
		},
		ShowReadOnly: true, ReadOnlyDefault: true,
	})
	c.waitDialog(sandbox)
	want := filepath.Join(dir, "doc.txt")
	c.typeLocation(want)
	r := c.response()
	if r.Response != protocol.ResponseSuccess || !reflect.DeepEqual(r.Paths, []string{want}) {
		t.Fatalf("response %+v, want success with [%s]", r, want)
	}
	wantChoices := [][2]string{{"encoding", "latin1"}, {"compress", "true"}, {"strip", "false"}}
	if !reflect.DeepEqual(r.Choices, wantChoices) {
		t.Errorf("choices %v, want %v", r.Choices, wantChoices)
	}
	if !r.ReadOnly {
		t.Error("read-only switch: got false, want its default true")
	}
	if !r.CurrentFilter.Equal(&text) {
		t.Errorf("current filter %+v, want %+v", r.CurrentFilter, text)
	}
}

func TestSIGTERMEndsChooser(t *testing.T) {
	t.Parallel()
	display := startXvfb(t)
	c := startChooser(t, display, protocol.Request{Mode: protocol.ModeOpen, SandboxName: sandbox})
	c.waitWindows("--name", sandbox, 1)
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.done:
		c.done <- nil
	case <-time.After(10 * time.Second):
		t.Fatal("chooser still running 10 s after SIGTERM")
	}
}

// Without a display the chooser must still answer, and at once.
func TestNoDisplay(t *testing.T) {
	t.Parallel()
	c := startChooser(t, "", protocol.Request{Mode: protocol.ModeOpen, SandboxName: sandbox})
	r := c.response()
	if r.Response != protocol.ResponseOther || r.Error == "" {
		t.Fatalf("response %+v, want 2 with an error", r)
	}
}

func TestInvalidRequests(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"not json":       "{",
		"empty":          "",
		"unknown mode":   `{"mode":"delete","sandbox_name":"x"}`,
		"relative path":  `{"mode":"open","sandbox_name":"x","current_folder":"tmp"}`,
		"no sandbox":     `{"mode":"open"}`,
		"reserved id":    `{"mode":"open","sandbox_name":"x","choices":[{"id":"airlock.read-only","label":"x"}]}`,
		"slash in files": `{"mode":"save-files","sandbox_name":"x","files":["../x"]}`,
	} {
		cmd := exec.Command(chooserBin)
		cmd.Env = chooserEnv(t, "")
		cmd.Stdin = strings.NewReader(in)
		out, err := cmd.Output()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var r protocol.Response
		if err := json.Unmarshal(out, &r); err != nil || r.Response != protocol.ResponseOther || !strings.Contains(r.Error, "invalid request") {
			t.Errorf("%s: response %q (%v), want 2 \"invalid request: …\"", name, out, err)
		}
	}
}

// TestSaveFilesListsEveryNameAndConfirmsRisk: SaveFiles of "photo1.jpg" and
// ".bash_aliases" (which Debian's .bashrc sources) shows both names; Select
// asks a second time, naming the risk, with Cancel as the default; declining
// goes back and writes nothing.
func TestSaveFilesListsEveryNameAndConfirmsRisk(t *testing.T) {
	t.Parallel()
	display := startXvfb(t)
	dir := t.TempDir()
	c := startChooser(t, display, protocol.Request{
		Mode: protocol.ModeSaveFiles, SandboxName: sandbox, CurrentFolder: dir,
		Files: []string{"photo1.jpg", ".bash_aliases"},
	})
	wid := c.waitDialog(sandbox)
	w := c.widgets("chooser")
	for _, want := range []string{
		"airlock-header label " + sandbox + " will write these files into the folder you select:",
		"airlock-names label photo1.jpg",
		"airlock-names label ⚠ .bash_aliases",
	} {
		if !hasLine(w, want) {
			t.Errorf("the dialog does not show %q; widgets:\n%s", want, strings.Join(w, "\n"))
		}
	}
	c.key("Return") // Select the current folder
	confirm := otherWindow(c.waitWindows("--class", "^airlock-chooser$", 2), wid)
	cw := c.widgets("confirm")
	text := strings.Join(cw, "\n")
	if !strings.Contains(text, ".bash_aliases”: your shell runs the commands in this file") || strings.Contains(text, "photo1.jpg") {
		t.Errorf("the confirmation does not name the risky file alone and its risk:\n%s", text)
	}
	if !hasLine(cw, "airlock-confirm button _Cancel") || !hasLine(cw, "airlock-confirm button _Allow Writing") {
		t.Errorf("confirmation buttons:\n%s", text)
	}
	// Return is Cancel here: back to the chooser, nothing answered.
	c.focus(confirm)
	c.key("Return")
	c.waitWindows("--class", "^airlock-chooser$", 1)
	time.Sleep(200 * time.Millisecond)
	if !c.running() {
		t.Fatalf("declining ended the chooser: %q", c.stdout.String())
	}
	c.focus(wid)
	c.key("Escape")
	if r := c.response(); r.Response != protocol.ResponseCancelled || len(r.Paths) != 0 || r.RiskConfirmed {
		t.Fatalf("response %+v, want cancelled, no paths", r)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("declining wrote %v", ents)
	}
}

// TestSaveRiskyNameConfirmed: a name the user types (".profile") needs the
// second confirmation too; confirming it is reported to the broker.
func TestSaveRiskyNameConfirmed(t *testing.T) {
	t.Parallel()
	display := startXvfb(t)
	dir := t.TempDir()
	c := startChooser(t, display, protocol.Request{Mode: protocol.ModeSave, SandboxName: sandbox, CurrentFolder: dir, CurrentName: "draft.txt"})
	wid := c.waitDialog(sandbox)
	c.key("ctrl+a")
	c.typeText(".profile")
	c.key("Return")
	confirm := otherWindow(c.waitWindows("--class", "^airlock-chooser$", 2), wid)
	if text := strings.Join(c.widgets("confirm"), "\n"); !strings.Contains(text, ".profile”: your shell runs the commands in this file") {
		t.Errorf("the confirmation does not name .profile and its risk:\n%s", text)
	}
	c.focus(confirm)
	c.key("alt+a") // "_Allow Writing"
	want := filepath.Join(dir, ".profile")
	if r := c.response(); r.Response != protocol.ResponseSuccess || !reflect.DeepEqual(r.Paths, []string{want}) || !r.RiskConfirmed {
		t.Fatalf("response %+v, want success with [%s], risk confirmed", r, want)
	}
}

// TestAcceptLabelNeverAButton: accept_label "_Cancel" once made two Cancel
// buttons, the right-hand one granting write access. The buttons are
// Airlock's; the application's label is only its hint.
func TestAcceptLabelNeverAButton(t *testing.T) {
	t.Parallel()
	display := startXvfb(t)
	dir := t.TempDir()
	c := startChooser(t, display, protocol.Request{
		Mode: protocol.ModeSave, SandboxName: sandbox, CurrentFolder: dir, CurrentName: "a.txt", AcceptLabel: "_Cancel",
	})
	c.waitDialog(sandbox)
	w := c.widgets("chooser")
	cancels, saves := 0, 0
	for _, l := range w {
		if txt, ok := strings.CutPrefix(l, "- button "); ok {
			switch strings.ToLower(strings.ReplaceAll(txt, "_", "")) {
			case "cancel":
				cancels++
			case "save":
				saves++
			}
		}
	}
	if cancels != 1 || saves != 1 {
		t.Errorf("%d Cancel and %d Save buttons, want one each; widgets:\n%s", cancels, saves, strings.Join(w, "\n"))
	}
	if !hasLine(w, "airlock-app-note label The application calls this: “Cancel”") {
		t.Errorf("the application's label is not shown as its hint:\n%s", strings.Join(w, "\n"))
	}
	c.key("Return") // the default button is Airlock's Save
	if r := c.response(); r.Response != protocol.ResponseSuccess || !reflect.DeepEqual(r.Paths, []string{filepath.Join(dir, "a.txt")}) {
		t.Fatalf("response %+v", r)
	}
}

// TestAppChoicesInTheirArea: the application's checked "Open read-only" is
// drawn in its own framed area, renamed; the grant's read-only state is
// Airlock's switch in the header, never the application's choice.
func TestAppChoicesInTheirArea(t *testing.T) {
	t.Parallel()
	display := startXvfb(t)
	dir := t.TempDir()
	writeFiles(t, dir, "doc.txt")
	want := filepath.Join(dir, "doc.txt")
	for _, toggle := range []bool{false, true} {
		c := startChooser(t, display, protocol.Request{
			Mode: protocol.ModeOpen, SandboxName: sandbox, CurrentFolder: dir, ShowReadOnly: true, ReadOnlyDefault: false,
			Choices: []protocol.Choice{
				{ID: "ro", Label: "Open read-only", Default: "true"},
				{ID: "enc", Label: "Encoding", Options: [][2]string{{"utf8", "UTF-8"}, {"w", "Writable copy"}}, Default: "utf8"},
			},
		})
		c.waitDialog(sandbox)
		w := c.widgets("chooser")
		for _, l := range []string{
			"airlock-header check 0 Open _read-only",
			"airlock-app-options label Options from " + sandbox,
			"airlock-app-options check 1 Application option 1 (its name looked like Airlock's)",
			"airlock-app-options label Encoding",
		} {
			if !hasLine(w, l) {
				t.Errorf("missing %q; widgets:\n%s", l, strings.Join(w, "\n"))
			}
		}
		for _, l := range w {
			low := strings.ToLower(l)
			if !strings.HasPrefix(l, "airlock-header ") && (strings.Contains(low, "read-only") || strings.Contains(low, "writ")) {
				t.Errorf("outside Airlock's header, a control imitates its switch: %q", l)
			}
		}
		if toggle {
			c.key("alt+r") // Airlock's "Open _read-only"; X delivers keys in order
		}
		c.typeLocation(want)
		r := c.response()
		if r.Response != protocol.ResponseSuccess || !reflect.DeepEqual(r.Paths, []string{want}) {
			t.Fatalf("response %+v", r)
		}
		if r.ReadOnly != toggle {
			t.Errorf("toggled %v: read-only %v; want Airlock's switch (%v), not the application's checked box", toggle, r.ReadOnly, toggle)
		}
		if !reflect.DeepEqual(r.Choices, [][2]string{{"ro", "true"}, {"enc", "utf8"}}) {
			t.Errorf("choices %v", r.Choices)
		}
	}
}

// TestOpenWritableRiskyFolderConfirms: OpenFile of a folder such as ~/.ssh
// with Airlock's read-only switch off is a write too; it is confirmed like
// a save, and Cancel (the default) goes back to the chooser.
func TestOpenWritableRiskyFolderConfirms(t *testing.T) {
	t.Parallel()
	display := startXvfb(t)
	dir := t.TempDir()
	ssh := filepath.Join(dir, ".ssh")
	if err := os.Mkdir(ssh, 0o700); err != nil {
		t.Fatal(err)
	}
	c := startChooser(t, display, protocol.Request{
		Mode: protocol.ModeOpen, SandboxName: sandbox, CurrentFolder: dir, Directory: true, ShowReadOnly: true, ReadOnlyDefault: false,
	})
	wid := c.waitDialog(sandbox)
	c.typeLocation(ssh)
	confirm := otherWindow(c.waitWindows("--class", "^airlock-chooser$", 2), wid)
	if text := strings.Join(c.widgets("confirm"), "\n"); !strings.Contains(text, ".ssh”: SSH keys and settings") {
		t.Errorf("the confirmation does not name .ssh and its risk:\n%s", text)
	}
	c.focus(confirm)
	c.key("Return") // Cancel
	c.waitWindows("--class", "^airlock-chooser$", 1)
	c.focus(wid)
	// The first Escape may only close the location entry typed into.
	for i := 0; i < 2 && c.running(); i++ {
		c.key("Escape")
		time.Sleep(500 * time.Millisecond)
	}
	if r := c.response(); r.Response != protocol.ResponseCancelled || len(r.Paths) != 0 {
		t.Fatalf("response %+v, want cancelled", r)
	}
}
