package sandbox

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"airlock/launcher/nestedwm"
)

// WMConfineArg0 is argv[0] of the stage that confines the nested display's
// window manager and then runs it (a re-exec of this binary as
// nestedwm.Arg0); main dispatches on it, like XephyrArg0.
const WMConfineArg0 = "airlock-wm-confine"

// Where the window manager finds the nested display inside its root.
const (
	wmRun  = "/run/airlock-wm"
	wmAuth = wmRun + "/Xauthority"
)

// wmPlan is the window manager's own sandbox: new user, mount, pid, ipc,
// uts, net and cgroup namespaces like Xephyr's (startWM), a read-only root
// of the host's libraries (the airlock binary is linked dynamically) and
// nothing else but the nested display's socket (socket, bound at
// /tmp/.X11-unix/X0) and cookie (auth): no host display, no bus, no
// $HOME, no /tmp. It is not in the application's sandbox, so the
// application can neither signal nor ptrace it (another pid namespace).
// color is the profile's colour (#rrggbb), the nested desktop's.
func wmPlan(acct Account, socket, auth, name, color string) Plan {
	h := hostPaths{}
	ops := []Op{{Kind: OpTmpfs, Dst: "/", Mode: 0o755}}
	ops = h.bind(ops, "/usr")
	for _, d := range []string{"/bin", "/lib", "/lib32", "/lib64", "/libx32"} {
		ops = h.linkOrBind(ops, d, true)
	}
	for _, e := range []string{"ld.so.cache", "ld.so.conf", "ld.so.conf.d"} {
		ops = h.linkOrBind(ops, "/etc/"+e, false)
	}
	ops = append(ops,
		// /proc of its own pid namespace: the stage re-executes the
		// binary through /proc/self/exe.
		Op{Kind: OpProc, Dst: "/proc"},
		Op{Kind: OpTmpfs, Dst: "/dev", Mode: 0o755, NoExec: true},
		Op{Kind: OpDevBind, Src: "/dev/null", Dst: "/dev/null"},
		Op{Kind: OpBind, Src: socket, Dst: "/tmp/.X11-unix/X0"},
		Op{Kind: OpROBind, Src: auth, Dst: wmAuth},
		Op{Kind: OpRemountRO, Dst: "/"},
	)
	return Plan{Name: "window-manager", Profile: "window-manager", UID: acct.UID, GID: acct.GID, Hostname: "airlock-wm", Net: "none",
		Ops: ops, Args: []string{nestedwm.Arg0, name, color}, Env: []string{"DISPLAY=:0", "XAUTHORITY=" + wmAuth}, Cwd: "/"}
}

// WMConfineMain is the stage that confines the window manager, then
// re-executes this binary as it. It never returns.
//
// IMPORTANT: this runs with every capability of the new user namespace until
// dropPrivileges, like init. The re-exec is what drops them: capabilities
// are per thread, and the Go runtime's other threads would keep them.
func WMConfineMain() {
	runtime.LockOSThread()
	err := confinedStage(true)
	fmt.Fprintf(os.Stderr, `{"level":"ERROR","msg":"cannot confine the window manager","err":%q}`+"\n", err.Error())
	os.Exit(ExitSetup)
}

// startWM starts the nested display's window manager as soon as the nested
// server is up (socket and auth: its socket and cookie on the host), from a
// goroutine: neither the launch nor the application waits for it, and
// windows the application maps first are adopted when it starts. A failure
// is logged, never fatal: the application runs as it did without one.
func (s *Sandbox) startWM(socket, auth string) {
	log := s.log.With("component", nestedwm.Name)
	plan := wmPlan(CurrentAccount(), socket, auth, s.plan.Name, s.opts.Profile.ColorHex())
	s.plan.WM = &plan
	p := &wmProcess{log: log, started: make(chan struct{}), exited: make(chan struct{})}
	s.cleanup = append(s.cleanup, p.stop)
	go p.start(plan)
}

