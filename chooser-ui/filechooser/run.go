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
// answer. It must run on the main OS thread after Init, once per process:
// the dialog is left to the process's exit.
func Run(r *protocol.Request) protocol.Response {
	s := Describe(r)
	icon := pickIcon(r.SandboxIcon)

	d := gtk.NewFileChooserDialog(s.Title, s.Action, s.Cancel, s.Accept)
	// Not destroyed: the process prints the answer and exits, and the X
	// server drops the window with the connection. Destroying a
	// GtkFileChooserDialog first put its teardown between the user's
	// Escape and the application's Response (tests/bench/RESULTS.md).
	d.SetWindow(icon, WindowRole)
	d.SetAccessible(s.Title, s.Secondary)
	// Airlock's area first: its switch and the names to be written; then
	// the application's own words, dimmed and introduced as its own.
	d.AddHeader(icon, s.Title)
	d.HeaderColor(r.SandboxColor) // the profile's colour (issue 13 item 6)
	if s.ReadOnly != "" {
		d.Switch(protocol.ReadOnlyChoiceID, s.ReadOnly, s.ReadOnlyDefault)
	}
	if len(s.Names) > 0 {
		d.Names(s.NamesHeading, s.Names)
	}
	if s.Companion != "" {
		// Airlock's own statement, in Airlock's area (Note is for the
		// application's words).
		d.Names(s.Companion, nil)
	}
	if s.Secondary != "" {
		d.Note(s.Secondary, s.SecondaryName)
	}
	if s.AcceptHint != "" {
		d.Note(s.AcceptHint, s.AcceptHintName)
	}
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
	if len(s.Choices) > 0 {
		d.AppOptions(s.OptionsHeading)
		for _, c := range s.Choices {
			d.AppChoice(c.ID, c.Label, c.Options, c.Default)
		}
	}
	d.SetTimeout(r.TimeoutSeconds)
	if p := os.Getenv(protocol.EnvTrace); p != "" {
		if err := d.TraceEntries(p); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	if os.Getenv("AIRLOCK_CHOOSER_DUMP_WIDGETS") == "1" {
		gtk.EnableDump()
		d.Dump()
	}
	places := protocol.PlacesFromEnv()

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
		risky := false
		readOnly := r.Mode == protocol.ModeOpen && r.ShowReadOnly && d.Choice(protocol.ReadOnlyChoiceID) == "true"
		if !readOnly {
			// Everything that will be writable: a save's file or files, or
			// what is opened with the read-only switch off (a folder such
			// as ~/.config/autostart picked through OpenFile is as risky
			// as a save into it).
			targets := paths
			switch r.Mode {
			case protocol.ModeSave:
				targets = paths[:1]
			case protocol.ModeSaveFiles:
				targets = nil
				for _, f := range r.Files {
					targets = append(targets, filepath.Join(paths[0], f))
				}
			}
			var ok bool
			if ok, risky = confirmRisk(d, s, places, targets); !ok {
				if d.TimedOut() {
					return protocol.Response{Response: protocol.ResponseOther, Error: "timed out"}
				}
				continue // back to the chooser: nothing is written
			}
		}
		if r.Mode == protocol.ModeSaveFiles && !confirmReplace(d, paths[0], r.Files) {
			if d.TimedOut() {
				return protocol.Response{Response: protocol.ResponseOther, Error: "timed out"}
			}
			continue // back to the chooser, as GTK's own overwrite confirmation does
		}
		if r.Mode == protocol.ModeSave && !confirmCompanion(d, s, paths[0]) {
			if d.TimedOut() {
				return protocol.Response{Response: protocol.ResponseOther, Error: "timed out"}
			}
			continue // back to the chooser: another name, or Cancel
		}
		d.Hide()
		resp := protocol.Response{
			Response:      protocol.ResponseSuccess,
			Paths:         paths,
			CurrentFilter: filterFor(r, d.FilterIndex()),
			Choices:       [][2]string{},
			RiskConfirmed: risky,
		}
		for _, c := range r.Choices {
			resp.Choices = append(resp.Choices, [2]string{c.ID, d.Choice(c.ID)})
		}
		resp.ReadOnly = readOnly
		return resp
	}
}

