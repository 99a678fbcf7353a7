package nestedwm

import (
	"io"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/jezek/xgb"
	"golang.org/x/sys/unix"

	"airlock/launcher/seccomp"
)

// Arg0 is argv[0] of the window manager's process; launcher/main.go
// dispatches on it. argv[1] is the sandbox's name, for the reader of ps.
const Arg0 = "airlock-wm"

// ReadyFD is where the WM writes "ready\n" once it manages the display
// (the launcher's pipe; absent when started otherwise).
const ReadyFD = 3

// Main runs the window manager on $DISPLAY with $XAUTHORITY, logging JSON
// lines on stderr (the launcher relays them to its own log). It never
// returns.
//
// It runs in the confinement the launcher built (sandbox.WMConfineMain):
// its own namespaces, a root of the host's libraries and the nested
// display's socket and cookie, no capability, the sandbox's seccomp filter.
func Main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	// The ready pipe is taken first, when the launcher passed one: the X
	// connection would otherwise get descriptor 3, and "ready" would be
	// written into the X protocol stream.
	var ready *os.File
	if _, err := unix.FcntlInt(ReadyFD, unix.F_GETFD, 0); err == nil {
		ready = os.NewFile(ReadyFD, "ready")
	}
	// Non-dumpable again (exec reset it): the user's other processes cannot
	// read its memory through /proc.
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	// xgb logs protocol oddities through the standard logger: rate-limited
	// into ours.
	xgb.Logger = log.New(&limitedWriter{log: logger}, "", 0)
	start := time.Now()
	X, err := xgb.NewConnDisplay("")
	if err != nil {
		logger.Error("cannot connect to the nested display", "err", err)
		os.Exit(1)
	}
	// Connected: from here on it needs no new file, socket or program.
	// A second filter on top of the sandbox's says so, so that a flaw in
	// this process, reached through the X protocol, finds nothing to open.
	if err := seccomp.Install(mustCompile(afterConnectRules())); err != nil {
		logger.Error("cannot restrict the window manager", "err", err)
		os.Exit(1)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() {
		<-sigs
		os.Exit(0)
	}()
	w, err := New(X, logger)
	if err == nil {
		err = w.Start()
	}
	if err != nil {
		logger.Error("cannot manage the nested display", "err", err)
		os.Exit(1)
	}
	if len(os.Args) > 2 {
		// The profile's colour on the nested desktop: which window is
		// whose, around the application's windows.
		w.SetBackground(os.Args[2])
	}
	if ready != nil {
		ready.Write([]byte("ready\n"))
		ready.Close()
	}
	logger.Info("managing the nested display", "screen_width", w.screen.W, "screen_height", w.screen.H,
		"start_ms", time.Since(start).Milliseconds())
	err = w.Run()
	logger.Info("window manager stopped", "err", err)
	os.Exit(0)
}

// afterConnectRules refuse what the window manager never does once it is
// connected: open files, make or reach sockets, run programs.
func afterConnectRules() []seccomp.Rule {
	deny := func(name string, nr uintptr) seccomp.Rule {
		return seccomp.Rule{Name: name, Nr: uint32(nr), Errno: unix.EPERM}
	}
	return []seccomp.Rule{
		deny("open", unix.SYS_OPEN), deny("openat", unix.SYS_OPENAT), deny("openat2", unix.SYS_OPENAT2),
		deny("creat", unix.SYS_CREAT),
		deny("socket", unix.SYS_SOCKET), deny("socketpair", unix.SYS_SOCKETPAIR),
		deny("connect", unix.SYS_CONNECT), deny("bind", unix.SYS_BIND), deny("listen", unix.SYS_LISTEN),
		deny("accept", unix.SYS_ACCEPT), deny("accept4", unix.SYS_ACCEPT4),
		deny("execve", unix.SYS_EXECVE), deny("execveat", unix.SYS_EXECVEAT),
	}
}

func mustCompile(rules []seccomp.Rule) []unix.SockFilter {
	p, err := seccomp.Compile(rules)
	if err != nil {
		panic(err) // a fixed list: a failure is a bug caught by the tests
	}
	return p
}

// limitedWriter passes xgb's log lines on, one a second at most.
type limitedWriter struct {
	log *slog.Logger
	// mu guards r (xgb logs from its reader goroutine).
	mu sync.Mutex
	r  *rateLog
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.r == nil {
		l.r = &rateLog{log: l.log, msg: "X protocol"}
	}
	const max = 200
	s := string(p[:min(len(p), max)])
	l.r.warn("detail", s)
	return len(p), nil
}

var _ io.Writer = (*limitedWriter)(nil)
