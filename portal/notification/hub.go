package notification

import (
	"context"
	"log/slog"
	"sync"

	"github.com/godbus/dbus/v5"
)

// The host's notification server (Desktop Notifications spec).
const (
	HostName  = "org.freedesktop.Notifications"
	HostPath  = dbus.ObjectPath("/org/freedesktop/Notifications")
	HostIface = "org.freedesktop.Notifications"
)

// Events are what the host reports about one notification.
type Events struct {
	Action func(key string) // the user activated the action key
	Closed func()           // the notification is gone
}

// Host is the host's notification server as the portals of every sandbox
// share it.
type Host interface {
	Notify(ctx context.Context, n Notify, ev Events) (uint32, error)
	Close(ctx context.Context, id uint32) error
	// Forget drops the events of id; the notification stays on the host.
	Forget(id uint32)
}

// Hub is the broker's one client of the host's notification server: it
// sends the sandboxes' filtered notifications and routes the server's
// ActionInvoked and NotificationClosed signals back to the sandbox whose
// notification they name. Signals for ids it did not send (the relayed
// Notify calls, other applications') are ignored.
type Hub struct {
	conn *dbus.Conn
	log  *slog.Logger

	// mu guards routes.
	mu     sync.Mutex
	routes map[uint32]Events
}

// maxRoutes bounds the notifications the hub remembers, all sandboxes
// together; the oldest are not evicted, new ones simply lose their actions.
const maxRoutes = 4096

// NewHub returns a hub on the host session bus. Call Watch before use so
// that the server's signals reach HandleSignal.
func NewHub(conn *dbus.Conn, log *slog.Logger) *Hub {
	return &Hub{conn: conn, log: log, routes: map[uint32]Events{}}
}

// Watch subscribes to the host server's signals.
func (h *Hub) Watch() error {
	return h.conn.AddMatchSignal(dbus.WithMatchInterface(HostIface), dbus.WithMatchObjectPath(HostPath))
}

// Notify sends n and remembers where its events go.
func (h *Hub) Notify(ctx context.Context, n Notify, ev Events) (uint32, error) {
	var id uint32
	if err := h.conn.Object(HostName, HostPath).CallWithContext(ctx, HostIface+".Notify", 0, n.Args()...).Store(&id); err != nil {
		return 0, err
	}
	h.mu.Lock()
	if len(h.routes) < maxRoutes || n.ReplacesID != 0 {
		delete(h.routes, n.ReplacesID)
		h.routes[id] = ev
	}
	h.mu.Unlock()
	return id, nil
}

// Close withdraws notification id.
func (h *Hub) Close(ctx context.Context, id uint32) error {
	h.mu.Lock()
	delete(h.routes, id)
	h.mu.Unlock()
	return h.conn.Object(HostName, HostPath).CallWithContext(ctx, HostIface+".CloseNotification", 0, id).Err
}

// Forget stops routing the events of id.
func (h *Hub) Forget(id uint32) {
	h.mu.Lock()
	delete(h.routes, id)
	h.mu.Unlock()
}

// HandleSignal routes one host signal; it reports whether the signal was
// the notification server's.
func (h *Hub) HandleSignal(sig *dbus.Signal) bool {
	if sig.Path != HostPath {
		return false
	}
	switch sig.Name {
	case HostIface + ".ActionInvoked", HostIface + ".NotificationClosed":
	default:
		return false
	}
	if len(sig.Body) != 2 {
		return true
	}
	id, ok := sig.Body[0].(uint32)
	if !ok {
		return true
	}
	h.mu.Lock()
	_, known := h.routes[id]
	h.mu.Unlock()
	if !known {
		return true
	}
	// Any client of the host bus can emit a signal with this interface:
	// only the server's own count. (Asked after the cheap check: the
	// server announces every notification of the session closing.)
	var owner string
	if err := h.conn.BusObject().Call("org.freedesktop.DBus.GetNameOwner", 0, HostName).Store(&owner); err != nil || owner != sig.Sender {
		return true
	}
	h.mu.Lock()
	ev, known := h.routes[id]
	if sig.Name == HostIface+".NotificationClosed" {
		delete(h.routes, id)
	}
	h.mu.Unlock()
	if !known {
		return true
	}
	if sig.Name == HostIface+".ActionInvoked" {
		if key, ok := sig.Body[1].(string); ok && ev.Action != nil {
			ev.Action(key)
		}
	} else if ev.Closed != nil {
		ev.Closed()
	}
	return true
}
