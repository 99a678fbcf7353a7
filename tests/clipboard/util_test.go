// Package clipboard_test moves clipboard content between real sandboxes:
// a host Xvfb, a Xephyr per sandbox started by the launcher, xclip inside
// the sandboxes and on the host, the broker started by the launcher on a
// private session bus, all as the ordinary test user.
package clipboard_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"airlock/tests/harness"
)

type session struct {
	e       *harness.Env
	runtime string
	x       *harness.Xvfb
}

func needBins(t *testing.T, bins ...string) {
	t.Helper()
	harness.NeedBins(t, bins...)
}

// newSession: a private session bus (so a broker of its own), runtime dir
// and host display. env goes to the launcher, and so to the broker it
// starts.
func newSession(t *testing.T, env ...string) *session {
	t.Helper()
	needBins(t, "Xvfb", "Xephyr", "xclip")
	base := harness.Get(t)
	e := base.SessionBus(t)
	rt := base.UserDir(t)
	if err := os.Chmod(rt, 0o700); err != nil {
		t.Fatal(err)
	}
	e = e.WithEnv(append([]string{"XDG_RUNTIME_DIR=" + rt, "XDG_STATE_HOME=" + base.UserDir(t)}, env...)...)
	s := &session{e: e, runtime: rt}
	s.x = e.StartXvfb(t)
	s.e = s.e.WithEnv(s.x.Env()...)
	return s
}

func (s *session) portalLog() string {
	b, _ := os.ReadFile(filepath.Join(s.runtime, "airlock", "portal.log"))
	return string(b)
}

func (s *session) airlock(t *testing.T, args ...string) harness.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	return harness.RunCmd(s.e.Airlock(ctx, args...))
}

// must runs airlock and fails the test unless it succeeds.
func (s *session) must(t *testing.T, args ...string) string {
	t.Helper()
	r := s.airlock(t, args...)
	if r.Code != 0 {
		t.Fatalf("airlock %s: %v\nportal log:\n%s", strings.Join(args, " "), r, s.portalLog())
	}
	return r.Stdout
}

// refused runs airlock and fails the test unless it fails with want in its
// error.
func (s *session) refused(t *testing.T, want string, args ...string) {
	t.Helper()
	r := s.airlock(t, args...)
	if r.Code == 0 || !strings.Contains(r.Stderr, want) {
		t.Fatalf("airlock %s: %v\nwant a refusal saying %q", strings.Join(args, " "), r, want)
	}
}

// hostXclip runs xclip on the host display as the test user.
func (s *session) hostXclip(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := s.e.Command(ctx, "xclip", args...)
	cmd.Stdin = strings.NewReader(stdin)
	// xclip -i leaves a child serving the selection: it must not hold
	// our pipes.
	if stdin != "" {
		cmd.Stdout, cmd.Stderr = nil, nil
		return "", cmd.Run()
	}
	out, err := cmd.Output()
	return string(out), err
}

// sandboxScript runs inside each sandbox: it reads numbered commands on
// stdin and answers "N result" on stdout, using xclip on the sandbox's own
// (nested) display.
const sandboxScript = `
own() { until timeout 5 xclip -selection "$1" -t TARGETS -o >/dev/null 2>&1; do sleep 0.05; done; }
while IFS=' ' read -r seq cmd arg; do
  case $cmd in
  set) printf %s "$arg" | xclip -selection clipboard -i >/dev/null 2>&1; own clipboard; echo "$seq ok";;
  primary) printf %s "$arg" | xclip -selection primary -i >/dev/null 2>&1; own primary; echo "$seq ok";;
  big) head -c "$arg" /dev/zero | tr '\0' x | xclip -selection clipboard -i >/dev/null 2>&1; own clipboard; echo "$seq ok";;
  jpeg) xclip -selection clipboard -t image/jpeg -i "$1" >/dev/null 2>&1; own clipboard; echo "$seq ok";;
  get) if v=$(timeout 10 xclip -selection "$arg" -t UTF8_STRING -o 2>/dev/null); then echo "$seq got $(printf %s "$v" | base64 -w0)"; else echo "$seq none"; fi;;
  sha) if timeout 30 xclip -selection clipboard -t UTF8_STRING -o >/tmp/o 2>/dev/null; then echo "$seq sha $(sha256sum </tmp/o | cut -d' ' -f1) $(wc -c </tmp/o)"; else echo "$seq none"; fi;;
  png) if timeout 10 xclip -selection clipboard -t image/png -o >/tmp/p 2>/dev/null; then echo "$seq png $(base64 -w0 </tmp/p)"; else echo "$seq none"; fi;;
  flood) (while :; do timeout 2 xclip -selection clipboard -o >/dev/null 2>&1; printf %s "$arg" | xclip -selection clipboard -i >/dev/null 2>&1; done) >/dev/null 2>&1 &
     echo "$seq ok";;
  exit) exit 0;;
  esac
done
`

