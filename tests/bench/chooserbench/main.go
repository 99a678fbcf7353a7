// Command chooserbench times org.freedesktop.portal.FileChooser.OpenFile from
// the application's call until the dialog is on screen, for Airlock (the
// client inside a sandbox, on the broker's bus; the broker spawns
// airlock-chooser on the host display) and for xdg-desktop-portal with its
// GTK backend (the client on the portal's bus). tests/bench/chooser.sh runs
// both in one run; this program prints key=value lines and asserts nothing.
//
//	chooserbench client
//	    Reads "open TITLE" lines on stdin. For each: notes CLOCK_MONOTONIC,
//	    calls OpenFile("", TITLE, {handle_token, modal=false}), prints
//	    "called t0_ns=... call_ms=... handle=...", then, when the request's
//	    Response signal arrives, "response t_ns=... code=... uris=N".
//	chooserbench drive [-runs R] [-window PATTERN] -- CLIENT-COMMAND...
//	    Starts the client, and R+1 times (the first reported apart): asks it
//	    to open, polls `xdotool search --onlyvisible --name PATTERN` every
//	    POLL until the dialog is mapped, notes the dialog's RSS
//	    (_NET_WM_PID), focuses it, presses Escape, waits for the Response
//	    (its code must be -want) and for the window to go away.
//	    PATTERN may contain %s for the run's title.
//	chooserbench drive -chooser AIRLOCK-CHOOSER [-runs R] [-window PATTERN]
//	    Reference: no portal, no sandbox; spawns airlock-chooser itself with
//	    the request the broker sends for OpenFile, same polling and Escape.
//
// CLOCK_MONOTONIC is the same inside an Airlock sandbox (it has no time
// namespace), so the client's t0 and the driver's map time compare.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
	"golang.org/x/sys/unix"
)

func die(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "chooserbench: "+format+"\n", a...)
	os.Exit(1)
}

func mono() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

func main() {
	if len(os.Args) < 2 {
		die("usage: chooserbench client | drive ...")
	}
	switch os.Args[1] {
	case "client":
		client()
	case "drive":
		drive(os.Args[2:])
	default:
		die("unknown command %q", os.Args[1])
	}
}

const (
	portalDest = "org.freedesktop.portal.Desktop"
	portalPath = dbus.ObjectPath("/org/freedesktop/portal/desktop")
)

func client() {
	conn, err := dbus.SessionBus()
	if err != nil {
		die("session bus: %v", err)
	}
	// Every Response: the Response comes only after the driver's Escape,
	// long after the handle is known, so matching by path afterwards is safe.
	if err := conn.AddMatchSignal(dbus.WithMatchInterface("org.freedesktop.portal.Request"), dbus.WithMatchMember("Response")); err != nil {
		die("AddMatch: %v", err)
	}
	sig := make(chan *dbus.Signal, 16)
	conn.Signal(sig)
	obj := conn.Object(portalDest, portalPath)
	in := bufio.NewScanner(os.Stdin)
	for i := 0; in.Scan(); i++ {
		title, ok := strings.CutPrefix(in.Text(), "open ")
		if !ok {
			die("unknown request %q", in.Text())
		}
		token := fmt.Sprintf("chooserbench%d_%d", os.Getpid(), i)
		opts := map[string]dbus.Variant{"handle_token": dbus.MakeVariant(token), "modal": dbus.MakeVariant(false)}
		t0 := mono()
		var handle dbus.ObjectPath
		if err := obj.Call("org.freedesktop.portal.FileChooser.OpenFile", 0, "", title, opts).Store(&handle); err != nil {
			die("OpenFile: %v", err)
		}
		fmt.Printf("called t0_ns=%d call_ms=%.2f handle=%s\n", t0, float64(mono()-t0)/1e6, handle)
		timeout := time.After(60 * time.Second)
	wait:
		for {
			select {
			case s := <-sig:
				if s.Path != handle || len(s.Body) != 2 {
					continue
				}
				code, _ := s.Body[0].(uint32)
				res, _ := s.Body[1].(map[string]dbus.Variant)
				n := 0
				if u, ok := res["uris"].Value().([]string); ok {
					n = len(u)
				}
				fmt.Printf("response t_ns=%d code=%d uris=%d\n", mono(), code, n)
				break wait
			case <-timeout:
				die("no Response within 60 s")
			}
		}
	}
}

