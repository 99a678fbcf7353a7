package filechooser

import (
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"strings"

	"airlock/chooser-ui/gtk"
	"airlock/chooser-ui/protocol"
	"airlock/po/i18n"
)

// Init opens the display. It must run on the main OS thread, before Run.
func Init() error {
	return gtk.Init(WindowRole)
}

// Warm prepares GTK for a dialog to come (a chooser started ahead of need).
func Warm() { gtk.Warm() }

// WaitRequest keeps GTK's main loop running until fd (the request's pipe)
// has data.
func WaitRequest(fd int) { gtk.WaitReadable(fd) }

// Run shows the dialog for a validated request and returns the user's
// answer. It must run on the main OS thread after Init.
func Run(r *protocol.Request) protocol.Response {
	s := Describe(r)
	icon := pickIcon(r.SandboxIcon)

	d := gtk.NewFileChooserDialog(s.Title, s.Action, s.Cancel, s.Accept)
	defer d.Destroy()
	d.SetWindow(icon, WindowRole)
	d.SetAccessible(s.Title, s.Secondary)
	d.AddHeader(icon, s.Title, s.Secondary, s.SecondaryName)
	d.SetLocalOnly(true)
	d.SetSelectMultiple(r.Mode == protocol.ModeOpen && r.Multiple)
	if r.Mode == protocol.ModeSave {
		d.SetDoOverwriteConfirmation(true)
	}
	if r.CurrentFolder != "" && !d.SetCurrentFolder(r.CurrentFolder) {
		log.Printf("cannot show folder %q", r.CurrentFolder)
	}
	if r.Mode == protocol.ModeSave && r.CurrentName != "" {
		d.SetCurrentName(r.CurrentName)
	}
	if r.CurrentFile != "" && !d.SetFilename(r.CurrentFile) {
		log.Printf("cannot select file %q", r.CurrentFile)
	}
	for i, f := range s.Filters {
		rules := make([]gtk.Rule, len(f.Patterns))
		for j, p := range f.Patterns {
			rules[j] = gtk.Rule{MIME: p.Kind == protocol.PatternMIME, Value: p.Value}
		}
		d.AddFilter(i, f.Name, rules)
	}
	if s.CurrentFilter >= 0 {
		d.SelectFilter(s.CurrentFilter)
	}
	for _, c := range s.Choices {
		d.AddChoice(c.ID, c.Label, c.Options, c.Default)
	}
	d.SetTimeout(r.TimeoutSeconds)

	for {
		switch d.Run() {
		case gtk.ResultTimeout:
			return protocol.Response{Response: protocol.ResponseOther, Error: "timed out"}
		case gtk.ResultCancel:
			return protocol.Response{Response: protocol.ResponseCancelled}
		}
		paths := d.Filenames()
		if len(paths) == 0 {
			return protocol.Response{Response: protocol.ResponseOther, Error: "no local file was chosen"}
		}
		if r.Mode == protocol.ModeSaveFiles && !confirmReplace(d, paths[0], r.Files) {
			if d.TimedOut() {
				return protocol.Response{Response: protocol.ResponseOther, Error: "timed out"}
			}
			continue // back to the chooser, as GTK's own overwrite confirmation does
		}
		d.Hide()
		resp := protocol.Response{
			Response:      protocol.ResponseSuccess,
			Paths:         paths,
			CurrentFilter: filterFor(r, d.FilterIndex()),
			Choices:       [][2]string{},
		}
		for _, c := range r.Choices {
			resp.Choices = append(resp.Choices, [2]string{c.ID, d.Choice(c.ID)})
		}
		if r.Mode == protocol.ModeOpen && r.ShowReadOnly {
			resp.ReadOnly = d.Choice(protocol.ReadOnlyChoiceID) == "true"
		}
		return resp
	}
}

// confirmReplace asks before save-files overwrites files already in folder;
// GTK's own confirmation only covers single-file saves.
func confirmReplace(d *gtk.FileChooserDialog, folder string, files []string) bool {
	var existing []string
	for _, f := range files {
		if _, err := os.Lstat(filepath.Join(folder, f)); err == nil || !errors.Is(err, fs.ErrNotExist) {
			existing = append(existing, protocol.Clean(f, protocol.MaxAppTitle))
		}
	}
	if len(existing) == 0 {
		return true
	}
	const shown = 5
	list := existing
	if len(list) > shown {
		list = append(list[:shown:shown], i18n.T("and %d more", len(existing)-shown))
	}
	primary := i18n.T("Replace %d files in “%s”?", len(existing), protocol.Clean(folder, protocol.MaxAppTitle))
	if len(existing) == 1 {
		primary = i18n.T("Replace “%s” in “%s”?", existing[0], protocol.Clean(folder, protocol.MaxAppTitle))
	}
	secondary := i18n.T("These files already exist and will be overwritten: %s", strings.Join(list, ", "))
	return d.Confirm(primary, secondary, i18n.T("_Cancel"), i18n.T("_Replace"))
}

// Icon is the sandbox's icon if the theme has it, else a fallback.
func Icon(name string) string { return pickIcon(name) }

func pickIcon(name string) string {
	if name != "" && gtk.HasIcon(name) {
		return name
	}
	for _, f := range fallbackIcons {
		if gtk.HasIcon(f) {
			return f
		}
	}
	return fallbackIcons[0]
}

// Errorf is a failed response; the chooser prints one whatever went wrong.
func Errorf(format string, args ...any) protocol.Response {
	return protocol.Response{Response: protocol.ResponseOther, Error: fmt.Sprintf(format, args...)}
}
