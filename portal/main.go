// Command airlock-portal is Airlock's broker: one per user session, on the
// host session bus as org.airlock.Portal. It serves each sandbox's only bus
// and the org.freedesktop.portal.* interfaces on it.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/godbus/dbus/v5"

	"airlock/portal/broker"
	"airlock/portal/control"
	"airlock/portal/desktop"
	"airlock/portal/docstore"
	"airlock/portal/filechooser"
	"airlock/portal/grants"
)

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
	flag.Parse()
	level := slog.LevelInfo
	if *verbose || os.Getenv("AIRLOCK_LOG") == "debug" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if err := run(log, *replace); err != nil {
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
	b.Close()
	return nil
}