// confirmCompanion asks before a save of NAME.html where NAME_files is
// already on the host: the document store never merges into a folder that
// is there (portal/docstore/companion.go), so a page saved "complete" would
// fail. The page alone ("HTML only") still saves: "Save Anyway" allows it;
// Cancel, the default, goes back to the chooser.
func confirmCompanion(d *gtk.FileChooserDialog, s Spec, path string) bool {
	f := protocol.CompanionFolder(filepath.Base(path))
	if f == "" {
		return true
	}
	if _, err := os.Lstat(filepath.Join(filepath.Dir(path), f)); errors.Is(err, fs.ErrNotExist) {
		return true
	}
	primary := i18n.T("“%s” is already in “%s”", protocol.VisibleName(f), protocol.Clean(filepath.Dir(path), protocol.MaxAppTitle))
	secondary := i18n.T("The page's files cannot be added to a folder that is already there: saving the page complete will fail. Choose another name, or save the page alone.")
	return d.Confirm(primary, secondary, i18n.T("_Cancel"), i18n.T("Save _Anyway"), false)
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
	return d.Confirm(primary, secondary, i18n.T("_Cancel"), i18n.T("_Replace"), true)
}

// confirmRisk asks a second time, naming the risk, before a save writes a
// file that a shell, the session, the desktop or a host program reads
// (~/.bash_aliases, ~/.config/autostart/, *.desktop, ~/.ssh/...): one click
// on Select must not let a sandbox run commands outside it. Cancel is the
// default. It reports whether the save may go on, and whether the user
// confirmed a risk (the broker refuses a risky path without it).
func confirmRisk(d *gtk.FileChooserDialog, s Spec, places protocol.Places, targets []string) (ok, confirmed bool) {
	var lines []string
	for _, t := range targets {
		if risk := places.WriteRisk(t); risk != protocol.RiskNone {
			lines = append(lines, i18n.T("“%s”: %s", shownPath(t, places.Home), riskText(risk)))
		}
	}
	if len(lines) == 0 {
		return true, false
	}
	const shown = 6
	n := len(lines)
	if n > shown {
		lines = append(lines[:shown:shown], i18n.T("and %d more", n-shown))
	}
	primary := i18n.T("Let this sandbox write a file that can run commands outside it?")
	if n > 1 {
		primary = i18n.T("Let this sandbox write %d files that can run commands outside it?", n)
	}
	secondary := s.Title + "\n\n" + strings.Join(lines, "\n") + "\n\n" +
		i18n.T("Programs outside the sandbox read these files. An application that writes them can act as you on this computer. Allow it only if you asked for exactly this.")
	if !d.Confirm(primary, secondary, i18n.T("_Cancel"), i18n.T("_Allow Writing"), false) {
		return false, false
	}
	return true, true
}

// riskText names a risk for the user.
func riskText(r protocol.Risk) string {
	switch r {
	case protocol.RiskShell:
		return i18n.T("your shell runs the commands in this file")
	case protocol.RiskSession:
		return i18n.T("this file is read when you log in")
	case protocol.RiskAutostart:
		return i18n.T("programs placed here start when you log in")
	case protocol.RiskLauncher:
		return i18n.T("a launcher: the desktop runs the program it names")
	case protocol.RiskPrograms:
		return i18n.T("your shell runs programs from this folder")
	case protocol.RiskSSH:
		return i18n.T("SSH keys and settings: it can let others log in as you")
	case protocol.RiskGnuPG:
		return i18n.T("your encryption keys and their settings")
	case protocol.RiskConfig:
		return i18n.T("settings of programs outside the sandbox")
	}
	return i18n.T("a hidden file: programs often read these as settings")
}

// shownPath is a path for the confirmation: every character visible, the
// home folder as ~.
func shownPath(p, home string) string {
	if home != "" && home != "/" && strings.HasPrefix(p, home+"/") {
		p = "~" + strings.TrimPrefix(p, home)
	}
	return protocol.VisibleName(p)
}

// Icon is the sandbox's icon if the theme has it, else a fallback.
func Icon(name string) string { return pickIcon(name) }

func pickIcon(name string) string {
	// The profile's icon, or its symbolic variant: Debian's Adwaita ships
	// many icons only as -symbolic. The key stands in only when neither is
	// in the theme.
	if name != "" {
		for _, n := range []string{name, name + "-symbolic"} {
			if gtk.HasIcon(n) {
				return n
			}
		}
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
