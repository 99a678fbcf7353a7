package trash

import (
	"log/slog"
	"time"

	"github.com/godbus/dbus/v5"

	"airlock/portal/busserver"
	"airlock/portal/desktop"
	"airlock/portal/grant"
)

// Interface and Version of the portal served (xdg-desktop-portal's
// org.freedesktop.portal.Trash, version 1).
const (
	Interface = "org.freedesktop.portal.Trash"
	Version   = 1
)

// PortalXML is the interface's introspection data.
const PortalXML = `  <interface name="org.freedesktop.portal.Trash">
    <method name="TrashFile">
      <arg type="h" name="fd" direction="in"/>
      <arg type="u" name="result" direction="out"/>
    </method>
    <property name="version" type="u" access="read"/>
  </interface>`

// Grants is what the portal needs of the grants registry.
type Grants interface {
	ByFD(sandbox string, fd int) (grant.Grant, bool)
	Trash(sandbox, docID string, move func(dirfd int, name string) error) error
}

// Install serves the portal on d's bus for sandbox id (name for the log).
func Install(d *desktop.Desktop, id, name string, reg Grants, log *slog.Logger) {
	p := &portal{id: id, reg: reg, log: log.With("sandbox", name, "sandbox_id", id)}
	d.AddInterface(Interface, Version, map[string]busserver.Handler{"TrashFile": p.trashFile}, PortalXML)
}

type portal struct {
	id  string
	reg Grants
	log *slog.Logger
}

// trashFile answers 1 when the file went to the trash, 0 otherwise (the
// portal's contract: the reason is the broker's log, not the sandbox's
// business).
func (p *portal) trashFile(c *busserver.Call) ([]any, error) {
	if len(c.Body) != 1 {
		return nil, &dbus.Error{Name: desktop.ErrInvalidArgument, Body: []any{"TrashFile takes (h)"}}
	}
	h, ok := c.Body[0].(dbus.UnixFD)
	if !ok {
		return nil, &dbus.Error{Name: desktop.ErrInvalidArgument, Body: []any{"TrashFile takes (h)"}}
	}
	f, err := c.TakeFD(h, "trash")
	if err != nil {
		return nil, &dbus.Error{Name: desktop.ErrInvalidArgument, Body: []any{err.Error()}}
	}
	defer f.Close()
	g, ok := p.reg.ByFD(p.id, int(f.Fd()))
	if !ok {
		p.log.Info("trash refused: the file is not one this sandbox was granted")
		return []any{uint32(0)}, nil
	}
	// Only a writable grant: trashing is a change, and a read-only grant
	// allows none (the document store refuses even unlink, EROFS).
	if !g.Writable {
		p.log.Info("trash refused: granted read-only", "path", g.HostPath)
		return []any{uint32(0)}, nil
	}
	home, err := HomeDir()
	if err != nil {
		p.log.Warn("trash failed", "path", g.HostPath, "err", err)
		return []any{uint32(0)}, nil
	}
	var moved string
	err = p.reg.Trash(p.id, g.DocID, func(dirfd int, name string) error {
		dir, err := DirFor(home, dirfd)
		if err != nil {
			return err
		}
		moved, err = MoveAt(dir, dirfd, name, g.HostPath, time.Now())
		return err
	})
	if err != nil {
		p.log.Warn("trash failed", "path", g.HostPath, "err", err)
		return []any{uint32(0)}, nil
	}
	p.log.Info("granted file moved to the trash; its grant ended", "path", g.HostPath, "trashed", moved, "doc", g.DocID)
	return []any{uint32(1)}, nil
}
