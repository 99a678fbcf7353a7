package sandbox

import "testing"

// TestGSettingsBackend: the sandbox's GSettings never reaches a host
// service (dconf): its own keyfile, or memory when the host asks for it.
func TestGSettingsBackend(t *testing.T) {
	for host, want := range map[string]string{
		"":         "GSETTINGS_BACKEND=keyfile",
		"dconf":    "GSETTINGS_BACKEND=keyfile",
		"keyfile":  "GSETTINGS_BACKEND=keyfile",
		"memory":   "GSETTINGS_BACKEND=memory",
		"gconf":    "GSETTINGS_BACKEND=keyfile",
		"memory\n": "GSETTINGS_BACKEND=keyfile",
	} {
		if got := gsettingsBackend(host); got != want {
			t.Errorf("host %q: %q, want %q", host, got, want)
		}
	}
	t.Setenv("GSETTINGS_BACKEND", "dconf")
	n := 0
	for _, kv := range baseEnv(Account{Name: "u", Home: "/home/u"}, "/run/user/1000") {
		if len(kv) > 18 && kv[:18] == "GSETTINGS_BACKEND=" {
			n++
			if kv != "GSETTINGS_BACKEND=keyfile" {
				t.Errorf("the application gets %q", kv)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d GSETTINGS_BACKEND entries, want 1", n)
	}
}
