// Command airlock-portal is Airlock's broker: one per user session, on the
// host session bus as org.airlock.Portal. It serves each sandbox's only bus
// and the org.freedesktop.portal.* interfaces on it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/godbus/dbus/v5"

	"airlock/portal/broker"
	"airlock/portal/control"
	"airlock/portal/desktop"
	"airlock/portal/docstore"
	"airlock/portal/filechooser"
	"airlock/portal/grants"
	"airlock/portal/logcap"
)

// The log's caps (logcap): what one sandbox may log per second, and the
// size of portal.log (plus one rotated file) on the runtime directory, a
// tmpfs on real desktops.
const (
	logLinesPerSecond = 20
	logLineBurst      = 100
	logFileMax        = 4 << 20
)

// logOutput picks where the log goes. The launcher starts the broker with
// stdout and stderr on $XDG_RUNTIME_DIR/airlock/portal.log (control.go): a
// regular file there is taken over by path and rotated. Anything else (a
// journal's pipe under systemd, a terminal) is left as it is: it has caps
// of its own.
func logOutput(path string) (w io.Writer, closeFn func(), err error) {
	explicit := path != ""
	if !explicit {
		var st syscall.Stat_t
		if syscall.Fstat(2, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG {
			return os.Stderr, func() {}, nil
		}
		p, err := os.Readlink("/proc/self/fd/2")
		if err != nil || !filepath.IsAbs(p) || strings.HasSuffix(p, " (deleted)") {
			return os.Stderr, func() {}, nil
		}
		path = p
	}
	r, err := logcap.OpenRotating(path, logFileMax, true)
	if err != nil {
		if !explicit {
			// A file we were handed but may not open by its path (one
			// made by root for a test): keep writing to it as we were given it.
			return os.Stderr, func() {}, nil
		}
		return nil, nil, err
	}
	return r, func() { r.Close() }, nil
}

// mountDocs mounts the document store at $XDG_RUNTIME_DIR/airlock/doc-PID:
// one per broker, so that a broker replaced with --replace keeps serving its
// sandboxes' views while the new one serves new sandboxes. Mounts left by a
// broker that died are unmounted first.
// chooserDialog is the session's one chooser pool: every dialog (file
// choosers, new-file questions) comes from it, one process each.
func chooserDialog(log *slog.Logger) filechooser.Dialog {
	bin, err := filechooser.ChooserBinary()
	if err != nil {
		log.Warn("file chooser unavailable", "err", err)
		return filechooser.Unavailable(err)
	}
	return filechooser.ProcessDialog(bin, log)
}

func mountDocs(log *slog.Logger) (*docstore.Store, error) {
	rt := os.Getenv("XDG_RUNTIME_DIR")
	if rt == "" {
		return nil, fmt.Errorf("XDG_RUNTIME_DIR is not set")
	}
	base := filepath.Join(rt, "airlock")
	if old, _ := filepath.Glob(filepath.Join(base, "doc-*")); len(old) > 0 {
		for _, d := range old {
			pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), "doc-"))
			if err != nil || syscall.Kill(pid, 0) == nil {
				continue
			}
			exec.Command("fusermount3", "-u", "-z", d).Run()
			if os.Remove(d) == nil {
				log.Info("removed the document store of a broker that died", "path", d)
			}
		}
	}
	return docstore.Mount(filepath.Join(base, fmt.Sprintf("doc-%d", os.Getpid())), log)
}

