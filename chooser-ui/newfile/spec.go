// Package newfile is the dialog that asks whether to keep a file a sandboxed
// application saved beside a file the user granted to it (a "Save As" into
// the same folder). Until the user answers, the file is hidden on the host;
// the broker keeps it unasked when this dialog is closed or times out, so
// nothing is lost silently.
//
// Who is asking comes from the trusted sandbox name; the file's name is the
// application's, cleaned and capped, and always quoted.
package newfile

import (
	"airlock/chooser-ui/protocol"
	"airlock/po/i18n"
)

// Spec is everything the dialog shows, computed without GTK.
type Spec struct {
	Title, Primary, Secondary string
	Discard, Keep             string
}

// Describe computes the Spec of a validated ModeNewFile request; size is the
// file's size as the user reads it.
func Describe(r *protocol.Request, size string) Spec {
	n := r.NewFile
	app := protocol.Clean(r.SandboxName, protocol.MaxSandboxName)
	name := protocol.Clean(n.Name, protocol.MaxFileName)
	beside := protocol.Clean(n.Beside, protocol.MaxFileName)
	folder := protocol.Clean(n.Folder, protocol.MaxAppTitle)
	keep := i18n.T("Keep adds it to this folder, under another name if this one is taken. Discard deletes it.")
	if n.HostName != "" && n.HostName != n.Name {
		keep = i18n.T("Keep adds it to this folder as “%s” (not hidden), under another name if this one is taken. Discard deletes it.",
			protocol.Clean(n.HostName, protocol.MaxFileName))
	}
	return Spec{
		Title:     i18n.T("%s saved a new file", app),
		Primary:   i18n.T("%s saved “%s” beside “%s”. Keep it?", app, name, beside),
		Secondary: i18n.T("Size: %s. Folder: %s.", size, folder) + "\n\n" + keep,
		Discard:   i18n.T("_Discard"),
		Keep:      i18n.T("_Keep"),
	}
}
