// Package print is Airlock's print dialog: GTK's own print dialog
// (GtkPrintUnixDialog, CUPS' printers only) under Airlock's header, which
// names the sandbox that wants to print. It answers the printer, the
// settings and the page setup chosen; the broker prints.
package print

import (
	"airlock/chooser-ui/protocol"
	"airlock/po/i18n"
)

// MaxJobTitle caps the application's title for the job, in runes.
const MaxJobTitle = 80

// Spec is what the dialog shows, computed without GTK.
type Spec struct {
	Title, Header, Note string
}

// Describe computes the Spec of a validated ModePrint request. Who asks
// is the trusted sandbox name; the document's title is the application's,
// shown as its words only.
func Describe(r *protocol.Request) Spec {
	app := protocol.Clean(r.SandboxName, protocol.MaxSandboxName)
	s := Spec{
		Title:  i18n.T("%s wants to print", app),
		Header: i18n.T("%s wants to print", app),
	}
	if t := protocol.Clean(r.Print.Title, MaxJobTitle); t != "" {
		s.Note = i18n.T("Document, as the application names it: %s", t)
	}
	return s
}
