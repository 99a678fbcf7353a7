package gtk

/*
#cgo pkg-config: gtk+-3.0
#include <stdlib.h>
#include <gtk/gtk.h>

static gboolean airlock_notice_done(gpointer data) {
	gtk_main_quit();
	return G_SOURCE_REMOVE;
}

// A popup (override-redirect) window: it never takes the focus from the
// window the user is typing in, and needs no window manager. The texts
// are plain labels, never markup.
static void airlock_notice_run(const char *title, const char *icon, const char *role,
		const char *summary, const char *body, guint ms) {
	GtkWidget *w = gtk_window_new(GTK_WINDOW_POPUP);
	gtk_window_set_title(GTK_WINDOW(w), title);
	gtk_window_set_icon_name(GTK_WINDOW(w), icon);
	gtk_window_set_role(GTK_WINDOW(w), role);
	gtk_window_set_type_hint(GTK_WINDOW(w), GDK_WINDOW_TYPE_HINT_NOTIFICATION);
	gtk_window_set_accept_focus(GTK_WINDOW(w), FALSE);
	gtk_window_set_keep_above(GTK_WINDOW(w), TRUE);
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
	gtk_container_set_border_width(GTK_CONTAINER(box), 14);
	GtkWidget *l1 = gtk_label_new(summary);
	PangoAttrList *bold = pango_attr_list_new();
	pango_attr_list_insert(bold, pango_attr_weight_new(PANGO_WEIGHT_BOLD));
	gtk_label_set_attributes(GTK_LABEL(l1), bold);
	pango_attr_list_unref(bold);
	gtk_label_set_xalign(GTK_LABEL(l1), 0);
	gtk_label_set_max_width_chars(GTK_LABEL(l1), 60);
	gtk_label_set_ellipsize(GTK_LABEL(l1), PANGO_ELLIPSIZE_END);
	gtk_box_pack_start(GTK_BOX(box), l1, FALSE, FALSE, 0);
	if (body[0] != 0) {
		GtkWidget *l2 = gtk_label_new(body);
		gtk_label_set_xalign(GTK_LABEL(l2), 0);
		gtk_label_set_max_width_chars(GTK_LABEL(l2), 60);
		gtk_label_set_ellipsize(GTK_LABEL(l2), PANGO_ELLIPSIZE_END);
		gtk_box_pack_start(GTK_BOX(box), l2, FALSE, FALSE, 0);
	}
	GtkWidget *frame = gtk_frame_new(NULL);
	gtk_container_add(GTK_CONTAINER(frame), box);
	gtk_container_add(GTK_CONTAINER(w), frame);
	atk_object_set_name(gtk_widget_get_accessible(w), summary);
	gtk_widget_show_all(w);
	// Labels are ellipsized, never wrapped (a wrapping label asks for its
	// height at its narrowest width): the popup takes its natural size.
	GtkRequisition nat;
	gtk_widget_get_preferred_size(w, NULL, &nat);
	gtk_window_resize(GTK_WINDOW(w), nat.width, nat.height);
	gint ww = nat.width;
	GdkDisplay *dpy = gtk_widget_get_display(w);
	GdkMonitor *mon = gdk_display_get_primary_monitor(dpy);
	if (mon == NULL)
		mon = gdk_display_get_monitor(dpy, 0);
	GdkRectangle geo = {0, 0, 0, 0};
	if (mon != NULL)
		gdk_monitor_get_geometry(mon, &geo);
	gtk_window_move(GTK_WINDOW(w), geo.x + geo.width - ww - 16, geo.y + 16);
	g_timeout_add(ms, airlock_notice_done, NULL);
	gtk_main();
	gtk_widget_destroy(w);
}
*/
import "C"

import "unsafe"

// Notice shows a short message at the top right of the screen for ms
// milliseconds, without taking the focus. It returns when it is gone.
func Notice(title, icon, role, summary, body string, ms int) {
	cs := make([]*C.char, 5)
	for i, s := range []string{title, icon, role, summary, body} {
		cs[i] = C.CString(s)
		defer C.free(unsafe.Pointer(cs[i]))
	}
	C.airlock_notice_run(cs[0], cs[1], cs[2], cs[3], cs[4], C.guint(ms))
}
