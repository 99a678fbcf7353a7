// Package evinced serves org.gnome.evince.Daemon on a sandbox bus: the
// registry of open documents that evince asks at every load so that a
// second "evince FILE" raises the window already showing FILE rather than
// opening another. The real daemon is a host service (and would tell one
// sandbox what another has open), so each sandbox gets its own registry,
// served by the broker: within one sandbox a second launch reaches the
// running instance; across sandboxes nothing is shared.
package evinced

import (
	"log/slog"
	"sync"
	"unicode/utf8"

	"github.com/godbus/dbus/v5"

	"airlock/portal/busserver"
)

// Names of the service (evince's shell/ev-daemon.c).
const (
	BusName    = "org.gnome.evince.Daemon"
	ObjectPath = dbus.ObjectPath("/org/gnome/evince/Daemon")
	Interface  = "org.gnome.evince.Daemon"
)

// Caps: what a hostile sandbox can make the broker hold.
const (
	maxDocs   = 256
	maxURILen = 4096
)

// XML is the interface's introspection data.
const XML = `  <interface name="org.gnome.evince.Daemon">
    <method name="RegisterDocument">
      <arg type="s" name="uri" direction="in"/>
      <arg type="s" name="owner" direction="out"/>
    </method>
    <method name="UnregisterDocument">
      <arg type="s" name="uri" direction="in"/>
    </method>
    <method name="FindDocument">
      <arg type="s" name="uri" direction="in"/>
      <arg type="b" name="spawn" direction="in"/>
      <arg type="s" name="owner" direction="out"/>
    </method>
  </interface>`

// Daemon is one sandbox's registry.
type Daemon struct {
	log *slog.Logger

	// mu guards docs.
	mu   sync.Mutex
	docs map[string]string // uri: the unique name of the connection showing it
}

// Install serves the daemon on s; objects first, then the name.
func Install(s *busserver.Server, log *slog.Logger) *Daemon {
	d := &Daemon{log: log, docs: map[string]string{}}
	s.Export(ObjectPath, Interface, map[string]busserver.Handler{
		"RegisterDocument":   d.register,
		"UnregisterDocument": d.unregister,
		"FindDocument":       d.find,
	}, nil, XML)
	s.OnDisconnect(d.dropOwner)
	s.AddServedName(BusName)
	return d
}

func invalidArgs(msg string) error {
	return &dbus.Error{Name: "org.freedesktop.DBus.Error.InvalidArgs", Body: []any{msg}}
}

func uriArg(c *busserver.Call, n int) (string, error) {
	if len(c.Body) != n {
		return "", invalidArgs("wrong arguments")
	}
	uri, ok := c.Body[0].(string)
	if !ok || uri == "" || len(uri) > maxURILen || !utf8.ValidString(uri) {
		return "", invalidArgs("bad document URI")
	}
	return uri, nil
}

// register records the caller as the document's owner, or answers the
// owner already recorded (evince then hands the document over to it).
func (d *Daemon) register(c *busserver.Call) ([]any, error) {
	uri, err := uriArg(c, 1)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if owner, ok := d.docs[uri]; ok {
		return []any{owner}, nil
	}
	if len(d.docs) >= maxDocs {
		return nil, &dbus.Error{Name: "org.freedesktop.DBus.Error.LimitsExceeded", Body: []any{"too many open documents"}}
	}
	d.docs[uri] = c.Sender
	return []any{""}, nil
}

func (d *Daemon) unregister(c *busserver.Call) ([]any, error) {
	uri, err := uriArg(c, 1)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	owner, ok := d.docs[uri]
	switch {
	case !ok:
		return nil, invalidArgs("URI not registered")
	case owner != c.Sender:
		return nil, &dbus.Error{Name: "org.freedesktop.DBus.Error.BadAddress", Body: []any{"only the owner can unregister a document"}}
	}
	delete(d.docs, uri)
	return nil, nil
}

// find answers the owner, or "": nothing is spawned (spawn is ignored; the
// broker starts no program inside a sandbox).
func (d *Daemon) find(c *busserver.Call) ([]any, error) {
	uri, err := uriArg(c, 2)
	if err != nil {
		return nil, err
	}
	if _, ok := c.Body[1].(bool); !ok {
		return nil, invalidArgs("FindDocument takes (sb)")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return []any{d.docs[uri]}, nil
}

func (d *Daemon) dropOwner(unique string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for uri, owner := range d.docs {
		if owner == unique {
			delete(d.docs, uri)
		}
	}
}
