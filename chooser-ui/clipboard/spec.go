// Package clipboard is the dialog that asks whether clipboard content may
// cross between two domains (profile policy "ask"): it names both, the
// kind and the size, never the content. "Don't Allow" is the default.
package clipboard

import (
	"fmt"

	"airlock/chooser-ui/protocol"
	"airlock/po/i18n"
)

// Spec is everything the dialog shows, computed without GTK.
type Spec struct {
	Title, Primary, Secondary string
	Refuse, Allow             string
}

// Describe computes the Spec of a validated ModeClipboard request.
func Describe(r *protocol.Request) Spec {
	c := r.Clipboard
	src := protocol.Clean(c.Source, protocol.MaxSandboxName)
	dst := protocol.Clean(c.Destination, protocol.MaxSandboxName)
	what := i18n.T("%s of text", Size(c.Size))
	if c.Kind == "image" {
		what = i18n.T("an image of %s", Size(c.Size))
	}
	return Spec{
		Title:     i18n.T("Clipboard: %s to %s", src, dst),
		Primary:   i18n.T("Let %s go from %s to %s?", what, src, dst),
		Secondary: i18n.T("Whatever the source put in its clipboard crosses, including what you did not see. Images cross re-encoded as PNG, without metadata."),
		Refuse:    i18n.T("_Don’t Allow"),
		Allow:     i18n.T("_Allow"),
	}
}

// Size is a byte count for people.
func Size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}

// NoticeTitle is the title of Airlock's clipboard notices.
func NoticeTitle() string { return i18n.T("Airlock clipboard") }
