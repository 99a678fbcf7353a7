package harness

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"image/png"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Xvfb is a host X display with access control: only clients holding the
// cookie in Auth (readable by the test user and root) may connect.
type Xvfb struct {
	Num  int
	Auth string
}

// Env is what a client needs to reach the display.
func (x *Xvfb) Env() []string {
	return []string{fmt.Sprintf("DISPLAY=:%d", x.Num), "XAUTHORITY=" + x.Auth}
}

// Host runs an X client (xdotool, import, xwininfo) on the display as the
// test's own user and returns what it printed on stdout. What it printed on
// stderr is only in the error: X clients warn there while windows come and go
// (xdotool search: "XGetWindowProperty[_NET_WM_DESKTOP] failed"), and a
// warning read as output would count as a window or spoil a title.
func (x *Xvfb) Host(name string, args ...string) (string, error) {
	return runX(x.Env(), name, args...)
}

// runX runs X client name with env (DISPLAY=..., XAUTHORITY=...) added to
// the test's own, as Host does.
func runX(env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		err = fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return string(out), err
}

// Windows lists the window ids that xdotool search prints for args (none
// when it finds none).
func (x *Xvfb) Windows(args ...string) []string {
	out, _ := x.Host("xdotool", append([]string{"search"}, args...)...) // exit 1 when none
	var ids []string
	for _, f := range strings.Fields(out) {
		if _, err := strconv.ParseUint(f, 10, 32); err == nil {
			ids = append(ids, f)
		}
	}
	return ids
}

// displayTaken reports whether display n has a server, or the leftovers of
// one: its socket, its lock file or its abstract socket.
func displayTaken(n int) bool {
	if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); err == nil {
		return true
	}
	if _, err := os.Stat(fmt.Sprintf("/tmp/.X%d-lock", n)); err == nil {
		return true
	}
	unix, _ := os.ReadFile("/proc/net/unix")
	return bytes.Contains(unix, []byte(fmt.Sprintf("@/tmp/.X11-unix/X%d\n", n)))
}

// StartXvfb starts Xvfb as the test user on a free display, cookie-protected
// and with -noreset (without it the server resets when its last client
// leaves, which drops the untrusted cookies that airlock's x11 mode
// generates), and stops it by PID at the test's end. It skips the test when
// Xvfb is not installed. Display numbers are drawn at random from 1000 up:
// far from :0, which is the sandbox's own display inside, and from the
// numbers of parallel test packages.
func (e *Env) StartXvfb(t testing.TB) *Xvfb {
	t.Helper()
	return e.StartXvfbScreen(t, "1600x1200x24")
}

// StartXvfbScreen is StartXvfb with a screen of its own size
// (WIDTHxHEIGHTxDEPTH).
func (e *Env) StartXvfbScreen(t testing.TB, screen string) *Xvfb {
	t.Helper()
	if _, err := exec.LookPath("Xvfb"); err != nil {
		t.Skip("Xvfb is not installed")
	}
	auth := filepath.Join(e.UserDir(t), "Xauthority")
	cookie := make([]byte, 16)
	rand.Read(cookie)
	// One FamilyWild entry: it matches whatever display number Xvfb takes.
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint16(0xffff))
	for _, f := range [][]byte{nil, nil, []byte("MIT-MAGIC-COOKIE-1"), cookie} {
		binary.Write(&b, binary.BigEndian, uint16(len(f)))
		b.Write(f)
	}
	e.WriteUserFile(t, auth, b.String(), 0o600)
	for try := 0; try < 20; try++ {
		r, _ := rand.Int(rand.Reader, big.NewInt(30000))
		n := 1000 + int(r.Int64())
		if displayTaken(n) {
			continue
		}
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd := e.Command(context.Background(), "Xvfb", fmt.Sprintf(":%d", n), "-displayfd", "3", "-auth", auth,
			"-nolisten", "tcp", "-noreset", "-screen", "0", screen)
		cmd.ExtraFiles = []*os.File{pw}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pw.Close()
		numc := make(chan string, 1)
		go func() {
			l, _ := bufio.NewReader(pr).ReadString('\n')
			numc <- strings.TrimSpace(l)
			pr.Close()
		}()
		select {
		case got := <-numc:
			if got == strconv.Itoa(n) {
				t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
				return &Xvfb{Num: n, Auth: auth}
			}
		case <-time.After(30 * time.Second):
		}
		cmd.Process.Kill()
		cmd.Wait()
	}
	t.Fatal("cannot start Xvfb")
	return nil
}

// SyncBuffer is a bytes.Buffer safe for a process's output and a test
// reading it at once. Its zero value is ready to use.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Screenshot saves the whole display to path and logs where (or why not:
// ImageMagick's import missing is not a failure).
func (x *Xvfb) Screenshot(t *testing.T, path string) {
	t.Helper()
	if _, err := x.Host("import", "-window", "root", path); err != nil {
		t.Logf("no screenshot (ImageMagick import): %v", err)
		return
	}
	t.Logf("screenshot: %s", path)
}

// CountColor counts the pixels of colour hex ("#rrggbb") in window win of
// the display at env (DISPLAY=...), as ImageMagick's import reads them.
func CountColor(env []string, win, hex string) (int, error) {
	out, err := runX(env, "import", "-window", win, "png:-")
	if err != nil {
		return 0, err
	}
	img, err := png.Decode(strings.NewReader(out))
	if err != nil {
		return 0, fmt.Errorf("import's PNG: %w", err)
	}
	var want [3]uint32
	if _, err := fmt.Sscanf(hex, "#%02x%02x%02x", &want[0], &want[1], &want[2]); err != nil {
		return 0, fmt.Errorf("colour %q: %w", hex, err)
	}
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 == want[0] && g>>8 == want[1] && bl>>8 == want[2] {
				n++
			}
		}
	}
	return n, nil
}

// AwaitColor polls CountColor until the window shows at least min pixels
// of hex or limit passes (a window maps before its toolkit paints it), and
// returns the last count.
func AwaitColor(env []string, win, hex string, min int, limit time.Duration) (int, error) {
	deadline := time.Now().Add(limit)
	for {
		n, err := CountColor(env, win, hex)
		if err != nil || n >= min || time.Now().After(deadline) {
			return n, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
