// Package gtk is Airlock's only cgo: the few GTK 3 calls the trusted chooser
// makes. No Go GTK bindings are available from the module proxy, and a
// binding this small can be read in one sitting.
//
// Every function here must be called on the main OS thread (the chooser's
// main package locks it in init) after Init. GTK is not thread-safe; work
// from other goroutines must be marshalled to that thread, never done there.
// Nothing here calls back into Go: the timeout is a C callback run by the
// GLib main loop (g_timeout_add_seconds), so there are no //export functions.
package gtk

// Action is what a FileChooserDialog selects.
type Action int

const (
	ActionOpen Action = iota
	ActionSave
	ActionSelectFolder
)

// Result is how a dialog ended.
type Result int

const (
	ResultAccept  Result = iota
	ResultCancel         // Cancel button, Escape, or closed by the window manager
	ResultTimeout        // the SetTimeout timer fired
)

// Rule is one rule of a file filter.
type Rule struct {
	MIME  bool // Value is a MIME type, else a glob
	Value string
}
