package gtk

/*
#cgo pkg-config: gtk+-3.0
#include <stdlib.h>
#include <gtk/gtk.h>

// A coloured bar down the left edge of a widget: the sandbox's colour
// (profile key color) on Airlock's own area of a dialog. css is built from
// a colour checked to be #rrggbb, nothing else.
static void airlock_color_bar(GtkWidget *w, const char *css) {
	GtkCssProvider *p = gtk_css_provider_new();
	gtk_css_provider_load_from_data(p, css, -1, NULL);
	gtk_style_context_add_provider(gtk_widget_get_style_context(w), GTK_STYLE_PROVIDER(p),
		GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
	g_object_unref(p);
}
*/
import "C"

import "unsafe"

// validHex: "#rrggbb", the only colour that reaches a style sheet.
func validHex(s string) bool {
	if len(s) != 7 || s[0] != '#' {
		return false
	}
	for _, c := range s[1:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// HeaderColor draws a bar of the sandbox's colour (#rrggbb; anything else
// is ignored) in the margin left of Airlock's header, after AddHeader.
func (d *FileChooserDialog) HeaderColor(hex string) {
	if d.header == nil || !validHex(hex) {
		return
	}
	// A shadow, not a border: drawn in the header's left margin, it moves
	// nothing of the dialog's layout.
	cs := C.CString("* { box-shadow: -10px 0 0 0 " + hex + "; }")
	defer C.free(unsafe.Pointer(cs))
	C.airlock_color_bar(d.header, cs)
}
