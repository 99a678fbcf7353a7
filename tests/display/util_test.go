// Package display_test runs real applications in sandboxes with a nested
// display (Xephyr, started by the launcher under a test Xvfb) and checks,
// from inside the nested display with xwininfo and xdotool, what the
// nested display's window manager (launcher/nestedwm) does with their
// windows: every one wholly on the screen, none exactly on another, dialogs
// over their parent, focus, Alt+drag; and that a hostile client cannot
// take it down.
package display_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"airlock/tests/harness"
)

func needBins(t *testing.T, bins ...string) {
	t.Helper()
	harness.NeedBins(t, bins...)
}

var uniqN struct {
	sync.Mutex
	n int
}

func uniq(prefix string) string {
	uniqN.Lock()
	defer uniqN.Unlock()
	uniqN.n++
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), uniqN.n)
}

// listWindows is a shell function for the sandbox: one line per mapped,
// not override-redirect child of the nested root,
// "WIN id x y width height title".
const listWindows = `list() { echo "== list $1"
for w in $(xwininfo -root -children | awk '/^ +0x/{print $1}'); do
  xwininfo -id "$w" | awk -v id="$w" '/^xwininfo:/{sub(/^[^"]*"/, ""); sub(/"$/, ""); n=$0} /Absolute upper-left X/{x=$4} /Absolute upper-left Y/{y=$4} /Width:/{w=$2} /Height:/{h=$2} /Map State/{m=$3} /Override Redirect/{o=$4} END{if (m=="IsViewable" && o=="no") print "WIN", id, x, y, w, h, n}'
done
echo "== end $1"; }
`

// win is a mapped toplevel as listWindows reports it.
type win struct {
	id         string
	x, y, w, h int
	title      string
}

func (w win) String() string {
	return fmt.Sprintf("%s %q %dx%d+%d+%d", w.id, w.title, w.w, w.h, w.x, w.y)
}

var winRE = regexp.MustCompile(`^WIN (\S+) (-?\d+) (-?\d+) (\d+) (\d+) ?(.*)$`)

// windows reads the list labelled label from a sandbox's output.
func windows(t *testing.T, out, label string) []win {
	t.Helper()
	_, rest, ok := strings.Cut(out, "== list "+label+"\n")
	body, _, ok2 := strings.Cut(rest, "== end "+label+"\n")
	if !ok || !ok2 {
		t.Fatalf("no window list %q in the output:\n%s", label, out)
	}
	var ws []win
	for _, l := range strings.Split(body, "\n") {
		m := winRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		ws = append(ws, win{id: m[1], x: atoi(m[2]), y: atoi(m[3]), w: atoi(m[4]), h: atoi(m[5]), title: m[6]})
	}
	return ws
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func find(ws []win, title string) (win, bool) {
	for _, w := range ws {
		if w.title == title {
			return w, true
		}
	}
	return win{}, false
}

// assertOnScreen: every window wholly on a screen of sw x sh.
func assertOnScreen(t *testing.T, what string, ws []win, sw, sh int) {
	t.Helper()
	for _, w := range ws {
		if w.x < 0 || w.y < 0 || w.x+w.w > sw || w.y+w.h > sh {
			t.Errorf("%s: %v is not wholly on the %dx%d screen", what, w, sw, sh)
		}
	}
}

// writeProfile writes a profile readable by the test user.
func writeProfile(t *testing.T, e *harness.Env, name, text string) string {
	t.Helper()
	p := filepath.Join(e.UserDir(t), name+".toml")
	e.WriteUserFile(t, p, text, 0o644)
	return p
}

// userCopy copies a file of the repository where the test user can read it.
func userCopy(t *testing.T, e *harness.Env, src string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.Root, src))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(e.UserDir(t), filepath.Base(src))
	e.WriteUserFile(t, p, string(b), 0o644)
	return p
}

// sandbox is `airlock run` in the background, its output collected.
type sandbox struct {
	cmd    *exec.Cmd
	stdin  *os.File
	mu     sync.Mutex
	out    strings.Builder
	errOut harness.SyncBuffer
	done   chan struct{}
	code   int
}

func start(t *testing.T, e *harness.Env, env []string, args ...string) *sandbox {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	cmd := e.Airlock(ctx, args...)
	cmd.Env = append(cmd.Env, env...)
	s := &sandbox{cmd: cmd, done: make(chan struct{})}
	r, w, err := os.Pipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	cmd.Stdin, s.stdin = r, w
	outR, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	cmd.Stderr = &s.errOut
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	r.Close()
	go func() {
		sc := bufio.NewScanner(outR)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			s.mu.Lock()
			s.out.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
		}
		cmd.Wait()
		s.code = cmd.ProcessState.ExitCode()
		cancel()
		close(s.done)
	}()
	t.Cleanup(func() {
		w.Close()
		select {
		case <-s.done:
		default:
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-s.done
		}
	})
	return s
}

func (s *sandbox) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// waitFor waits until a line of the output matches re (or fails at the
// deadline, or when the sandbox ends first).
func (s *sandbox) waitFor(t *testing.T, re string, within time.Duration) []string {
	t.Helper()
	rx := regexp.MustCompile("(?m)" + re)
	deadline := time.Now().Add(within)
	for {
		if m := rx.FindStringSubmatch(s.output()); m != nil {
			return m
		}
		select {
		case <-s.done:
			if m := rx.FindStringSubmatch(s.output()); m != nil {
				return m
			}
			t.Fatalf("the sandbox ended (exit %d) before printing /%s/:\n%s\nstderr:\n%s", s.code, re, s.output(), s.errOut.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no line /%s/ within %v:\n%s\nstderr:\n%s", re, within, s.output(), s.errOut.String())
		}
	}
}

func (s *sandbox) send(t *testing.T, line string) {
	t.Helper()
	if _, err := fmt.Fprintln(s.stdin, line); err != nil {
		t.Fatalf("cannot write to the sandbox: %v", err)
	}
}

func (s *sandbox) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-s.done:
		return s.code
	case <-time.After(4 * time.Minute):
		// LibreOffice on a loaded machine takes minutes to start.
		t.Fatalf("the sandbox did not end:\n%s", s.output())
	}
	return -1
}

// wmPid is the pid of the window manager of sandbox name (0 for none).
func wmPid(e *harness.Env, name string) int {
	for _, pid := range e.ProcessesOf(name) {
		cl, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if args := strings.Split(string(cl), "\x00"); len(args) > 1 && args[0] == "airlock-wm" && args[1] == name {
			return pid
		}
	}
	return 0
}
