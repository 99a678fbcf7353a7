package launcher_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"airlock/tests/harness"
)

func needBins(t *testing.T, bins ...string) {
	t.Helper()
	for _, b := range bins {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s is not installed", b)
		}
	}
}

// xvfb is a host X display with access control: only clients holding the
// cookie in auth (readable by the test user) may connect.
type xvfb struct {
	num  int
	auth string
}

func (x *xvfb) env() []string {
	return []string{fmt.Sprintf("DISPLAY=:%d", x.num), "XAUTHORITY=" + x.auth}
}

// host runs an X client on the host display, as root.
func (x *xvfb) host(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), x.env()...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func startXvfb(t *testing.T, e *harness.Env) *xvfb {
	t.Helper()
	needBins(t, "Xvfb")
	d := e.UserDir(t)
	auth := filepath.Join(d, "Xauthority")
	cookie := make([]byte, 16)
	rand.Read(cookie)
	// One FamilyWild entry: it matches whatever display number Xvfb picks.
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint16(0xffff))
	for _, f := range [][]byte{nil, nil, []byte("MIT-MAGIC-COOKIE-1"), cookie} {
		binary.Write(&b, binary.BigEndian, uint16(len(f)))
		b.Write(f)
	}
	e.WriteUserFile(t, auth, b.String(), 0o600)
	// A display number far from 0: inside, :0 is the sandbox's own
	// display, and a host display :0 would make "the host display is not
	// reachable" checks ambiguous.
	for try := 0; try < 10; try++ {
		n := 100 + int(cookie[try%16])*3 + try
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); err == nil {
			continue
		}
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("Xvfb", fmt.Sprintf(":%d", n), "-displayfd", "3", "-auth", auth, "-nolisten", "tcp",
			// Without -noreset the server resets when its last client
			// leaves, which drops the untrusted cookie that airlock
			// generated before the application connects.
			"-noreset", "-screen", "0", "1600x1200x24")
		cmd.ExtraFiles = []*os.File{w}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		w.Close()
		numc := make(chan string, 1)
		go func() {
			l, _ := bufio.NewReader(r).ReadString('\n')
			numc <- strings.TrimSpace(l)
			r.Close()
		}()
		select {
		case s := <-numc:
			if s == fmt.Sprint(n) {
				t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
				return &xvfb{num: n, auth: auth}
			}
		case <-time.After(30 * time.Second):
		}
		cmd.Process.Kill()
		cmd.Wait()
	}
	t.Fatal("cannot start Xvfb")
	return nil
}

func TestDisplayNone(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	needBins(t, "Xvfb", "xdpyinfo")
	x := startXvfb(t, e)
	nt := nettool(t, e)
	for _, f := range [][]string{{"--display", "none"}, nil} {
		args := append([]string{"run", "--ro", nt}, f...)
		script := fmt.Sprintf(`echo "DISPLAY=${DISPLAY-unset}"; ls -A /tmp; $NT unix /tmp/.X11-unix/X%[1]d; $NT unix @/tmp/.X11-unix/X%[1]d; true`, x.num)
		r := runEnv(t, e, x.env(), append(args, withTool(nt, script)...)...)
		lines := strings.Split(r.Stdout, "\n")
		if len(lines) != 4 || lines[0] != "DISPLAY=unset" || !strings.HasPrefix(lines[1], "FAIL") || !strings.HasPrefix(lines[2], "FAIL") {
			t.Errorf("%v: want no display and the host X sockets unreachable: %v", f, r)
		}
	}
}

