package launcher_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"airlock/tests/harness"
)

func needBins(t *testing.T, bins ...string) {
	t.Helper()
	harness.NeedBins(t, bins...)
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

var geometryRE = regexp.MustCompile(`\s(\d+)x(\d+)[+-]\d+[+-]\d+\s`)

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// TestXephyrScreenCapped: the nested screen, and so its window on the host,
// never exceeds the host screen (issue 8): neither the profile's size nor a
// client inside asking the nested server for a larger one (RandR) makes the
// window larger than the host display.
func TestXephyrScreenCapped(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	needBins(t, "Xvfb", "Xephyr", "xdpyinfo", "xwininfo", "xrandr")
	x := e.StartXvfbScreen(t, "1024x768x24")
	for _, screen := range []string{"1600x1200", "800x600"} {
		rt := privateRuntime(t, e)
		name := uniq("bigscreen")
		p := writeProfile(t, e, "big", fmt.Sprintf("display = \"xephyr\"\nxephyr_screen = %q\n", screen))
		script := `xdpyinfo | grep dimensions:
xrandr -s 1600x1200; xrandr --fb 1600x1200; xrandr --fb 20000x20000
xdpyinfo | grep dimensions:
echo ready; read x || true`
		sb := start(t, e, append(x.Env(), "XDG_RUNTIME_DIR="+rt), nil, "run", "--profile", p, "--name", name, "--", "/bin/sh", "-c", script)
		sb.waitLine(t, "ready")
		tree, err := x.Host("xwininfo", "-root", "-tree")
		w, h := -1, -1
		for _, l := range strings.Split(tree, "\n") {
			if !strings.Contains(l, name+" (Airlock sandbox)") {
				continue
			}
			// ... ("Xephyr" "Xephyr")  WxH+X+Y  +X+Y
			if m := geometryRE.FindStringSubmatch(l); m != nil {
				w, h = atoi(m[1]), atoi(m[2])
			}
		}
		if err != nil || w <= 0 || h <= 0 {
			t.Fatalf("%s: no window of sandbox %s on the host: %v\n%s", screen, name, err, tree)
		}
		if w > 1024 || h > 768 {
			t.Errorf("xephyr_screen = %s: the nested display's window is %dx%d on a 1024x768 host screen", screen, w, h)
		}
		sb.stdin.Close()
		r := sb.wait(t)
		for _, l := range strings.Split(r.Stdout, "\n") {
			var iw, ih int
			if n, _ := fmt.Sscanf(strings.TrimSpace(l), "dimensions: %dx%d", &iw, &ih); n == 2 && (iw > 1024 || ih > 768) {
				t.Errorf("xephyr_screen = %s: the nested screen is %dx%d inside", screen, iw, ih)
			}
		}
		if r.Code != 0 || !strings.Contains(r.Stdout, "dimensions:") {
			t.Errorf("xephyr_screen = %s: %v", screen, r)
		}
	}
}

// TestXephyrConfined: the nested X server parses everything the sandboxed
// application sends, so it runs confined too (issue 8): an environment of
// DISPLAY, XAUTHORITY and what it needs only, namespaces of its own (not the
// launcher's), no $HOME in its root, no_new_privs and seccomp.
func TestXephyrConfined(t *testing.T) {
	t.Parallel()
	e := harness.Get(t)
	needBins(t, "Xvfb", "Xephyr", "xdpyinfo")
	x := e.StartXvfb(t)
	rt := privateRuntime(t, e)
	if st, err := os.Stat(e.Home); err != nil || !st.IsDir() {
		t.Skipf("the test user's home %s does not exist: the check below would prove nothing", e.Home)
	}
	name := uniq("confined")
	env := append(x.Env(), "XDG_RUNTIME_DIR="+rt, "AIRLOCK_TEST_SECRET=leak")
	sb := start(t, e, env, nil, "run", "--display", "xephyr", "--name", name, "--", "/bin/sh", "-c", "xdpyinfo >/dev/null && echo ready; read x || true")
	sb.waitLine(t, "ready")
	rec := recordOf(t, rt, name)
	xephyr := 0
	for _, pid := range e.ProcessesOf(name) {
		if cl, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); strings.Contains(strings.Split(string(cl), "\x00")[0], "Xephyr") {
			xephyr = pid
		}
	}
	if xephyr == 0 {
		t.Fatalf("no Xephyr process for sandbox %s", name)
	}
	// What the user's own processes on the host can read of it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	probe := fmt.Sprintf(`P=/proc/%[1]d
tr '\0' '\n' < $P/environ; echo --
ls $P/root/usr >/dev/null && echo ROOT-READABLE
test -e $P/root%[2]s && echo HOME-SEEN
grep -E '^(NoNewPrivs|Seccomp):' $P/status
echo "SOCKETS $(ls -A $P/root/tmp/.X11-unix | sort | tr '\n' ' ')"`, xephyr, e.Home)
	r := harness.RunCmd(e.Command(ctx, "/bin/sh", "-c", probe))
	envPart, rest, _ := strings.Cut(r.Stdout, "--\n")
	allowed := map[string]bool{"DISPLAY": true, "XAUTHORITY": true, "PATH": true, "LANG": true, "XEPHYR_NO_SHM": true}
	for _, kv := range strings.Split(strings.TrimSpace(envPart), "\n") {
		if k, _, _ := strings.Cut(kv, "="); !allowed[k] {
			t.Errorf("Xephyr's environment has %q", kv)
		}
	}
	if !strings.Contains(envPart, fmt.Sprintf("DISPLAY=:%d\n", x.Num)) {
		t.Errorf("Xephyr's environment lacks the host display: %v", r)
	}
	if !strings.Contains(rest, "ROOT-READABLE") || strings.Contains(rest, "HOME-SEEN") {
		t.Errorf("Xephyr's root: want readable and without %s: %v", e.Home, r)
	}
	// Its own socket and the host display's, no other X server's.
	if want := fmt.Sprintf("SOCKETS X0 X%d \n", x.Num); !strings.Contains(rest, want) {
		t.Errorf("Xephyr's /tmp/.X11-unix: want %q: %v", want, r)
	}
	if !strings.Contains(rest, "NoNewPrivs:\t1") || !strings.Contains(rest, "Seccomp:\t2") {
		t.Errorf("Xephyr: want no_new_privs and a seccomp filter: %v", r)
	}
	for _, ns := range []string{"user", "mnt", "pid", "ipc", "net", "uts"} {
		mine, err1 := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", rec.Launcher, ns))
		its, err2 := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", xephyr, ns))
		if err1 != nil || err2 != nil || mine == its {
			t.Errorf("Xephyr's %s namespace: launcher %s (%v), Xephyr %s (%v): want a new one", ns, mine, err1, its, err2)
		}
	}
	sb.stdin.Close()
	if res := sb.wait(t); res.Code != 0 {
		t.Errorf("sandbox: %v", res)
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
	// The sandboxes' records and the session's /etc view, nothing else.
	if ents, _ := os.ReadDir(filepath.Join(rt, "airlock")); len(ents) != 2 {
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
