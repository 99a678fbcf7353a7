package launcher_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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

func TestDisplayNone(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	needBins(t, "Xvfb", "xdpyinfo")
	x := e.StartXvfb(t)
	nt := nettool(t, e)
	for _, f := range [][]string{{"--display", "none"}, nil} {
		args := append([]string{"run", "--ro", nt}, f...)
		script := fmt.Sprintf(`echo "DISPLAY=${DISPLAY-unset}"; ls -A /tmp; $NT unix /tmp/.X11-unix/X%[1]d; $NT unix @/tmp/.X11-unix/X%[1]d; true`, x.Num)
		r := runEnv(t, e, x.Env(), append(args, withTool(nt, script)...)...)
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
	x := e.StartXvfb(t)
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
echo ready; read x || true`, x.Num)
	env := append(x.Env(), "XDG_RUNTIME_DIR="+rt)
	sb := start(t, e, env, nil, cat([]string{"run", "--profile", p, "--name", name, "--ro", nt}, withTool(nt, script))...)
	sb.waitLine(t, "ready")
	rec := recordOf(t, rt, name)
	if _, err := os.Stat(filepath.Join(rt, "airlock", "run-"+rec.ID)); err != nil {
		t.Errorf("no run-%s folder while running: %v", rec.ID, err)
	}
	// The nested server's window, titled with the sandbox's name, is on the
	// host display.
	tree, err := x.Host("xwininfo", "-root", "-tree")
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
	if tree, _ := x.Host("xwininfo", "-root", "-tree"); strings.Contains(tree, name) {
		t.Errorf("the nested display's window is still there")
	}
}

func TestDisplayX11(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	needBins(t, "Xvfb", "xauth", "xdpyinfo")
	x := e.StartXvfb(t)
	rt := privateRuntime(t, e)
	name := uniq("hostx")
	ext, err := x.Host("xdpyinfo", "-queryExtensions")
	if err != nil {
		t.Fatalf("xdpyinfo on the host: %v\n%s", err, ext)
	}
	script := `echo "DISPLAY=$DISPLAY"; xdpyinfo -queryExtensions | grep -c -w -e XTEST -e RECORD; xdpyinfo >/dev/null && echo CLIENT-OK`
	r := runEnv(t, e, append(x.Env(), "XDG_RUNTIME_DIR="+rt), "run", "--display", "x11", "--name", name, "--", "/bin/sh", "-c", script)
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
	cmd.Env = append(os.Environ(), fmt.Sprintf("DISPLAY=:%d", x.Num), "XAUTHORITY="+bad)
	if err := cmd.Run(); err == nil {
		t.Errorf("the test Xvfb accepts clients without a cookie")
	}
}
