package portal_test

import (
	"regexp"
	"strings"
	"testing"
)

// TestSettingsFromInside reads org.freedesktop.portal.Settings from inside a
// sandbox with the three kinds of clients applications use: gdbus (GDBus),
// dbus-send (libdbus) and a python3-gi Gio.DBusProxy.
func TestSettingsFromInside(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	py := script(t, "settings_client.py")
	const gd = `gdbus call --session -d org.freedesktop.portal.Desktop -o /org/freedesktop/portal/desktop -m`
	const ds = `dbus-send --session --print-reply=literal --dest=org.freedesktop.portal.Desktop /org/freedesktop/portal/desktop`
	r := s.sh(t, []string{"--ro", py}, `
echo "== addr"; echo "$DBUS_SESSION_BUS_ADDRESS"
echo "== gdbus-version"; `+gd+` org.freedesktop.DBus.Properties.Get org.freedesktop.portal.Settings version 2>&1
echo "== gdbus-readone"; `+gd+` org.freedesktop.portal.Settings.ReadOne org.freedesktop.appearance color-scheme 2>&1
echo "== gdbus-readall"; `+gd+` org.freedesktop.portal.Settings.ReadAll "['org.freedesktop.*']" 2>&1
echo "== gdbus-introspect"; gdbus introspect --session -d org.freedesktop.portal.Desktop -o /org/freedesktop/portal/desktop 2>&1
echo "== dbus-send-version"; `+ds+` org.freedesktop.DBus.Properties.Get string:org.freedesktop.portal.Settings string:version 2>&1
echo "== dbus-send-readone"; `+ds+` org.freedesktop.portal.Settings.ReadOne string:org.freedesktop.appearance string:color-scheme 2>&1
echo "== dbus-send-introspect"; `+ds+` org.freedesktop.DBus.Introspectable.Introspect 2>&1
echo "== python"; /usr/bin/python3 "$1" 2>&1
`, py)
	if r.Code != 0 {
		t.Fatalf("sandbox failed: %v", r)
	}
	sec := sections(r.Stdout)
	if got := strings.TrimSpace(sec["addr"]); got != "unix:path=/run/user/"+itoa(s.e.UID)+"/bus" {
		t.Errorf("DBUS_SESSION_BUS_ADDRESS inside = %q, want the sandbox's own bus at /run/user/UID/bus", got)
	}
	if got := strings.TrimSpace(sec["gdbus-version"]); got != "(<uint32 2>,)" {
		t.Errorf("gdbus: Settings version = %q, want (<uint32 2>,)", got)
	}
	scheme := regexp.MustCompile(`^\(<uint32 ([012])>,\)$`).FindStringSubmatch(strings.TrimSpace(sec["gdbus-readone"]))
	if scheme == nil {
		t.Fatalf("gdbus: ReadOne color-scheme = %q, want a uint32 0, 1 or 2", sec["gdbus-readone"])
	}
	all := sec["gdbus-readall"]
	for _, want := range []string{"'org.freedesktop.appearance':", "'color-scheme': <uint32 " + scheme[1] + ">", "'accent-color': <(", "'contrast': <uint32 "} {
		if !strings.Contains(all, want) {
			t.Errorf("gdbus: ReadAll(['org.freedesktop.*']) lacks %q:\n%s", want, all)
		}
	}
	intro := sec["gdbus-introspect"]
	for _, want := range []string{"interface org.freedesktop.portal.Settings {", "ReadAll(", "ReadOne(", "SettingChanged(", "readonly u version = 2;", "interface org.freedesktop.DBus.Properties {"} {
		if !strings.Contains(intro, want) {
			t.Errorf("gdbus introspect lacks %q:\n%s", want, intro)
		}
	}
	if got := strings.Fields(sec["dbus-send-version"]); len(got) != 3 || got[0] != "variant" || got[1] != "uint32" || got[2] != "2" {
		t.Errorf("dbus-send: Settings version = %q, want variant uint32 2", sec["dbus-send-version"])
	}
	if got := strings.Fields(sec["dbus-send-readone"]); len(got) != 3 || got[1] != "uint32" || got[2] != scheme[1] {
		t.Errorf("dbus-send: ReadOne color-scheme = %q, want variant uint32 %s (as gdbus read)", sec["dbus-send-readone"], scheme[1])
	}
	if !strings.Contains(sec["dbus-send-introspect"], `<interface name="org.freedesktop.portal.Settings">`) {
		t.Errorf("dbus-send: Introspect lacks the Settings interface:\n%s", sec["dbus-send-introspect"])
	}
	py3 := kv(sec["python"])
	want := map[string]string{
		"version":         "2",
		"color-scheme":    scheme[1],
		"namespaces":      "org.freedesktop.appearance",
		"appearance-keys": "accent-color,color-scheme,contrast",
		"missing-key":     "org.freedesktop.portal.Error.NotFound",
	}
	for k, v := range want {
		if py3[k] != v {
			t.Errorf("python3-gi: %s = %q, want %q\n%s", k, py3[k], v, sec["python"])
		}
	}
	if !strings.Contains(py3["interfaces"], "org.freedesktop.portal.Settings") {
		t.Errorf("python3-gi: Introspect interfaces = %q, want org.freedesktop.portal.Settings among them", py3["interfaces"])
	}
}
