package gtk

/*
#cgo pkg-config: gtk+-3.0 gtk+-unix-print-3.0
#cgo LDFLAGS: -lm
#include <math.h>
#include <stdlib.h>
#include <gtk/gtk.h>
#include <gtk/gtkunixprint.h>

#define AIRLOCK_P_TIMEOUT 4203

// Only CUPS' printers: without GTK's "file" backend the dialog has no
// "Print to File", which would have the broker write a host file that no
// grant covers, and no "lpr" backend either.
static void airlock_print_backends_cups_only(void) {
	g_object_set(gtk_settings_get_default(), "gtk-print-backends", "cups", NULL);
}

static GtkWidget *airlock_print_dialog_new(const char *title, const char *icon, const char *role,
		const char *header, const char *note) {
	GtkWidget *d = gtk_print_unix_dialog_new(title, NULL);
	gtk_window_set_icon_name(GTK_WINDOW(d), icon);
	gtk_window_set_role(GTK_WINDOW(d), role);
	gtk_window_set_keep_above(GTK_WINDOW(d), TRUE);
	gtk_window_set_position(GTK_WINDOW(d), GTK_WIN_POS_CENTER);
	// What the application renders itself, as xdg-desktop-portal-gtk
	// offers it: GTK's portal client applies copies, page ranges, scale
	// and n-up to the PDF it sends (gtkprintoperation-portal.c). No
	// preview: it would run a viewer on the host with the document.
	gtk_print_unix_dialog_set_manual_capabilities(GTK_PRINT_UNIX_DIALOG(d),
		GTK_PRINT_CAPABILITY_PAGE_SET | GTK_PRINT_CAPABILITY_COPIES |
		GTK_PRINT_CAPABILITY_COLLATE | GTK_PRINT_CAPABILITY_REVERSE |
		GTK_PRINT_CAPABILITY_SCALE | GTK_PRINT_CAPABILITY_NUMBER_UP);

	GtkWidget *area = gtk_dialog_get_content_area(GTK_DIALOG(d));
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
	gtk_widget_set_name(box, "airlock-header");
	gtk_widget_set_margin_start(box, 12);
	gtk_widget_set_margin_end(box, 12);
	gtk_widget_set_margin_top(box, 8);
	GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	GtkWidget *image = gtk_image_new_from_icon_name(icon, GTK_ICON_SIZE_DND);
	gtk_box_pack_start(GTK_BOX(row), image, FALSE, FALSE, 0);
	GtkWidget *label = gtk_label_new(header);
	PangoAttrList *attrs = pango_attr_list_new();
	pango_attr_list_insert(attrs, pango_attr_weight_new(PANGO_WEIGHT_BOLD));
	pango_attr_list_insert(attrs, pango_attr_scale_new(1.2));
	gtk_label_set_attributes(GTK_LABEL(label), attrs);
	pango_attr_list_unref(attrs);
	gtk_label_set_xalign(GTK_LABEL(label), 0.0);
	gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
	gtk_box_pack_start(GTK_BOX(row), label, TRUE, TRUE, 0);
	gtk_box_pack_start(GTK_BOX(box), row, FALSE, FALSE, 0);
	if (note != NULL && note[0] != '\0') {
		GtkWidget *n = gtk_label_new(note);
		gtk_label_set_xalign(GTK_LABEL(n), 0.0);
		gtk_label_set_line_wrap(GTK_LABEL(n), TRUE);
		gtk_style_context_add_class(gtk_widget_get_style_context(n), "dim-label");
		gtk_box_pack_start(GTK_BOX(box), n, FALSE, FALSE, 0);
	}
	gtk_widget_show_all(box);
	gtk_box_pack_start(GTK_BOX(area), box, FALSE, FALSE, 0);
	gtk_box_reorder_child(GTK_BOX(area), box, 0);
	atk_object_set_name(gtk_widget_get_accessible(d), title);
	atk_object_set_description(gtk_widget_get_accessible(d), header);
	return d;
}

// airlock_print_set_settings gives the dialog the application's hints:
// n keys and values, plain strings (GtkPrintSettings holds only strings).
static void airlock_print_set_settings(GtkWidget *d, char **keys, char **values, int n) {
	GtkPrintSettings *s = gtk_print_settings_new();
	for (int i = 0; i < n; i++)
		gtk_print_settings_set(s, keys[i], values[i]);
	gtk_print_unix_dialog_set_settings(GTK_PRINT_UNIX_DIALOG(d), s);
	g_object_unref(s);
}

static void airlock_print_set_page_setup(GtkWidget *d, const char *name, double width, double height,
		const char *orientation, double top, double bottom, double left, double right) {
	GtkPageSetup *ps = gtk_page_setup_new();
	if (width > 0 && height > 0) {
		GtkPaperSize *paper = NULL;
		if (name != NULL && name[0] != '\0')
			paper = gtk_paper_size_new(name);
		if (paper == NULL || gtk_paper_size_is_custom(paper) ||
				fabs(gtk_paper_size_get_width(paper, GTK_UNIT_MM) - width) > 0.5 ||
				fabs(gtk_paper_size_get_height(paper, GTK_UNIT_MM) - height) > 0.5) {
			if (paper != NULL)
				gtk_paper_size_free(paper);
			paper = gtk_paper_size_new_custom("custom", "custom", width, height, GTK_UNIT_MM);
		}
		gtk_page_setup_set_paper_size(ps, paper);
		gtk_paper_size_free(paper);
		gtk_page_setup_set_top_margin(ps, top, GTK_UNIT_MM);
		gtk_page_setup_set_bottom_margin(ps, bottom, GTK_UNIT_MM);
		gtk_page_setup_set_left_margin(ps, left, GTK_UNIT_MM);
		gtk_page_setup_set_right_margin(ps, right, GTK_UNIT_MM);
	}
	if (g_strcmp0(orientation, "landscape") == 0)
		gtk_page_setup_set_orientation(ps, GTK_PAGE_ORIENTATION_LANDSCAPE);
	else if (g_strcmp0(orientation, "reverse-portrait") == 0)
		gtk_page_setup_set_orientation(ps, GTK_PAGE_ORIENTATION_REVERSE_PORTRAIT);
	else if (g_strcmp0(orientation, "reverse-landscape") == 0)
		gtk_page_setup_set_orientation(ps, GTK_PAGE_ORIENTATION_REVERSE_LANDSCAPE);
	gtk_print_unix_dialog_set_page_setup(GTK_PRINT_UNIX_DIALOG(d), ps);
	g_object_unref(ps);
}

static gboolean airlock_print_timeout_cb(gpointer data) {
	gtk_dialog_response(GTK_DIALOG(data), AIRLOCK_P_TIMEOUT);
	return G_SOURCE_REMOVE;
}

static int airlock_print_run(GtkWidget *d, guint seconds) {
	guint src = 0;
	if (seconds > 0)
		src = g_timeout_add_seconds(seconds, airlock_print_timeout_cb, d);
	gtk_window_present(GTK_WINDOW(d));
	int r = gtk_dialog_run(GTK_DIALOG(d));
	if (src != 0 && r != AIRLOCK_P_TIMEOUT)
		g_source_remove(src);
	return r;
}

typedef struct {
	GPtrArray *keys, *values;
} airlock_kv;

static void airlock_kv_add(const gchar *key, const gchar *value, gpointer data) {
	airlock_kv *kv = data;
	g_ptr_array_add(kv->keys, g_strdup(key));
	g_ptr_array_add(kv->values, g_strdup(value));
}

// airlock_print_settings returns the chosen settings as two NULL-ended
// arrays (g_strfreev both), the printer's name among them.
static int airlock_print_settings(GtkWidget *d, char ***keys, char ***values) {
	GtkPrintSettings *s = gtk_print_unix_dialog_get_settings(GTK_PRINT_UNIX_DIALOG(d));
	GtkPrinter *p = gtk_print_unix_dialog_get_selected_printer(GTK_PRINT_UNIX_DIALOG(d));
	if (p != NULL)
		gtk_print_settings_set_printer(s, gtk_printer_get_name(p));
	airlock_kv kv = { g_ptr_array_new(), g_ptr_array_new() };
	gtk_print_settings_foreach(s, airlock_kv_add, &kv);
	g_object_unref(s);
	int n = kv.keys->len;
	g_ptr_array_add(kv.keys, NULL);
	g_ptr_array_add(kv.values, NULL);
	*keys = (char **)g_ptr_array_free(kv.keys, FALSE);
	*values = (char **)g_ptr_array_free(kv.values, FALSE);
	return n;
}

typedef struct {
	char *name, *display_name, *ppd_name, *orientation;
	double width, height, top, bottom, left, right;
} airlock_page;

static void airlock_print_page_setup(GtkWidget *d, airlock_page *out) {
	GtkPageSetup *ps = gtk_print_unix_dialog_get_page_setup(GTK_PRINT_UNIX_DIALOG(d));
	GtkPaperSize *paper = gtk_page_setup_get_paper_size(ps);
	out->name = g_strdup(gtk_paper_size_get_name(paper));
	out->display_name = g_strdup(gtk_paper_size_get_display_name(paper));
	out->ppd_name = g_strdup(gtk_paper_size_get_ppd_name(paper));
	out->width = gtk_paper_size_get_width(paper, GTK_UNIT_MM);
	out->height = gtk_paper_size_get_height(paper, GTK_UNIT_MM);
	out->top = gtk_page_setup_get_top_margin(ps, GTK_UNIT_MM);
	out->bottom = gtk_page_setup_get_bottom_margin(ps, GTK_UNIT_MM);
	out->left = gtk_page_setup_get_left_margin(ps, GTK_UNIT_MM);
	out->right = gtk_page_setup_get_right_margin(ps, GTK_UNIT_MM);
	switch (gtk_page_setup_get_orientation(ps)) {
	case GTK_PAGE_ORIENTATION_LANDSCAPE: out->orientation = g_strdup("landscape"); break;
	case GTK_PAGE_ORIENTATION_REVERSE_PORTRAIT: out->orientation = g_strdup("reverse-portrait"); break;
	case GTK_PAGE_ORIENTATION_REVERSE_LANDSCAPE: out->orientation = g_strdup("reverse-landscape"); break;
	default: out->orientation = g_strdup("portrait");
	}
}

static void airlock_page_free(airlock_page *p) {
	g_free(p->name); g_free(p->display_name); g_free(p->ppd_name); g_free(p->orientation);
}

static char *airlock_str_at(char **a, int i) { return a[i]; }
*/
import "C"

