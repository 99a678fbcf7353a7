// Package openuri is the dialog that asks whether to open, in a host
// application, a link or a granted file that a sandboxed application
// passed to the OpenURI portal. Who asks is the trusted sandbox name; the
// link is the application's, shown whole and exactly (CheckURI admits
// printable ASCII only, so there is nothing to hide or reorder), its
// scheme and host named apart from it. "Don't open" is the default.
package openuri

import (
	"strings"

	"airlock/chooser-ui/protocol"
	"airlock/po/i18n"
)

// lineWidth is how many characters of a link one line shows: a link has
// no spaces to wrap at.
const lineWidth = 64

// Spec is everything the dialog shows, computed without GTK.
type Spec struct {
	Title, Primary, Secondary string
	DontOpen, Open            string
}

// Describe computes the Spec of a validated ModeOpenURI request.
func Describe(r *protocol.Request) Spec {
	o := r.OpenURI
	app := protocol.Clean(r.SandboxName, protocol.MaxSandboxName)
	s := Spec{
		Title:    i18n.T("%s wants to open something on this computer", app),
		DontOpen: i18n.T("_Don’t Open"),
		Open:     i18n.T("_Open"),
	}
	switch {
	case o.URI != "":
		scheme, _ := protocol.CheckURI(o.URI)
		if scheme == "mailto" {
			s.Primary = i18n.T("%s wants to write an e-mail (%s link) with a host application. Open it?", app, scheme)
		} else {
			s.Primary = i18n.T("%s wants to open a web link (%s) in a host application. Open it?", app, scheme)
		}
		var b strings.Builder
		if h := protocol.URIHost(o.URI); h != "" {
			b.WriteString(i18n.T("Site: %s", h))
			b.WriteString("\n\n")
		}
		b.WriteString(i18n.T("The whole link:"))
		b.WriteString("\n")
		b.WriteString(Lines(o.URI, lineWidth))
		b.WriteString("\n\n")
		b.WriteString(i18n.T("The host application runs outside the sandbox, with your files."))
		s.Secondary = b.String()
	case o.Directory:
		s.Primary = i18n.T("%s wants to show the folder “%s” in a host application. Open it?", app, protocol.Clean(o.Path, protocol.MaxAppTitle))
		s.Secondary = i18n.T("The host application runs outside the sandbox, with your files.")
	default:
		name := o.Path[strings.LastIndexByte(o.Path, '/')+1:]
		s.Primary = i18n.T("%s wants to open “%s”, a file you gave it, in a host application. Open it?", app, protocol.Clean(name, protocol.MaxFileName))
		s.Secondary = i18n.T("Folder: %s.", protocol.Clean(o.Path[:strings.LastIndexByte(o.Path, '/')+1], protocol.MaxAppTitle)) + "\n\n" +
			i18n.T("The host application runs outside the sandbox, with your files. A document can attack the application that opens it.")
	}
	return s
}

// Lines breaks s (printable ASCII) into lines of width characters.
func Lines(s string, width int) string {
	var b strings.Builder
	for len(s) > width {
		b.WriteString(s[:width])
		b.WriteByte('\n')
		s = s[width:]
	}
	b.WriteString(s)
	return b.String()
}