// app is one running sandbox driven through sandboxScript.
type app struct {
	name  string
	cmd   *exec.Cmd
	stdin *os.File
	out   harness.SyncBuffer
	errb  harness.SyncBuffer
	done  chan struct{}
	mu    sync.Mutex
	seq   int
	s     *session
}

// sandbox starts `airlock run flags... --name name -- sh -c sandboxScript sh args...`.
func (s *session) sandbox(t *testing.T, name string, flags []string, args ...string) *app {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	all := append(append([]string{"run", "--name", name}, flags...), "--", "/bin/sh", "-c", sandboxScript, "sh")
	cmd := s.e.Airlock(ctx, append(all, args...)...)
	a := &app{name: name, cmd: cmd, done: make(chan struct{}), s: s}
	r, w, err := os.Pipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	a.stdin = w
	cmd.Stdin = r
	cmd.Stdout, cmd.Stderr = &a.out, &a.errb
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	r.Close()
	go func() { cmd.Wait(); close(a.done) }()
	t.Cleanup(func() {
		w.Close()
		select {
		case <-a.done:
		case <-time.After(10 * time.Second):
			syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-a.done:
			case <-time.After(10 * time.Second):
			}
		}
		cancel()
		<-a.done
	})
	return a
}

// do sends one command and returns the sandbox's answer.
func (a *app) do(t *testing.T, cmd string) string {
	t.Helper()
	a.mu.Lock()
	a.seq++
	n := a.seq
	a.mu.Unlock()
	if _, err := fmt.Fprintf(a.stdin, "%d %s\n", n, cmd); err != nil {
		t.Fatalf("%s: cannot write: %v", a.name, err)
	}
	rx := regexp.MustCompile(fmt.Sprintf(`(?m)^%d (.*)$`, n))
	deadline := time.Now().Add(120 * time.Second)
	for {
		if m := rx.FindStringSubmatch(a.out.String()); m != nil {
			return m[1]
		}
		select {
		case <-a.done:
			if m := rx.FindStringSubmatch(a.out.String()); m != nil {
				return m[1]
			}
			t.Fatalf("%s ended before answering %q\nstdout:\n%s\nstderr:\n%s\nportal log:\n%s", a.name, cmd, a.out.String(), a.errb.String(), a.s.portalLog())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer %q\nstderr:\n%s\nportal log:\n%s", a.name, cmd, a.errb.String(), a.s.portalLog())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ready waits until the sandbox answers, and its display is registered.
func (a *app) ready(t *testing.T) {
	t.Helper()
	if got := a.do(t, "get clipboard"); got != "none" {
		t.Fatalf("%s starts with a clipboard: %q", a.name, got)
	}
}

func (a *app) end(t *testing.T) {
	t.Helper()
	fmt.Fprintf(a.stdin, "0 exit\n")
	select {
	case <-a.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not end", a.name)
	}
}

// xephyrWindow is the host window of a sandbox's nested display.
func (s *session) xephyrWindow(t *testing.T, name string) string {
	t.Helper()
	ids := s.x.Windows("--name", "^"+regexp.QuoteMeta(name+" (Airlock sandbox)")+"$")
	if len(ids) != 1 {
		t.Fatalf("xdotool search for %s's window found %q", name, ids)
	}
	return ids[0]
}

// xephyrPid is the host pid of a sandbox's nested server.
func (s *session) xephyrPid(t *testing.T, name string) uint32 {
	t.Helper()
	pids := s.e.ProcessesOf(name + " (Airlock sandbox)")
	if len(pids) != 1 {
		t.Fatalf("nested servers of %s: %v", name, pids)
	}
	return uint32(pids[0])
}

// fakeWindow maps a window on the host display made by the test itself
// that claims, by everything a client can set, to be a sandbox's nested
// display: its title, WM_CLASS and _NET_WM_PID.
func (s *session) fakeWindow(t *testing.T, title string, pid uint32) string {
	t.Helper()
	t.Setenv("XAUTHORITY", s.x.Auth)
	c, err := xgb.NewConnDisplay(fmt.Sprintf(":%d", s.x.Num))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	root := xproto.Setup(c).DefaultScreen(c)
	w, _ := xproto.NewWindowId(c)
	xproto.CreateWindow(c, root.RootDepth, w, root.Root, 0, 0, 200, 100, 0, xproto.WindowClassInputOutput, root.RootVisual, 0, nil)
	set := func(name, typ string, format byte, data []byte) {
		a, _ := xproto.InternAtom(c, false, uint16(len(name)), name).Reply()
		ty, _ := xproto.InternAtom(c, false, uint16(len(typ)), typ).Reply()
		xproto.ChangeProperty(c, xproto.PropModeReplace, w, a.Atom, ty.Atom, format, uint32(len(data)*8/int(format)), data)
	}
	set("WM_NAME", "STRING", 8, []byte(title))
	set("_NET_WM_NAME", "UTF8_STRING", 8, []byte(title))
	set("WM_CLASS", "STRING", 8, []byte("Xephyr\x00Xephyr\x00"))
	p := make([]byte, 4)
	binary.LittleEndian.PutUint32(p, pid)
	set("_NET_WM_PID", "CARDINAL", 32, p)
	xproto.MapWindow(c, w)
	if _, err := xproto.GetInputFocus(c).Reply(); err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(int(w))
}

// press focuses a host window and presses keys there, as a person would.
func (s *session) press(t *testing.T, wid, keys string) {
	t.Helper()
	if out, err := s.x.Host("xdotool", "windowfocus", "--sync", wid); err != nil {
		t.Fatalf("xdotool windowfocus %s: %v %s", wid, err, out)
	}
	if out, err := s.x.Host("xdotool", "key", keys); err != nil {
		t.Fatalf("xdotool key %s: %v %s", keys, err, out)
	}
}

// waitShow waits until `airlock clipboard show` says want.
func (s *session) waitShow(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := s.must(t, "clipboard", "show")
		if strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("airlock clipboard show says %q, want %q\nportal log:\n%s", got, want, s.portalLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// background runs airlock args... and delivers its result when it ends.
func (s *session) background(t *testing.T, args ...string) <-chan harness.Result {
	t.Helper()
	ch := make(chan harness.Result, 1)
	go func() { ch <- s.airlock(t, args...) }()
	return ch
}

// answer waits for Airlock's question with title on the host display,
// focuses it and presses keys.
func (s *session) answer(t *testing.T, title, keys string) {
	t.Helper()
	wid := s.waitWindow(t, title)
	if !slices.Contains(s.x.Windows("--onlyvisible", "--class", "^airlock-chooser$"), wid) {
		t.Fatalf("the question %q is not airlock-chooser's", title)
	}
	s.press(t, wid, keys)
}

// waitWindow waits for a visible window titled title on the host display.
func (s *session) waitWindow(t *testing.T, title string) string {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		if ids := s.x.Windows("--onlyvisible", "--name", "^"+regexp.QuoteMeta(title)+"$"); len(ids) == 1 {
			return ids[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no window %q\nportal log:\n%s", title, s.portalLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
