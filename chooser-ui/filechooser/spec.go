// Package filechooser turns a protocol.Request into the trusted GTK file
// chooser and the user's answer into a protocol.Response.
//
// What the dialog says about who is asking comes only from trusted fields
// (the sandbox's profile name and icon, chosen by the broker). Everything the
// application supplied is cleaned, capped and shown as secondary text, so a
// hostile application cannot make the dialog claim to be something else.
package filechooser

import (
	"strings"
	"unicode"

	"airlock/chooser-ui/gtk"
	"airlock/chooser-ui/protocol"
	"airlock/po/i18n"
)

// WindowRole is the chooser's WM_CLASS (name and class) and WM_WINDOW_ROLE.
const WindowRole = "airlock-chooser"

// fallbackIcons are tried, in order, when the sandbox's icon is missing from
// the theme (Debian's Adwaita ships many icons only as -symbolic).
var fallbackIcons = []string{"dialog-password", "dialog-password-symbolic", "security-high-symbolic"}

// Spec is everything the dialog shows, computed from a validated request
// without touching GTK.
//
// The dialog has two kinds of areas. Airlock's: the bold header line, the
// read-only switch under it, the list of names a save will write, and the
// buttons, whose words are always Airlock's ("Open", "Save", "Select",
// "Cancel"). The application's: its title and its name for the action,
// dimmed under the header and introduced as the application's, and its
// choices, in a frame headed "Options from SANDBOX" below the file area.
type Spec struct {
	Action         gtk.Action
	Title          string // window title and bold header: the trusted line
	Secondary      string // the application's title, cleaned and quoted; may be empty
	SecondaryName  string // accessible name of the secondary text
	AcceptHint     string // the application's accept_label, as its words; may be empty
	AcceptHintName string
	Accept         string // Airlock's word, never the application's
	Cancel         string
	Filters        []protocol.Filter // names cleaned; CurrentFilter appended when new
	CurrentFilter  int               // index in Filters, or -1

	ReadOnly        string // label of Airlock's read-only switch; "" when not shown
	ReadOnlyDefault bool

	// The application's choices: labels cleaned, and renamed when they
	// imitate Airlock's own controls.
	OptionsHeading string
	Choices        []protocol.Choice

	// Companion: a save whose name lets the application create one folder
	// beside the file (protocol.CompanionFolder) says so; "" otherwise.
	Companion string

	// SaveFiles: every name that will be written, visible (VisibleName),
	// risky ones marked.
	NamesHeading string
	Names        []string
}

// Describe computes the Spec of a validated request.
func Describe(r *protocol.Request) Spec {
	name := protocol.Clean(r.SandboxName, protocol.MaxSandboxName)
	s := Spec{
		Cancel:         i18n.T("_Cancel"),
		SecondaryName:  i18n.T("Title given by the application"),
		AcceptHintName: i18n.T("Action named by the application"),
		CurrentFilter:  -1,
	}
	switch {
	case r.Mode == protocol.ModeSave:
		s.Action = gtk.ActionSave
		s.Title = i18n.T("%s wants to save a file", name)
		s.Accept = i18n.T("_Save")
	case r.Mode == protocol.ModeSaveFiles:
		s.Action = gtk.ActionSelectFolder
		s.Title = i18n.T("%s wants to save files into a folder", name)
		s.Accept = i18n.T("_Select")
	case r.Directory:
		s.Action = gtk.ActionSelectFolder
		s.Title = i18n.T("%s wants to choose a folder", name)
		s.Accept = i18n.T("_Select")
	case r.Multiple:
		s.Action = gtk.ActionOpen
		s.Title = i18n.T("%s wants to open files", name)
		s.Accept = i18n.T("_Open")
	default:
		s.Action = gtk.ActionOpen
		s.Title = i18n.T("%s wants to open a file", name)
		s.Accept = i18n.T("_Open")
	}
	// The application's accept_label is never a button: "_Cancel" made a
	// second Cancel button whose click granted write access. It is shown
	// as the application's own words, without its mnemonic underscores.
	if l := protocol.Clean(stripMnemonic(r.AcceptLabel), protocol.MaxAcceptLabel); l != "" {
		s.AcceptHint = i18n.T("The application calls this: “%s”", l)
	}
	if f := protocol.CompanionFolder(r.CurrentName); r.Mode == protocol.ModeSave && f != "" {
		// Firefox's "Web Page, complete" writes NAME_files beside
		// NAME.html; the document store lets this save create that one
		// folder, and the user is told before saving.
		s.Companion = i18n.T("%s may also save a folder “%s” beside it.", name, protocol.VisibleName(f))
	}
	if t := protocol.Clean(r.AppTitle, protocol.MaxAppTitle); t != "" {
		s.Secondary = i18n.T("The application says: “%s”", t)
	}

	for _, f := range r.Filters {
		s.Filters = append(s.Filters, cleanFilter(f))
	}
	if r.CurrentFilter != nil {
		for i := range r.Filters {
			if r.Filters[i].Equal(r.CurrentFilter) {
				s.CurrentFilter = i
				break
			}
		}
		if s.CurrentFilter < 0 {
			// As xdg-desktop-portal-gtk does: a current filter that is not
			// in the list is offered as one more filter.
			s.Filters = append(s.Filters, cleanFilter(*r.CurrentFilter))
			s.CurrentFilter = len(s.Filters) - 1
		}
	}

	if r.Mode == protocol.ModeOpen && r.ShowReadOnly {
		s.ReadOnly = i18n.T("Open _read-only")
		s.ReadOnlyDefault = r.ReadOnlyDefault
	}
	own := []string{s.ReadOnly, i18n.T("Open read-only"), s.Title}
	s.OptionsHeading = i18n.T("Options from %s", name)
	for i, c := range r.Choices {
		cc := protocol.Choice{ID: c.ID, Label: protocol.Clean(c.Label, protocol.MaxChoiceLabel), Default: c.Default}
		if imitates(cc.Label, own) {
			cc.Label = i18n.T("Application option %d (its name looked like Airlock's)", i+1)
		}
		for j, o := range c.Options {
			l := protocol.Clean(o[1], protocol.MaxChoiceLabel)
			if imitates(l, own) {
				l = i18n.T("Choice %d (its name looked like Airlock's)", j+1)
			}
			cc.Options = append(cc.Options, [2]string{o[0], l})
		}
		s.Choices = append(s.Choices, cc)
	}

	if r.Mode == protocol.ModeSaveFiles {
		s.NamesHeading = i18n.T("%s will write these files into the folder you select:", name)
		for _, f := range r.Files {
			n := protocol.VisibleName(f)
			if nameRisk(f) != protocol.RiskNone {
				n = "⚠ " + n
			}
			s.Names = append(s.Names, n)
		}
	}
	return s
}