import "unsafe"

// PageSetup is a GtkPageSetup as the Print portal serialises it (sizes in
// millimetres).
type PageSetup struct {
	Name, DisplayName, PPDName, Orientation          string
	Width, Height                                    float64
	MarginTop, MarginBottom, MarginLeft, MarginRight float64
}

// PrintDialog is GTK's GtkPrintUnixDialog, listing CUPS' printers only,
// under Airlock's own header.
type PrintDialog struct {
	w *C.GtkWidget
}

// NewPrintDialog builds the dialog: title is the window's, header the bold
// trusted line naming the sandbox, note the application's words (dimmed,
// may be empty); role is its WM_WINDOW_ROLE.
func NewPrintDialog(title, icon, role, header, note string) *PrintDialog {
	C.airlock_print_backends_cups_only()
	cs := make([]*C.char, 5)
	for i, s := range []string{title, icon, role, header, note} {
		cs[i] = C.CString(s)
		defer C.free(unsafe.Pointer(cs[i]))
	}
	return &PrintDialog{w: C.airlock_print_dialog_new(cs[0], cs[1], cs[2], cs[3], cs[4])}
}

// SetSettings gives the dialog its initial settings (the application's
// hints, already filtered by the broker).
func (d *PrintDialog) SetSettings(kv map[string]string) {
	n := len(kv)
	if n == 0 {
		return
	}
	keys := make([]string, 0, n)
	for k := range kv {
		keys = append(keys, k)
	}
	ck := cStrings(n, func(i int) string { return keys[i] })
	defer freeStrings(ck, n)
	cv := cStrings(n, func(i int) string { return kv[keys[i]] })
	defer freeStrings(cv, n)
	C.airlock_print_set_settings(d.w, ck, cv, C.int(n))
}

