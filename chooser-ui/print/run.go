package print

import (
	"airlock/chooser-ui/gtk"
	"airlock/chooser-ui/protocol"
)

// WindowRole is the dialog's WM_WINDOW_ROLE.
const WindowRole = "airlock-print"

// Run shows the print dialog for a validated request, on the main OS
// thread after GTK is set up, and returns the user's choice.
func Run(r *protocol.Request, icon string) protocol.Response {
	s := Describe(r)
	d := gtk.NewPrintDialog(s.Title, icon, WindowRole, s.Header, s.Note)
	defer d.Destroy()
	d.HeaderColor(r.SandboxColor) // the profile's colour (issue 13 item 6)
	d.SetSettings(r.Print.Settings)
	if p := r.Print.PageSetup; p != nil {
		d.SetPageSetup(gtk.PageSetup{Name: p.Name, Orientation: p.Orientation, Width: p.Width, Height: p.Height,
			MarginTop: p.MarginTop, MarginBottom: p.MarginBottom, MarginLeft: p.MarginLeft, MarginRight: p.MarginRight})
	}
	switch d.Run(r.TimeoutSeconds) {
	case gtk.ResultTimeout:
		return protocol.Response{Response: protocol.ResponseOther, Error: "timed out"}
	case gtk.ResultCancel:
		return protocol.Response{Response: protocol.ResponseCancelled}
	}
	settings := d.Settings()
	printer := settings["printer"]
	if !protocol.ValidPrinterName(printer) {
		return protocol.Response{Response: protocol.ResponseOther, Error: "no printer was chosen"}
	}
	ps := d.PageSetup()
	return protocol.Response{Response: protocol.ResponseSuccess, Print: &protocol.PrintResult{
		Printer:  printer,
		Settings: settings,
		PageSetup: protocol.PageSetup{Name: ps.Name, DisplayName: ps.DisplayName, PPDName: ps.PPDName, Orientation: ps.Orientation,
			Width: ps.Width, Height: ps.Height, MarginTop: ps.MarginTop, MarginBottom: ps.MarginBottom, MarginLeft: ps.MarginLeft, MarginRight: ps.MarginRight},
	}}
}