// nameRisk is the risk of a name wherever it is saved.
func nameRisk(name string) protocol.Risk {
	return protocol.Places{}.Classify("/" + name)
}

// stripMnemonic removes GTK mnemonic underscores ("_Save" -> "Save",
// "__" -> "_").
func stripMnemonic(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '_' {
			if i+1 < len(s) && s[i+1] == '_' {
				b.WriteByte('_')
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// imitatedWords are what an application's choice may not say: Airlock's
// read-only switch is the only control that decides whether a grant is
// writable. A review's attack drew its own checked "Open read-only" beside
// the real switch; the grant came back writable. Compared on a skeleton
// (see skeleton), so "Read‐Only", "READ_ONLY", "reаd-only" (Cyrillic а)
// and "re ad-on1y" match too. German stems too: the translation is shown
// to German users, and an application may guess the language.
var imitatedWords = []string{"readonly", "writ", "airlock", "schreib", "nurles"}

// imitates reports whether an application's label could pass for one of
// Airlock's controls: it contains a word about write access, or one of
// Airlock's own labels (own, translated), case-insensitively, after Clean.
func imitates(label string, own []string) bool {
	for _, sk := range skeletons(label) {
		for _, w := range imitatedWords {
			if strings.Contains(sk, w) {
				return true
			}
		}
		for _, o := range own {
			if ow := skeletons(stripMnemonic(o))[0]; len(ow) >= 4 && strings.Contains(sk, ow) {
				return true
			}
		}
	}
	return false
}

// confusables maps letters that look like Latin ones to them (Cyrillic,
// Greek, dotless i) and digits that pass for letters in a label.
var confusables = map[rune]rune{
	'а': 'a', 'е': 'e', 'о': 'o', 'р': 'p', 'с': 'c', 'у': 'y', 'х': 'x', 'і': 'i', 'ј': 'j',
	'ѕ': 's', 'ԁ': 'd', 'ԝ': 'w', 'һ': 'h', 'ӏ': 'l', 'ɑ': 'a', 'ı': 'i', 'ο': 'o', 'α': 'a',
	'ε': 'e', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ρ': 'p', 'τ': 't', 'υ': 'u', 'χ': 'x', 'ω': 'w',
	'0': 'o', '|': 'l', '3': 'e', '5': 's',
}

// skeletons lowercases s, maps confusables and fullwidth letters to ASCII,
// and keeps only letters: two forms, "1" read as l and as i.
func skeletons(s string) []string {
	var l, i strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'ａ' && r <= 'ｚ' {
			r = r - 'ａ' + 'a'
		} else if r >= 'Ａ' && r <= 'Ｚ' {
			r = r - 'Ａ' + 'a'
		}
		if c, ok := confusables[r]; ok {
			r = c
		}
		switch {
		case r == '1':
			l.WriteRune('l')
			i.WriteRune('i')
		case unicode.IsLetter(r):
			l.WriteRune(r)
			i.WriteRune(r)
		}
	}
	return []string{l.String(), i.String()}
}

func cleanFilter(f protocol.Filter) protocol.Filter {
	return protocol.Filter{Name: protocol.Clean(f.Name, protocol.MaxFilterName), Patterns: f.Patterns}
}

// filterFor maps a Spec filter index back to the request's filter, exactly
// as the application sent it, so that the broker can compare it.
func filterFor(r *protocol.Request, i int) *protocol.Filter {
	switch {
	case i < 0:
		return nil
	case i < len(r.Filters):
		f := r.Filters[i]
		return &f
	case r.CurrentFilter != nil:
		f := *r.CurrentFilter
		return &f
	}
	return nil
}