func xdo(args ...string) (string, error) {
	out, err := exec.Command("xdotool", args...).Output()
	return strings.TrimSpace(string(out)), err
}

func rssKB(pid string) int {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}

func drive(args []string) {
	fs := flag.NewFlagSet("drive", flag.ExitOnError)
	runs := fs.Int("runs", 10, "warm runs after the first")
	pattern := fs.String("window", "^%s$", "window name to wait for (regular expression; %s is the run's title)")
	poll := fs.Duration("poll", 2*time.Millisecond, "pause between two window searches")
	prefix := fs.String("title", "ChooserBench", "title prefix the application passes")
	want := fs.String("want", "1", "the Response code Escape must give")
	chooser := fs.String("chooser", "", "no client: spawn this airlock-chooser directly for each dialog (reference: the chooser alone)")
	every := fs.Duration("every", 0, "at least this long from one OpenFile to the next (the broker answers 2 to more than 4 dialogs in a burst, then one per 3 s: portal/filechooser/limit.go)")
	fs.Parse(args)
	if *chooser != "" {
		driveChooser(*chooser, *runs, *pattern, *poll, *prefix, *want)
		return
	}
	if fs.NArg() == 0 {
		die("drive: no client command")
	}
	cmd := exec.Command(fs.Arg(0), fs.Args()[1:]...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		die("%v", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		die("%v", err)
	}
	if err := cmd.Start(); err != nil {
		die("start client: %v", err)
	}
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func(prefix string, d time.Duration) string {
		t := time.After(d)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					die("the client ended (waiting for %q)", prefix)
				}
				if strings.HasPrefix(l, prefix+" ") {
					return l
				}
				fmt.Fprintf(os.Stderr, "client: %s\n", l)
			case <-t:
				die("no %q from the client within %s", prefix, d)
			}
		}
	}
	kv := func(line, key string) string {
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, key+"="); ok {
				return v
			}
		}
		return ""
	}
	var maps, calls, escs []float64
	var last time.Time
	for i := 0; i <= *runs; i++ {
		if d := time.Until(last.Add(*every)); d > 0 {
			time.Sleep(d)
		}
		last = time.Now()
		title := fmt.Sprintf("%s%d", *prefix, i)
		name := strings.ReplaceAll(*pattern, "%s", title)
		if _, err := io.WriteString(stdin, "open "+title+"\n"); err != nil {
			die("client: %v", err)
		}
		// Poll from now on, not from the reply: the dialog may map first.
		deadline := time.Now().Add(30 * time.Second)
		win, tMap := waitMapped(i, name, *poll)
		called := next("called", 10*time.Second)
		t0, _ := strconv.ParseInt(kv(called, "t0_ns"), 10, 64)
		callMs, _ := strconv.ParseFloat(kv(called, "call_ms"), 64)
		mapMs := float64(tMap-t0) / 1e6
		rss := windowRSS(win)
		tEsc := escape(win)
		resp := next("response", 30*time.Second)
		tResp, _ := strconv.ParseInt(kv(resp, "t_ns"), 10, 64)
		code := kv(resp, "code")
		if code != *want {
			die("run %d: Response code %s after Escape, want %s", i, code, *want)
		}
		escMs := float64(tResp-tEsc) / 1e6
		waitGone(name, *poll, deadline)
		what := "warm"
		if i == 0 {
			what = "first"
		} else {
			maps = append(maps, mapMs)
			calls = append(calls, callMs)
			escs = append(escs, escMs)
		}
		fmt.Printf("run %d %s map_ms=%.1f call_ms=%.2f escape_to_response_ms=%.1f response=%s dialog_rss_kB=%d\n", i, what, mapMs, callMs, escMs, code, rss)
		if i == 0 {
			fmt.Printf("first map_ms=%.1f escape_to_response_ms=%.1f\n", mapMs, escMs)
		}
	}
	stdin.Close()
	cmd.Wait()
	fmt.Printf("warm runs=%d map_ms=%.1f map_p10_ms=%.1f map_p90_ms=%.1f call_ms=%.2f escape_to_response_ms=%.1f\n",
		len(maps), med(maps), pct(maps, 10), pct(maps, 90), med(calls), med(escs))
}

