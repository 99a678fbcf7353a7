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
	"os/signal"
	"syscall"

	"github.com/godbus/dbus/v5"

	"airlock/portal/broker"
	"airlock/portal/control"
	"airlock/portal/desktop"
)

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
	b := broker.New(log, host, settings, hooks(log))
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
