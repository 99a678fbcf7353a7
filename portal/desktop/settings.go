package desktop

import (
	"context"
	"log/slog"
	"maps"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"

	"airlock/portal/busserver"
)

const settingsIface = "org.freedesktop.portal.Settings"

// SettingsVersion is the version of org.freedesktop.portal.Settings served.
const SettingsVersion = 2

// Appearance namespace and keys (org.freedesktop.portal.Settings docs).
const (
	AppearanceNS   = "org.freedesktop.appearance"
	KeyColorScheme = "color-scheme" // u: 0 no preference, 1 prefer dark, 2 prefer light
	KeyAccentColor = "accent-color" // (ddd): sRGB in [0,1]; out of range means unset
	KeyContrast    = "contrast"     // u: 0 no preference, 1 higher contrast
)

const settingsXML = `  <interface name="org.freedesktop.portal.Settings">
    <method name="ReadAll">
      <arg type="as" name="namespaces" direction="in"/>
      <arg type="a{sa{sv}}" name="value" direction="out"/>
    </method>
    <method name="Read">
      <annotation name="org.freedesktop.DBus.Deprecated" value="true"/>
      <arg type="s" name="namespace" direction="in"/>
      <arg type="s" name="key" direction="in"/>
      <arg type="v" name="value" direction="out"/>
    </method>
    <method name="ReadOne">
      <arg type="s" name="namespace" direction="in"/>
      <arg type="s" name="key" direction="in"/>
      <arg type="v" name="value" direction="out"/>
    </method>
    <signal name="SettingChanged">
      <arg type="s" name="namespace"/>
      <arg type="s" name="key"/>
      <arg type="v" name="value"/>
    </signal>
    <property name="version" type="u" access="read"/>
  </interface>`

// SettingsSource provides the settings the portal serves.
type SettingsSource interface {
	// Settings returns namespace -> key -> value. The caller must not
	// modify the maps.
	Settings() map[string]map[string]dbus.Variant
	// Watch registers f to be called on every change.
	Watch(f func(namespace, key string, value dbus.Variant))
}

// AccentColor is the (ddd) accent-color value.
type AccentColor struct{ R, G, B float64 }

// UnsetAccent is an out-of-range color: the portal spec says such a value
// means that no accent color is set.
var UnsetAccent = AccentColor{-1, -1, -1}

// StaticSettings is an in-memory SettingsSource.
type StaticSettings struct {
	// mu guards the fields below.
	mu       sync.Mutex
	values   map[string]map[string]dbus.Variant
	watchers []func(string, string, dbus.Variant)
}

// NewStaticSettings returns a source holding a copy of values.
func NewStaticSettings(values map[string]map[string]dbus.Variant) *StaticSettings {
	s := &StaticSettings{values: map[string]map[string]dbus.Variant{}}
	for ns, kv := range values {
		s.values[ns] = maps.Clone(kv)
	}
	return s
}

// DefaultSettings returns the appearance defaults: no color-scheme
// preference, no accent color, no contrast preference.
func DefaultSettings() *StaticSettings {
	return NewStaticSettings(map[string]map[string]dbus.Variant{AppearanceNS: {
		KeyColorScheme: dbus.MakeVariant(uint32(0)),
		KeyAccentColor: dbus.MakeVariant(UnsetAccent),
		KeyContrast:    dbus.MakeVariant(uint32(0)),
	}})
}

// Settings implements SettingsSource.
func (s *StaticSettings) Settings() map[string]map[string]dbus.Variant {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.values
}

// Watch implements SettingsSource.
func (s *StaticSettings) Watch(f func(string, string, dbus.Variant)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watchers = append(s.watchers, f)
}