func main() {
	replace := flag.Bool("replace", false, "take over from a running airlock-portal")
	verbose := flag.Bool("verbose", false, "log every sandbox event")
	logFile := flag.String("log-file", "", "log to this file, rotated at 4 MiB (default: stderr, rotated when it is a file)")
	// The D-Bus service file passes --runtime-log: a broker that the session
	// bus starts would otherwise log into dbus-daemon's stderr, where
	// `airlock log` cannot find it.
	runtimeLog := flag.Bool("runtime-log", false, "log to $XDG_RUNTIME_DIR/airlock/portal.log, rotated at 4 MiB (where airlock log reads)")
	flag.Parse()
	if *runtimeLog && *logFile == "" {
		p, err := control.LogFile()
		if err == nil {
			err = os.MkdirAll(filepath.Dir(p), 0o700)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "airlock-portal: %v\n", err)
			os.Exit(1)
		}
		*logFile = p
	}
	level := slog.LevelInfo
	if *verbose || os.Getenv("AIRLOCK_LOG") == "debug" {
		level = slog.LevelDebug
	}
	out, closeLog, err := logOutput(*logFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "airlock-portal: %v\n", err)
		os.Exit(1)
	}
	defer closeLog()
	lim := logcap.NewLimiter(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level}),
		logcap.LimiterOptions{PerSecond: logLinesPerSecond, Burst: logLineBurst})
	ctx, cancel := context.WithCancel(context.Background())
	go lim.Run(ctx, 5*time.Second)
	log := slog.New(lim)
	err = run(log, *replace)
	cancel()
	if err != nil {
		log.Error("airlock-portal failed", "err", err)
		fmt.Fprintf(os.Stderr, "airlock-portal: %v\n", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger, replace bool) error {
	if os.Geteuid() == 0 {
		return fmt.Errorf("refusing to run as root: the broker runs as the session's user")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	host, err := dbus.ConnectSessionBus()
	if err != nil {
		return fmt.Errorf("cannot connect to the session bus: %w", err)
	}
	defer host.Close()
	settings := desktop.NewHostSettings(ctx, log)
	defer settings.Close()
	// The document store is mounted before the name is taken: a launcher
	// that finds the broker binds its sandbox's view at once.
	dialog := chooserDialog(log)
	// Files a sandbox saves beside a granted file are asked about in the
	// same chooser (newfiles.go).
	asker := newNewFileAsker(log, dialog)
	store, err := mountDocs(log)
	if err != nil {
		log.Warn("no document store: sandboxes get no files through the portal", "err", err)
	} else {
		defer store.Close()
		store.OnNewFile(asker.ask)
	}
	b := broker.New(log, host, settings, grants.New(log, store), dialog)
	if err := b.Export(); err != nil {
		return fmt.Errorf("cannot export the control interface: %w", err)
	}
	flags := dbus.NameFlagAllowReplacement | dbus.NameFlagDoNotQueue
	if replace {
		flags |= dbus.NameFlagReplaceExisting
	}
	reply, err := host.RequestName(control.BusName, flags)
	if err != nil {
		return fmt.Errorf("cannot request %s: %w", control.BusName, err)
	}
	if reply != dbus.RequestNameReplyPrimaryOwner {
		return fmt.Errorf("%s is already running (use --replace to take over)", control.BusName)
	}
	log.Info("airlock-portal ready", "name", control.BusName, "pid", os.Getpid())
	// Only the broker that owns the name grabs the clipboard keys.
	b.StartClipboardKeys()
	go b.Run(ctx)
	select {
	case <-ctx.Done():
		log.Info("stopping")
	case <-b.Replaced():
		log.Info("replaced, and the last sandbox of this broker ended: exiting")
	case <-host.Context().Done():
		// The session is over: no launcher can reach this broker again.
		log.Info("the session bus went away: exiting")
	}
	// Whatever stalls the teardown, the broker leaves: a broker that was
	// told to go, or was replaced, must not linger holding its name's
	// sandboxes' resources. A stall is logged with every goroutine's stack.
	time.AfterFunc(exitLimit, func() {
		buf := make([]byte, 1<<16)
		buf = buf[:runtime.Stack(buf, true)]
		log.Error("teardown stalled: exiting without it", "limit", exitLimit, "stacks", string(buf))
		os.Exit(1)
	})
	b.Close()
	return nil
}

// exitLimit bounds the broker's teardown once it decided to exit.
const exitLimit = 20 * time.Second
