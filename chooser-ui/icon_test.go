package main

import (
	"strings"
	"testing"

	"airlock/chooser-ui/protocol"
)

// TestHeaderIcon: Airlock's header shows the sandbox's profile icon when
// the theme has it, and the key only when it has neither the icon nor its
// symbolic variant.
func TestHeaderIcon(t *testing.T) {
	t.Parallel()
	display := startXvfb(t)
	for icon, want := range map[string]string{
		"accessories-text-editor": "accessories-text-editor", // Adwaita (legacy)
		"org.gnome.Evince":        "org.gnome.Evince",        // an application's icon, in hicolor
		"document-edit":           "document-edit-symbolic",  // Debian's Adwaita has only the symbolic one
		"no-such-icon-anywhere":   "dialog-password",
		"":                        "dialog-password",
	} {
		c := startChooser(t, display, protocol.Request{Mode: protocol.ModeOpen, SandboxName: sandbox, SandboxIcon: icon, CurrentFolder: t.TempDir()})
		c.waitDialog(sandbox)
		w := c.widgets("chooser")
		if !hasLine(w, "airlock-header image "+want) {
			t.Errorf("sandbox icon %q: the header does not show %q; widgets:\n%s", icon, want, strings.Join(w, "\n"))
		}
		c.key("Escape")
		c.response()
	}
}