// Set changes a value and notifies watchers if it differs.
func (s *StaticSettings) Set(ns, key string, v dbus.Variant) {
	s.mu.Lock()
	old, had := s.values[ns][key]
	if had && old.Signature() == v.Signature() && old.String() == v.String() {
		s.mu.Unlock()
		return
	}
	// Copy on write: Settings() hands out the maps without a lock.
	nv := make(map[string]map[string]dbus.Variant, len(s.values)+1)
	maps.Copy(nv, s.values)
	kv := maps.Clone(nv[ns])
	if kv == nil {
		kv = map[string]dbus.Variant{}
	}
	kv[key] = v
	nv[ns] = kv
	s.values = nv
	ws := append([]func(string, string, dbus.Variant){}, s.watchers...)
	s.mu.Unlock()
	for _, f := range ws {
		f(ns, key, v)
	}
}

// namespaceMatches implements ReadAll's namespace patterns as
// xdg-desktop-portal does: "" matches everything, a trailing "*" matches a
// prefix, anything else must be equal.
func namespaceMatches(ns string, patterns []string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if p == "" {
			return true
		}
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(ns, prefix) {
				return true
			}
			continue
		}
		if p == ns {
			return true
		}
	}
	return false
}

func (d *Desktop) installSettings(src SettingsSource) {
	lookup := func(c *busserver.Call) (dbus.Variant, error) {
		if len(c.Body) != 2 {
			return dbus.Variant{}, portalErr(ErrInvalidArgument, "namespace and key expected")
		}
		ns, ok1 := c.Body[0].(string)
		key, ok2 := c.Body[1].(string)
		if !ok1 || !ok2 {
			return dbus.Variant{}, portalErr(ErrInvalidArgument, "namespace and key must be strings")
		}
		v, ok := src.Settings()[ns][key]
		if !ok {
			return dbus.Variant{}, portalErr(ErrNotFound, "Requested setting not found")
		}
		return v, nil
	}
	d.AddInterface(settingsIface, SettingsVersion, map[string]busserver.Handler{
		"ReadAll": func(c *busserver.Call) ([]any, error) {
			if len(c.Body) != 1 {
				return nil, portalErr(ErrInvalidArgument, "namespaces expected")
			}
			patterns, ok := c.Body[0].([]string)
			if !ok {
				return nil, portalErr(ErrInvalidArgument, "namespaces must be an array of strings")
			}
			out := map[string]map[string]dbus.Variant{}
			for ns, kv := range src.Settings() {
				if namespaceMatches(ns, patterns) {
					out[ns] = kv
				}
			}
			return []any{out}, nil
		},
		"Read": func(c *busserver.Call) ([]any, error) {
			v, err := lookup(c)
			if err != nil {
				return nil, err
			}
			// The deprecated Read wraps the value in a second variant;
			// xdg-desktop-portal does, and clients written against it
			// unwrap twice.
			return []any{dbus.MakeVariant(v)}, nil
		},
		"ReadOne": func(c *busserver.Call) ([]any, error) {
			v, err := lookup(c)
			if err != nil {
				return nil, err
			}
			return []any{v}, nil
		},
	}, settingsXML)
	src.Watch(func(ns, key string, v dbus.Variant) {
		d.s.Emit(ObjectPath, settingsIface, "SettingChanged", ns, key, v)
	})
}

// HostSettings reads the appearance settings of the host desktop: from the
// host's own settings portal on the session bus if one answers, otherwise
// from GSettings, otherwise defaults. Only the appearance namespace is
// passed on: the rest of the host's settings are not the sandbox's
// business.
type HostSettings struct {
	*StaticSettings
	conn   *dbus.Conn
	cancel context.CancelFunc
}

// NewHostSettings probes the host. It never fails: the worst case is the
// defaults.
func NewHostSettings(ctx context.Context, log *slog.Logger) *HostSettings {
	if log == nil {
		log = slog.Default()
	}
	h := &HostSettings{StaticSettings: DefaultSettings()}
	if h.fromPortal(ctx, log) {
		return h
	}
	if v, ok := gsettingsColorScheme(ctx); ok {
		h.Set(AppearanceNS, KeyColorScheme, dbus.MakeVariant(v))
		log.Debug("appearance settings from gsettings", "color_scheme", v)
		return h
	}
	log.Debug("appearance settings: using defaults")
	return h
}

