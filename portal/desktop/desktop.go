// Package desktop serves org.freedesktop.portal.Desktop on a sandbox bus:
// the Settings portal, the Request machinery that asynchronous portals
// (FileChooser, Print) build on, and a way for those portals to plug in.
package desktop

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/godbus/dbus/v5"

	"airlock/portal/busserver"
)

// Names and paths of the portal API (xdg-desktop-portal compatible).
const (
	BusName    = "org.freedesktop.portal.Desktop"
	ObjectPath = dbus.ObjectPath("/org/freedesktop/portal/desktop")
)

// Portal error names (xdg-desktop-portal's org.freedesktop.portal.Error).
const (
	ErrFailed          = "org.freedesktop.portal.Error.Failed"
	ErrInvalidArgument = "org.freedesktop.portal.Error.InvalidArgument"
	ErrNotFound        = "org.freedesktop.portal.Error.NotFound"
	ErrNotAllowed      = "org.freedesktop.portal.Error.NotAllowed"
)

// Options configures Install.
type Options struct {
	Settings SettingsSource // nil: DefaultSettings()
	Logger   *slog.Logger
}

// Desktop is the portal object on one sandbox bus.
type Desktop struct {
	s   *busserver.Server
	log *slog.Logger

	// mu guards the fields below.
	mu       sync.Mutex
	requests map[dbus.ObjectPath]*Request
}

// Install serves org.freedesktop.portal.Desktop on s. Objects are exported
// before the name is added, so no client can see the name without them.
func Install(s *busserver.Server, opts Options) *Desktop {
	lg := opts.Logger
	if lg == nil {
		lg = slog.Default()
	}
	d := &Desktop{s: s, log: lg, requests: map[dbus.ObjectPath]*Request{}}
	src := opts.Settings
	if src == nil {
		src = DefaultSettings()
	}
	d.installSettings(src)
	s.OnDisconnect(d.dropRequestsOf)
	s.AddServedName(BusName)
	return d
}

// AddInterface exports a portal interface on the desktop object, with the
// read-only "version" property every portal interface carries (clients
// such as GTK read it to decide whether to use the portal at all).
func (d *Desktop) AddInterface(iface string, version uint32, methods map[string]busserver.Handler, introspect string) {
	d.s.Export(ObjectPath, iface, methods, map[string]func() dbus.Variant{
		"version": func() dbus.Variant { return dbus.MakeVariant(version) },
	}, introspect)
}

func portalErr(name, format string, args ...any) *dbus.Error {
	return &dbus.Error{Name: name, Body: []any{fmt.Sprintf(format, args...)}}
}