func med(v []float64) float64 { return pct(v, 50) }

func pct(v []float64, p int) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if p == 50 && len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[(len(s)-1)*p/100]
}

// waitMapped polls until a visible window is named name; returns it and when.
func waitMapped(run int, name string, poll time.Duration) (string, int64) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if out, err := xdo("search", "--onlyvisible", "--name", name); err == nil && out != "" {
			return strings.Fields(out)[0], mono()
		}
		time.Sleep(poll)
	}
	die("run %d: no visible window named %q within 30 s", run, name)
	return "", 0
}

// waitGone: the next dialog must not be confused with this one.
func waitGone(name string, poll time.Duration, deadline time.Time) {
	for time.Now().Before(deadline) {
		if out, _ := xdo("search", "--onlyvisible", "--name", name); out == "" {
			return
		}
		time.Sleep(poll)
	}
}

func windowRSS(win string) int {
	if pid, err := xdo("getwindowpid", win); err == nil {
		return rssKB(pid)
	}
	return 0
}

// escape focuses win (there is no window manager) and presses Escape.
func escape(win string) int64 {
	if out, err := xdo("windowfocus", "--sync", win); err != nil {
		die("windowfocus: %v %s", err, out)
	}
	t := mono()
	if out, err := xdo("key", "Escape"); err != nil {
		die("key Escape: %v %s", err, out)
	}
	return t
}

// driveChooser spawns airlock-chooser itself with the request the broker
// would send for OpenFile: the chooser's own share of the time.
func driveChooser(bin string, runs int, pattern string, poll time.Duration, prefix, want string) {
	home, _ := os.UserHomeDir()
	var maps, escs []float64
	for i := 0; i <= runs; i++ {
		title := fmt.Sprintf("%s%d", prefix, i)
		name := strings.ReplaceAll(pattern, "%s", title)
		req := fmt.Sprintf(`{"mode":"open","sandbox_name":"chooserbench","app_title":%q,"current_folder":%q,"show_read_only":true,"timeout_seconds":600}`, title, home)
		cmd := exec.Command(bin)
		cmd.Stdin = strings.NewReader(req)
		var out strings.Builder
		cmd.Stdout = &out
		t0 := mono()
		if err := cmd.Start(); err != nil {
			die("start %s: %v", bin, err)
		}
		deadline := time.Now().Add(30 * time.Second)
		win, tMap := waitMapped(i, name, poll)
		rss := windowRSS(win)
		tEsc := escape(win)
		cmd.Wait()
		tResp := mono()
		code := "?"
		var r struct{ Response uint32 }
		if err := json.Unmarshal([]byte(out.String()), &r); err == nil {
			code = strconv.Itoa(int(r.Response))
		}
		if code != want {
			die("run %d: the chooser answered %q after Escape, want response %s", i, out.String(), want)
		}
		waitGone(name, poll, deadline)
		mapMs, escMs := float64(tMap-t0)/1e6, float64(tResp-tEsc)/1e6
		what := "warm"
		if i == 0 {
			what = "first"
		} else {
			maps = append(maps, mapMs)
			escs = append(escs, escMs)
		}
		fmt.Printf("run %d %s map_ms=%.1f escape_to_exit_ms=%.1f response=%s dialog_rss_kB=%d\n", i, what, mapMs, escMs, code, rss)
		if i == 0 {
			fmt.Printf("first map_ms=%.1f\n", mapMs)
		}
	}
	fmt.Printf("warm runs=%d map_ms=%.1f map_p10_ms=%.1f map_p90_ms=%.1f escape_to_exit_ms=%.1f\n",
		len(maps), med(maps), pct(maps, 10), pct(maps, 90), med(escs))
}