// Close drops the host bus connection, if any.
func (h *HostSettings) Close() error {
	if h.cancel != nil {
		h.cancel()
	}
	if h.conn != nil {
		return h.conn.Close()
	}
	return nil
}

func (h *HostSettings) fromPortal(ctx context.Context, log *slog.Logger) bool {
	// godbus closes a connection when its context ends: the connection
	// lives until Close, only the probing call is bounded.
	connCtx, connCancel := context.WithCancel(context.WithoutCancel(ctx))
	conn, err := dbus.ConnectSessionBus(dbus.WithContext(connCtx))
	if err != nil {
		connCancel()
		log.Debug("no host session bus for settings", "err", err)
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	obj := conn.Object(BusName, ObjectPath)
	var all map[string]map[string]dbus.Variant
	// NoAutoStart: reading a setting must not start xdg-desktop-portal and
	// its GTK backend (tens of MB) on a session that does not run them.
	if err := obj.CallWithContext(ctx, settingsIface+".ReadAll", dbus.FlagNoAutoStart, []string{AppearanceNS}).Store(&all); err != nil {
		log.Debug("host settings portal unavailable", "err", err)
		conn.Close()
		connCancel()
		return false
	}
	for key, v := range all[AppearanceNS] {
		if nv, ok := normalizeAppearance(key, v); ok {
			h.Set(AppearanceNS, key, nv)
		}
	}
	if err := conn.AddMatchSignal(dbus.WithMatchSender(BusName), dbus.WithMatchInterface(settingsIface), dbus.WithMatchMember("SettingChanged")); err != nil {
		log.Warn("cannot watch host settings", "err", err)
	}
	ch := make(chan *dbus.Signal, 16)
	conn.Signal(ch)
	go func() {
		for sig := range ch {
			if sig.Name != settingsIface+".SettingChanged" || len(sig.Body) != 3 {
				continue
			}
			ns, _ := sig.Body[0].(string)
			key, _ := sig.Body[1].(string)
			v, ok := sig.Body[2].(dbus.Variant)
			if !ok || ns != AppearanceNS {
				continue
			}
			if nv, ok := normalizeAppearance(key, v); ok {
				h.Set(ns, key, nv)
			}
		}
	}()
	h.conn = conn
	h.cancel = connCancel
	return true
}

// normalizeAppearance checks a host value's type and rebuilds it from Go
// types that encode back to the same signature (godbus decodes a struct to
// []any, which would re-encode as "av" under a "(ddd)" variant). Values of
// unexpected types are dropped rather than passed to the sandbox.
func normalizeAppearance(key string, v dbus.Variant) (dbus.Variant, bool) {
	switch key {
	case KeyColorScheme, KeyContrast:
		if u, ok := v.Value().(uint32); ok {
			return dbus.MakeVariant(u), true
		}
	case KeyAccentColor:
		if f, ok := v.Value().([]any); ok && len(f) == 3 {
			r, ok1 := f[0].(float64)
			g, ok2 := f[1].(float64)
			b, ok3 := f[2].(float64)
			if ok1 && ok2 && ok3 {
				return dbus.MakeVariant(AccentColor{r, g, b}), true
			}
		}
	}
	return dbus.Variant{}, false
}

// gsettingsColorScheme maps org.gnome.desktop.interface color-scheme.
func gsettingsColorScheme(ctx context.Context) (uint32, bool) {
	path, err := exec.LookPath("gsettings")
	if err != nil {
		return 0, false
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "get", "org.gnome.desktop.interface", "color-scheme").Output()
	if err != nil {
		return 0, false
	}
	switch strings.Trim(strings.TrimSpace(string(out)), "'") {
	case "prefer-dark":
		return 1, true
	case "prefer-light":
		return 2, true
	case "default":
		return 0, true
	}
	return 0, false
}