// SetPageSetup gives the dialog its initial page setup.
func (d *PrintDialog) SetPageSetup(p PageSetup) {
	cn := C.CString(p.Name)
	defer C.free(unsafe.Pointer(cn))
	co := C.CString(p.Orientation)
	defer C.free(unsafe.Pointer(co))
	C.airlock_print_set_page_setup(d.w, cn, C.double(p.Width), C.double(p.Height), co,
		C.double(p.MarginTop), C.double(p.MarginBottom), C.double(p.MarginLeft), C.double(p.MarginRight))
}

// Run shows the dialog and waits for the user or for seconds (0: no
// limit): ResultAccept for Print, ResultCancel, ResultTimeout.
func (d *PrintDialog) Run(seconds int) Result {
	if seconds < 0 {
		seconds = 0
	}
	switch C.airlock_print_run(d.w, C.guint(seconds)) {
	case C.GTK_RESPONSE_OK:
		return ResultAccept
	case C.AIRLOCK_P_TIMEOUT:
		return ResultTimeout
	default: // Cancel, Escape, closed, or Preview (not offered)
		return ResultCancel
	}
}

// Settings are the settings chosen, the printer's name ("printer") among
// them.
func (d *PrintDialog) Settings() map[string]string {
	var keys, values **C.char
	n := int(C.airlock_print_settings(d.w, &keys, &values))
	defer C.g_strfreev(keys)
	defer C.g_strfreev(values)
	out := make(map[string]string, n)
	for i := 0; i < n; i++ {
		out[C.GoString(C.airlock_str_at(keys, C.int(i)))] = C.GoString(C.airlock_str_at(values, C.int(i)))
	}
	return out
}

// PageSetup is the page setup chosen.
func (d *PrintDialog) PageSetup() PageSetup {
	var p C.airlock_page
	C.airlock_print_page_setup(d.w, &p)
	defer C.airlock_page_free(&p)
	return PageSetup{
		Name: C.GoString(p.name), DisplayName: C.GoString(p.display_name), PPDName: C.GoString(p.ppd_name),
		Orientation: C.GoString(p.orientation),
		Width:       float64(p.width), Height: float64(p.height),
		MarginTop: float64(p.top), MarginBottom: float64(p.bottom), MarginLeft: float64(p.left), MarginRight: float64(p.right),
	}
}

// Destroy releases the dialog.
func (d *PrintDialog) Destroy() {
	C.gtk_widget_destroy(d.w)
	d.w = nil
}
