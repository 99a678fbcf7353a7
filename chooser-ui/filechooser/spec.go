// Package filechooser turns a protocol.Request into the trusted GTK file
// chooser and the user's answer into a protocol.Response.
//
// What the dialog says about who is asking comes only from trusted fields
// (the sandbox's profile name and icon, chosen by the broker). Everything the
// application supplied is cleaned, capped and shown as secondary text, so a
// hostile application cannot make the dialog claim to be something else.
package filechooser

import (
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
type Spec struct {
	Action        gtk.Action
	Title         string // window title and bold header: the trusted line
	Secondary     string // the application's title, cleaned and quoted; may be empty
	SecondaryName string // accessible name of the secondary text
	Accept        string
	Cancel        string
	Filters       []protocol.Filter // names cleaned; CurrentFilter appended when new
	CurrentFilter int               // index in Filters, or -1
	Choices       []protocol.Choice // labels cleaned; the read-only switch last
}

// Describe computes the Spec of a validated request.
func Describe(r *protocol.Request) Spec {
	name := protocol.Clean(r.SandboxName, protocol.MaxSandboxName)
	s := Spec{
		Cancel:        i18n.T("_Cancel"),
		SecondaryName: i18n.T("Title given by the application"),
		CurrentFilter: -1,
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
	if l := protocol.Clean(r.AcceptLabel, protocol.MaxAcceptLabel); l != "" {
		s.Accept = l
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

	for _, c := range r.Choices {
		cc := protocol.Choice{ID: c.ID, Label: protocol.Clean(c.Label, protocol.MaxChoiceLabel), Default: c.Default}
		for _, o := range c.Options {
			cc.Options = append(cc.Options, [2]string{o[0], protocol.Clean(o[1], protocol.MaxChoiceLabel)})
		}
		s.Choices = append(s.Choices, cc)
	}
	if r.Mode == protocol.ModeOpen && r.ShowReadOnly {
		def := "false"
		if r.ReadOnlyDefault {
			def = "true"
		}
		s.Choices = append(s.Choices, protocol.Choice{
			ID:      protocol.ReadOnlyChoiceID,
			Label:   i18n.T("Open read-only"),
			Default: def,
		})
	}
	return s
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