// wmProcess is the running window manager, as the launcher sees it.
type wmProcess struct {
	log      *slog.Logger
	stopping atomic.Bool
	// started is closed once start returned; cmd is set then (nil when
	// the process could not start).
	started chan struct{}
	cmd     *exec.Cmd
	exited  chan struct{}
}

func (p *wmProcess) start(plan Plan) {
	defer close(p.started)
	fail := func(err error) { p.log.Warn("cannot start the nested display's window manager", "err", err) }
	ready, readyW, err := os.Pipe()
	if err != nil {
		fail(err)
		return
	}
	logR, logW, err := os.Pipe()
	if err != nil {
		ready.Close()
		readyW.Close()
		fail(err)
		return
	}
	// It parses what the application's windows say about themselves
	// (hostile): a sandbox of its own, as Xephyr has (startXephyr); its
	// capabilities are gone at its second re-exec.
	cmd, err := stageCommand(WMConfineArg0, &plan, syscall.SIGKILL, readyW) // descriptor 3 (nestedwm.ReadyFD)
	if err != nil {
		ready.Close()
		readyW.Close()
		logR.Close()
		logW.Close()
		fail(err)
		return
	}
	cmd.Stderr = logW
	if p.stopping.Load() {
		// The sandbox ended before the window manager started.
		ready.Close()
		readyW.Close()
		logR.Close()
		logW.Close()
		return
	}
	t0 := time.Now()
	err = cmd.Start()
	readyW.Close()
	logW.Close()
	if err != nil {
		ready.Close()
		logR.Close()
		fail(err)
		return
	}
	p.cmd = cmd
	go relayLog(logR, p.log)
	go func() {
		defer ready.Close()
		line, _ := bufio.NewReader(io.LimitReader(ready, 64)).ReadString('\n')
		if strings.TrimSpace(line) == "ready" {
			p.log.Info("window manager ready", "pid", cmd.Process.Pid, "start_ms", float64(time.Since(t0).Microseconds())/1000)
		}
	}()
	go func() {
		err := cmd.Wait()
		if !p.stopping.Load() {
			// The application and its display keep working; its windows
			// stay where they are, unmanaged.
			p.log.Warn("the nested display's window manager ended; windows are no longer placed or kept on the screen", "err", err)
		}
		close(p.exited)
	}()
}

// stop ends the window manager with the sandbox. SIGKILL at once: it keeps
// no state, and SIGTERM would be lost if it came before the process set
// its handler (a pid namespace's init ignores signals it has no handler
// for, pid_namespaces(7)).
func (p *wmProcess) stop() {
	p.stopping.Store(true)
	<-p.started
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Kill()
	<-p.exited
}

// Bounds on what the launcher relays of the window manager's log: its
// lines can carry numbers derived from what the application did (X
// errors), never more than this.
const (
	wmLogLine  = 2048
	wmLogAttrs = 8
)

// relayLog copies the window manager's JSON log lines into the launcher's
// log (with the sandbox's name and id), each line bounded; its own
// rate-limiting keeps their number down.
func relayLog(r *os.File, log *slog.Logger) {
	defer r.Close()
	br := bufio.NewReaderSize(r, wmLogLine)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// Too long: dropped, up to its end.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			log.Warn("window manager: overlong log line dropped")
			continue
		}
		if len(line) > 0 {
			relayLine(line, log)
		}
		if err != nil {
			return
		}
	}
}

func relayLine(line []byte, log *slog.Logger) {
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		log.Warn("window manager", "line", strings.TrimSpace(string(line)))
		return
	}
	level := slog.LevelInfo
	if l, ok := m["level"].(string); ok {
		level.UnmarshalText([]byte(l))
	}
	msg, _ := m["msg"].(string)
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != "level" && k != "msg" && k != "time" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var args []any
	for _, k := range keys[:min(len(keys), wmLogAttrs)] {
		args = append(args, k, m[k])
	}
	log.Log(context.Background(), level, "window manager: "+msg, args...)
}
