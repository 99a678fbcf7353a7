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

// airlock_named_child is the child of the dialog's content area named
// name (the print dialog's "airlock-header"), or NULL.
static GtkWidget *airlock_named_child(GtkWidget *dialog, const char *name) {
	GtkWidget *area = gtk_dialog_get_content_area(GTK_DIALOG(dialog));
	GList *children = gtk_container_get_children(GTK_CONTAINER(area));
	GtkWidget *found = NULL;
	for (GList *l = children; l != NULL && found == NULL; l = l->next)
		if (g_strcmp0(gtk_widget_get_name(GTK_WIDGET(l->data)), name) == 0)
			found = GTK_WIDGET(l->data);
	g_list_free(children);
	return found;
}

static GtkWidget *airlock_message_area(GtkWidget *dialog) {
	return gtk_message_dialog_get_message_area(GTK_MESSAGE_DIALOG(dialog));
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

// colorBar draws a bar of the sandbox's colour (#rrggbb; anything else is
// ignored) in the margin left of w, Airlock's own area of a dialog. A
// shadow, not a border: it moves nothing of the dialog's layout.
func colorBar(w *C.GtkWidget, hex string) {
	if w == nil || !validHex(hex) {
		return
	}
	cs := C.CString("* { box-shadow: -10px 0 0 0 " + hex + "; }")
	defer C.free(unsafe.Pointer(cs))
	C.airlock_color_bar(w, cs)
}

// HeaderColor marks Airlock's header (after AddHeader) with the sandbox's
// colour.
func (d *FileChooserDialog) HeaderColor(hex string) { colorBar(d.header, hex) }

// HeaderColor marks Airlock's header of the print dialog with the
// sandbox's colour.
func (d *PrintDialog) HeaderColor(hex string) {
	name := C.CString("airlock-header")
	defer C.free(unsafe.Pointer(name))
	colorBar(C.airlock_named_child(d.w, name), hex)
}

// HeaderColor marks the question's text, Airlock's words about one
// sandbox, with that sandbox's colour.
func (q *Question) HeaderColor(hex string) { colorBar(C.airlock_message_area(q.w), hex) }