func TestDisplayXephyr(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	needBins(t, "Xvfb", "Xephyr", "xdpyinfo", "xprop", "xwininfo")
	x := startXvfb(t, e)
	nt := nettool(t, e)
	rt := privateRuntime(t, e)
	before := hostMounts(t)
	name := uniq("nested")
	p := writeProfile(t, e, "nested", "display = \"xephyr\"\nxephyr_screen = \"1024x700\"\n")
	script := fmt.Sprintf(`echo "DISPLAY=$DISPLAY"
xdpyinfo | grep dimensions:
xprop -root >/dev/null && echo XPROP-OK
$NT unix /tmp/.X11-unix/X%[1]d
$NT unix @/tmp/.X11-unix/X%[1]d
DISPLAY=:%[1]d xdpyinfo >/dev/null 2>&1 && echo HOST-DISPLAY-REACHED
xdpyinfo | grep -q 1600x1200 && echo HOST-SCREEN
echo ready; read x || true`, x.num)
	env := append(x.env(), "XDG_RUNTIME_DIR="+rt)
	sb := start(t, e, env, nil, cat([]string{"run", "--profile", p, "--name", name, "--ro", nt}, withTool(nt, script))...)
	sb.waitLine(t, "ready")
	rec := recordOf(t, rt, name)
	if _, err := os.Stat(filepath.Join(rt, "airlock", "run-"+rec.ID)); err != nil {
		t.Errorf("no run-%s folder while running: %v", rec.ID, err)
	}
	// The nested server's window, titled with the sandbox's name, is on the
	// host display.
	tree, err := x.host(t, "xwininfo", "-root", "-tree")
	if err != nil || !strings.Contains(tree, name+" (Airlock sandbox)") {
		t.Errorf("no window titled %q on the host display: %v\n%s", name, err, tree)
	}
	xephyrs := e.ProcessesOf(name)
	if len(xephyrs) == 0 {
		t.Errorf("no Xephyr process titled %s", name)
	}
	sb.stdin.Close()
	r := sb.wait(t)
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if r.Code != 0 || len(lines) != 6 || lines[0] != "DISPLAY=:0" || !strings.Contains(lines[1], "1024x700 pixels") ||
		lines[2] != "XPROP-OK" || !strings.HasPrefix(lines[3], "FAIL") || !strings.HasPrefix(lines[4], "FAIL") || lines[5] != "ready" {
		t.Errorf("inside the nested display: %v", r)
	}
	// Xephyr is stopped with the sandbox; its cookie folder is removed.
	assertGone(t, e, rt, name, rec.ID, name, before)
	if tree, _ := x.host(t, "xwininfo", "-root", "-tree"); strings.Contains(tree, name) {
		t.Errorf("the nested display's window is still there")
	}
}

func TestDisplayX11(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	needBins(t, "Xvfb", "xauth", "xdpyinfo")
	x := startXvfb(t, e)
	rt := privateRuntime(t, e)
	name := uniq("hostx")
	ext, err := x.host(t, "xdpyinfo", "-queryExtensions")
	if err != nil {
		t.Fatalf("xdpyinfo on the host: %v\n%s", err, ext)
	}
	script := `echo "DISPLAY=$DISPLAY"; xdpyinfo -queryExtensions | grep -c -w -e XTEST -e RECORD; xdpyinfo >/dev/null && echo CLIENT-OK`
	r := runEnv(t, e, append(x.env(), "XDG_RUNTIME_DIR="+rt), "run", "--display", "x11", "--name", name, "--", "/bin/sh", "-c", script)
	if !strings.Contains(ext, "SECURITY") {
		// No untrusted cookies here: refused, never a trusted fallback.
		if r.Code != 1 || !strings.Contains(r.Stderr, "SECURITY") || r.Stdout != "" {
			t.Errorf("x11 without SECURITY: want a clear refusal, got %v", r)
		}
		return
	}
	// An untrusted client does not see XTEST or RECORD, which a trusted
	// one (on the host) does: the cookie inside is the untrusted one.
	if !strings.Contains(ext, "XTEST") {
		t.Fatalf("host Xvfb has no XTEST: the check below would prove nothing")
	}
	if r.Code != 0 || r.Stdout != "DISPLAY=:0\n0\nCLIENT-OK\n" {
		t.Errorf("x11: want a working untrusted client, got %v", r)
	}
	if ents, _ := os.ReadDir(filepath.Join(rt, "airlock")); len(ents) != 1 {
		t.Errorf("left in the runtime folder: %v", ents)
	}
	// Without the cookie, the host display refuses the sandbox's clients:
	// the test display really checks cookies.
	bad := filepath.Join(e.UserDir(t), "empty")
	e.WriteUserFile(t, bad, "", 0o600)
	cmd := exec.Command("xdpyinfo")
	cmd.Env = append(os.Environ(), fmt.Sprintf("DISPLAY=:%d", x.num), "XAUTHORITY="+bad)
	if err := cmd.Run(); err == nil {
		t.Errorf("the test Xvfb accepts clients without a cookie")
	}
}
