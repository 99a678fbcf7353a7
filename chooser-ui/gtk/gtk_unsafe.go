package gtk

/*
#cgo pkg-config: gtk+-3.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gtk/gtk.h>
#include <glib-unix.h>

// A response id of our own (positive ids belong to the application).
#define AIRLOCK_RESPONSE_TIMEOUT 4201
#define AIRLOCK_FILTER_INDEX "airlock-filter-index"

// gtk_file_chooser_dialog_new is variadic, which cgo cannot call.
static GtkWidget *airlock_file_chooser_dialog_new(const char *title, GtkFileChooserAction action,
		const char *cancel, const char *accept) {
	GtkWidget *d = gtk_file_chooser_dialog_new(title, NULL, action,
		cancel, GTK_RESPONSE_CANCEL, accept, GTK_RESPONSE_ACCEPT, NULL);
	gtk_dialog_set_default_response(GTK_DIALOG(d), GTK_RESPONSE_ACCEPT);
	return d;
}

// The timer ends every dialog of this process: the file chooser runs its
// overwrite confirmation in a nested main loop, which must end too before
// gtk_dialog_run on ours can return.
static gboolean airlock_timeout_cb(gpointer data) {
	GtkDialog *ours = GTK_DIALOG(data);
	GList *tops = gtk_window_list_toplevels();
	for (GList *l = tops; l != NULL; l = l->next) {
		if (GTK_IS_DIALOG(l->data) && l->data != (gpointer)ours)
			gtk_dialog_response(GTK_DIALOG(l->data), GTK_RESPONSE_DELETE_EVENT);
	}
	g_list_free(tops);
	g_object_set_data(G_OBJECT(ours), "airlock-timed-out", GINT_TO_POINTER(1));
	gtk_dialog_response(ours, AIRLOCK_RESPONSE_TIMEOUT);
	return G_SOURCE_REMOVE;
}

static guint airlock_add_timeout(GtkWidget *dialog, guint seconds) {
	return g_timeout_add_seconds(seconds, airlock_timeout_cb, dialog);
}

// airlock_add_header puts, above the file area, Airlock's own area: the
// trusted line (icon and bold text). Airlock's controls, the names to be
// written and the application's own words are added to the box it returns.
static GtkWidget *airlock_add_header(GtkWidget *dialog, const char *icon, const char *text) {
	GtkWidget *area = gtk_dialog_get_content_area(GTK_DIALOG(dialog));
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
	gtk_widget_set_name(box, "airlock-header");
	gtk_widget_set_margin_start(box, 12);
	gtk_widget_set_margin_end(box, 12);
	gtk_widget_set_margin_top(box, 8);
	gtk_widget_set_margin_bottom(box, 4);

	GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	GtkWidget *image = gtk_image_new_from_icon_name(icon, GTK_ICON_SIZE_DND);
	gtk_box_pack_start(GTK_BOX(row), image, FALSE, FALSE, 0);
	GtkWidget *title = gtk_label_new(text);
	PangoAttrList *attrs = pango_attr_list_new();
	pango_attr_list_insert(attrs, pango_attr_weight_new(PANGO_WEIGHT_BOLD));
	pango_attr_list_insert(attrs, pango_attr_scale_new(1.2));
	gtk_label_set_attributes(GTK_LABEL(title), attrs);
	pango_attr_list_unref(attrs);
	gtk_label_set_xalign(GTK_LABEL(title), 0.0);
	gtk_label_set_ellipsize(GTK_LABEL(title), PANGO_ELLIPSIZE_END);
	gtk_box_pack_start(GTK_BOX(row), title, TRUE, TRUE, 0);
	gtk_box_pack_start(GTK_BOX(box), row, FALSE, FALSE, 0);
	atk_object_set_name(gtk_widget_get_accessible(image), text);

	gtk_widget_show_all(box);
	gtk_box_pack_start(GTK_BOX(area), box, FALSE, FALSE, 0);
	gtk_box_reorder_child(GTK_BOX(area), box, 0);
	return box;
}

// airlock_header_note adds the application's own words, dimmed, as plain
// text (never markup).
static void airlock_header_note(GtkWidget *box, const char *text, const char *name) {
	GtkWidget *label = gtk_label_new(text);
	gtk_widget_set_name(label, "airlock-app-note");
	gtk_label_set_xalign(GTK_LABEL(label), 0.0);
	gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
	gtk_label_set_single_line_mode(GTK_LABEL(label), TRUE);
	gtk_style_context_add_class(gtk_widget_get_style_context(label), "dim-label");
	AtkObject *acc = gtk_widget_get_accessible(label);
	atk_object_set_name(acc, name);
	atk_object_set_description(acc, text);
	gtk_widget_show(label);
	gtk_box_pack_start(GTK_BOX(box), label, FALSE, FALSE, 0);
}

// Its mnemonic (Alt+R) toggles the switch like a click and, like a click,
// leaves the keyboard where it was: GTK would move it onto the switch, out
// of the file area, where Ctrl+L no longer reaches the chooser.
static gboolean airlock_check_mnemonic(GtkWidget *w, gboolean cycling, gpointer data) {
	if (cycling)
		return FALSE;
	gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(w), !gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(w)));
	return TRUE;
}

// airlock_header_check adds one of Airlock's own switches (mnemonic label).
static GtkWidget *airlock_header_check(GtkWidget *box, const char *label, gboolean active) {
	GtkWidget *c = gtk_check_button_new_with_mnemonic(label);
	gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(c), active);
	// A click leaves the focus in the file area, so that typing a path
	// (Ctrl+L) still reaches the chooser, as it did when GTK's own choices
	// sat inside it. Tab still reaches the switch.
	gtk_widget_set_focus_on_click(c, FALSE);
	g_signal_connect(c, "mnemonic-activate", G_CALLBACK(airlock_check_mnemonic), NULL);
	gtk_widget_set_halign(c, GTK_ALIGN_START);
	gtk_widget_show(c);
	gtk_box_pack_start(GTK_BOX(box), c, FALSE, FALSE, 0);
	return c;
}

// airlock_header_list adds a heading and a scrolled list, for the names
// that will be written; airlock_list_add adds one line.
static GtkWidget *airlock_header_list(GtkWidget *box, const char *heading) {
	GtkWidget *h = gtk_label_new(heading);
	gtk_label_set_xalign(GTK_LABEL(h), 0.0);
	gtk_label_set_line_wrap(GTK_LABEL(h), TRUE);
	gtk_box_pack_start(GTK_BOX(box), h, FALSE, FALSE, 0);
	GtkWidget *sw = gtk_scrolled_window_new(NULL, NULL);
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(sw), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
	gtk_scrolled_window_set_shadow_type(GTK_SCROLLED_WINDOW(sw), GTK_SHADOW_IN);
	gtk_scrolled_window_set_max_content_height(GTK_SCROLLED_WINDOW(sw), 110);
	gtk_scrolled_window_set_propagate_natural_height(GTK_SCROLLED_WINDOW(sw), TRUE);
	GtkWidget *list = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
	gtk_widget_set_name(list, "airlock-names");
	gtk_widget_set_margin_start(list, 6);
	gtk_widget_set_margin_end(list, 6);
	gtk_container_add(GTK_CONTAINER(sw), list);
	gtk_box_pack_start(GTK_BOX(box), sw, FALSE, FALSE, 0);
	atk_object_set_name(gtk_widget_get_accessible(list), heading);
	gtk_widget_show_all(h);
	gtk_widget_show_all(sw);
	return list;
}

static void airlock_list_add(GtkWidget *list, const char *text) {
	GtkWidget *l = gtk_label_new(text);
	gtk_label_set_xalign(GTK_LABEL(l), 0.0);
	// Every character of a name is shown: wrapped, never ellipsized.
	gtk_label_set_line_wrap(GTK_LABEL(l), TRUE);
	gtk_label_set_line_wrap_mode(GTK_LABEL(l), PANGO_WRAP_CHAR);
	gtk_label_set_selectable(GTK_LABEL(l), TRUE);
	gtk_widget_set_can_focus(l, FALSE);
	gtk_widget_show(l);
	gtk_box_pack_start(GTK_BOX(list), l, FALSE, FALSE, 0);
}

// airlock_app_area is the application's own area: a frame headed with the
// sandbox's name, below the file area (the chooser's extra widget), apart
// from Airlock's controls in the header.
static GtkWidget *airlock_app_area(GtkWidget *dialog, const char *heading) {
	GtkWidget *frame = gtk_frame_new(NULL);
	gtk_widget_set_name(frame, "airlock-app-options");
	GtkWidget *h = gtk_label_new(heading);
	PangoAttrList *attrs = pango_attr_list_new();
	pango_attr_list_insert(attrs, pango_attr_style_new(PANGO_STYLE_ITALIC));
	gtk_label_set_attributes(GTK_LABEL(h), attrs);
	pango_attr_list_unref(attrs);
	gtk_frame_set_label_widget(GTK_FRAME(frame), h);
	gtk_frame_set_shadow_type(GTK_FRAME(frame), GTK_SHADOW_ETCHED_IN);
	GtkWidget *grid = gtk_grid_new();
	gtk_grid_set_row_spacing(GTK_GRID(grid), 4);
	gtk_grid_set_column_spacing(GTK_GRID(grid), 8);
	gtk_container_set_border_width(GTK_CONTAINER(grid), 8);
	gtk_container_add(GTK_CONTAINER(frame), grid);
	atk_object_set_name(gtk_widget_get_accessible(frame), heading);
	gtk_widget_show_all(frame);
	gtk_file_chooser_set_extra_widget(GTK_FILE_CHOOSER(dialog), frame);
	return grid;
}

// The application's labels are plain text, without mnemonics: an
// application must not take Alt+letter shortcuts from Airlock's buttons.
static GtkWidget *airlock_app_check(GtkWidget *grid, int row, const char *label, gboolean active) {
	GtkWidget *c = gtk_check_button_new_with_label(label);
	gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(c), active);
	gtk_widget_show(c);
	gtk_grid_attach(GTK_GRID(grid), c, 0, row, 2, 1);
	return c;
}

static GtkWidget *airlock_app_combo(GtkWidget *grid, int row, const char *label,
		char **ids, char **labels, const char *def) {
	GtkWidget *l = gtk_label_new(label);
	gtk_label_set_xalign(GTK_LABEL(l), 0.0);
	GtkWidget *c = gtk_combo_box_text_new();
	for (int i = 0; ids[i] != NULL; i++)
		gtk_combo_box_text_append(GTK_COMBO_BOX_TEXT(c), ids[i], labels[i]);
	if (def == NULL || !gtk_combo_box_set_active_id(GTK_COMBO_BOX(c), def))
		gtk_combo_box_set_active(GTK_COMBO_BOX(c), 0);
	gtk_label_set_mnemonic_widget(GTK_LABEL(l), c);
	gtk_widget_show(l);
	gtk_widget_show(c);
	gtk_grid_attach(GTK_GRID(grid), l, 0, row, 1, 1);
	gtk_grid_attach(GTK_GRID(grid), c, 1, row, 1, 1);
	return c;
}

static gboolean airlock_toggle_active(GtkWidget *w) {
	return gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(w));
}

static const char *airlock_combo_id(GtkWidget *w) {
	return gtk_combo_box_get_active_id(GTK_COMBO_BOX(w));
}

// Trace (AIRLOCK_CHOOSER_TRACE=FILE, for tests): whenever the text or
// selection of the focused text entry changes (the location entry after
// Ctrl+L, the name entry of a save), a line "entry SEL_START SEL_END TEXT",
// and whenever the number of selected files changes, a line "selected N",
// are appended to FILE. A test reads it as a person reads the screen: it
// acts, then waits until the dialog shows what it expects (GTK's inline
// completion, a folder's files loaded and selected) before pressing a key
// that acts on it. A line "focus TYPE" says which kind of widget has the
// keyboard, "response N" that the dialog answered, and "windows N" how
// many windows of the process are shown (a confirmation, GTK's or
// Airlock's, is a window of its own, which takes the keyboard; popups such
// as the location's completion list are not counted).
typedef struct {
	GtkWindow *window;
	FILE *out;
	char *last;
	int selected;
	int windows;
	GtkWidget *focus;
} airlock_trace;

static gboolean airlock_trace_tick(gpointer data) {
	airlock_trace *t = data;
	// Files selected: in the file list when it has the keyboard (what
	// Open would take), else what the chooser would answer now.
	int n;
	GtkWidget *f = gtk_window_get_focus(t->window);
	if (f != NULL && GTK_IS_TREE_VIEW(f)) {
		n = gtk_tree_selection_count_selected_rows(gtk_tree_view_get_selection(GTK_TREE_VIEW(f)));
	} else {
		GSList *files = gtk_file_chooser_get_filenames(GTK_FILE_CHOOSER(t->window));
		n = (int)g_slist_length(files);
		g_slist_free_full(files, g_free);
	}
	if (n != t->selected) {
		fprintf(t->out, "selected %d\n", n);
		fflush(t->out);
		t->selected = n;
	}
	int w = 0;
	GList *tops = gtk_window_list_toplevels();
	for (GList *l = tops; l != NULL; l = l->next)
		if (gtk_window_get_window_type(GTK_WINDOW(l->data)) == GTK_WINDOW_TOPLEVEL && gtk_widget_get_mapped(GTK_WIDGET(l->data)))
			w++;
	g_list_free(tops);
	if (w != t->windows) {
		fprintf(t->out, "windows %d\n", w);
		fflush(t->out);
		t->windows = w;
	}
	GtkWidget *focus = gtk_window_get_focus(t->window);
	if (focus != t->focus) {
		fprintf(t->out, "focus %s\n", focus != NULL ? G_OBJECT_TYPE_NAME(focus) : "none");
		fflush(t->out);
		t->focus = focus;
	}
	if (focus == NULL || !GTK_IS_ENTRY(focus))
		return G_SOURCE_CONTINUE;
	gint a = 0, b = 0;
	gtk_editable_get_selection_bounds(GTK_EDITABLE(focus), &a, &b);
	gchar *line = g_strdup_printf("entry %d %d %s", a, b, gtk_entry_get_text(GTK_ENTRY(focus)));
	if (t->last == NULL || strcmp(t->last, line) != 0) {
		fprintf(t->out, "%s\n", line);
		fflush(t->out);
		g_free(t->last);
		t->last = line;
	} else {
		g_free(line);
	}
	return G_SOURCE_CONTINUE;
}

// Every response of the dialog, as "response N": a test presses Return
// again only when the dialog did not answer the first.
static void airlock_trace_response(GtkDialog *d, gint response, gpointer data) {
	airlock_trace *t = data;
	fprintf(t->out, "response %d\n", response);
	fflush(t->out);
}

static void airlock_trace_destroy(GtkWidget *dialog, gpointer data) {
	airlock_trace *t = data;
	g_source_remove(GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(dialog), "airlock-trace-source")));
	fclose(t->out);
	g_free(t->last);
	g_free(t);
}

static int airlock_trace_entries(GtkWidget *dialog, const char *path) {
	FILE *f = fopen(path, "a");
	if (f == NULL)
		return -1;
	airlock_trace *t = g_new0(airlock_trace, 1);
	t->window = GTK_WINDOW(dialog);
	t->out = f;
	t->selected = -1;
	guint src = g_timeout_add(20, airlock_trace_tick, t);
	g_signal_connect(dialog, "response", G_CALLBACK(airlock_trace_response), t);
	// The grant manager outlives its dialogs: the tick ends with its one.
	g_object_set_data(G_OBJECT(dialog), "airlock-trace-source", GUINT_TO_POINTER(src));
	g_signal_connect(dialog, "destroy", G_CALLBACK(airlock_trace_destroy), t);
	return 0;
}

// Widget dump (AIRLOCK_CHOOSER_DUMP_WIDGETS=1, for tests): one stderr line
// per button, check box, combo box and, inside Airlock's named areas, label,
// with the nearest named area around it. It shows only what is on screen.
static int airlock_dump_enabled = 0;
static void airlock_enable_dump(void) { airlock_dump_enabled = 1; }

static void airlock_dump_widget(GtkWidget *w, gpointer area);

// One widget, one line: a newline in its text is printed as \n.
static void airlock_dump_line(const char *area, const char *kind, const char *text) {
	fprintf(stderr, "airlock-widget: %s %s ", area, kind);
	for (const char *p = text != NULL ? text : ""; *p != '\0'; p++) {
		if (*p == '\n')
			fputs("\\n", stderr);
		else
			fputc(*p, stderr);
	}
	fputc('\n', stderr);
}

static void airlock_dump_child(GtkWidget *w, gpointer area) {
	const char *name = gtk_widget_get_name(w);
	if (name != NULL && g_str_has_prefix(name, "airlock-"))
		area = (gpointer)name;
	airlock_dump_widget(w, area);
}

static void airlock_dump_widget(GtkWidget *w, gpointer area) {
	const char *a = area != NULL ? (const char *)area : "-";
	if (GTK_IS_CHECK_BUTTON(w)) {
		airlock_dump_line(a, gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(w)) ? "check 1" : "check 0",
			gtk_button_get_label(GTK_BUTTON(w)));
		return;
	}
	if (GTK_IS_BUTTON(w) && gtk_button_get_label(GTK_BUTTON(w)) != NULL) {
		if (gtk_widget_get_visible(w))
			airlock_dump_line(a, "button", gtk_button_get_label(GTK_BUTTON(w)));
		return;
	}
	if (GTK_IS_COMBO_BOX_TEXT(w)) {
		gchar *t = gtk_combo_box_text_get_active_text(GTK_COMBO_BOX_TEXT(w));
		airlock_dump_line(a, "combo", t);
		g_free(t);
		return;
	}
	if (GTK_IS_LABEL(w) && area != NULL) {
		airlock_dump_line(a, "label", gtk_label_get_text(GTK_LABEL(w)));
		return;
	}
	if (GTK_IS_IMAGE(w) && area != NULL && gtk_image_get_storage_type(GTK_IMAGE(w)) == GTK_IMAGE_ICON_NAME) {
		const gchar *icon = NULL;
		gtk_image_get_icon_name(GTK_IMAGE(w), &icon, NULL);
		airlock_dump_line(a, "image", icon);
		return;
	}
	if (GTK_IS_CONTAINER(w))
		gtk_container_forall(GTK_CONTAINER(w), airlock_dump_child, area);
}

static void airlock_dump(GtkWidget *w, const char *what) {
	if (!airlock_dump_enabled)
		return;
	fprintf(stderr, "airlock-widget: begin %s\n", what);
	airlock_dump_child(w, NULL);
	GtkWidget *tb = gtk_window_get_titlebar(GTK_WINDOW(w));
	if (tb != NULL)
		airlock_dump_child(tb, NULL);
	fprintf(stderr, "airlock-widget: end %s\n", what);
	fflush(stderr);
}

static void airlock_set_filter_index(GtkFileFilter *f, int i) {
	g_object_set_data(G_OBJECT(f), AIRLOCK_FILTER_INDEX, GINT_TO_POINTER(i + 1));
}

static int airlock_filter_index(GtkFileChooser *c) {
	GtkFileFilter *f = gtk_file_chooser_get_filter(c);
	if (f == NULL)
		return -1;
	return GPOINTER_TO_INT(g_object_get_data(G_OBJECT(f), AIRLOCK_FILTER_INDEX)) - 1;
}

static int airlock_filter_index_of(GtkFileFilter *f) {
	return GPOINTER_TO_INT(g_object_get_data(G_OBJECT(f), AIRLOCK_FILTER_INDEX)) - 1;
}

// gtk_message_dialog_new and its secondary text are printf-like: pass the
// strings as arguments, never as the format.
static gboolean airlock_confirm(GtkWindow *parent, const char *primary, const char *secondary,
		const char *cancel, const char *accept, gboolean default_accept) {
	GtkWidget *d = gtk_message_dialog_new(parent, GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
		GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE, "%s", primary);
	gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d), "%s", secondary);
	gtk_dialog_add_button(GTK_DIALOG(d), cancel, GTK_RESPONSE_CANCEL);
	gtk_dialog_add_button(GTK_DIALOG(d), accept, GTK_RESPONSE_ACCEPT);
	gtk_dialog_set_default_response(GTK_DIALOG(d), default_accept ? GTK_RESPONSE_ACCEPT : GTK_RESPONSE_CANCEL);
	if (!default_accept) {
		// Return and the first focus land on Cancel: a risky write is
		// never one key press away.
		gtk_widget_grab_focus(gtk_dialog_get_widget_for_response(GTK_DIALOG(d), GTK_RESPONSE_CANCEL));
		gtk_style_context_add_class(gtk_widget_get_style_context(
			gtk_dialog_get_widget_for_response(GTK_DIALOG(d), GTK_RESPONSE_ACCEPT)), "destructive-action");
	}
	gtk_widget_set_name(d, "airlock-confirm");
	gtk_window_set_keep_above(GTK_WINDOW(d), TRUE);
	airlock_dump(d, "confirm");
	gint r = gtk_dialog_run(GTK_DIALOG(d));
	gtk_widget_destroy(d);
	return r == GTK_RESPONSE_ACCEPT;
}

static gboolean airlock_timed_out(GtkWidget *d) {
	return g_object_get_data(G_OBJECT(d), "airlock-timed-out") != NULL;
}

static GtkFileChooser *airlock_chooser(GtkWidget *w) { return GTK_FILE_CHOOSER(w); }

static gboolean airlock_readable_cb(gint fd, GIOCondition cond, gpointer data) {
	gtk_main_quit();
	return G_SOURCE_REMOVE;
}

// airlock_wait_readable runs the main loop until fd can be read (or hangs
// up): a chooser started ahead of need keeps answering the display and the
// accessibility bus while it waits for its request.
static void airlock_wait_readable(int fd) {
	g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, airlock_readable_cb, NULL);
	gtk_main();
}

// airlock_warm builds and realizes a file chooser that is never shown, so
// that the theme, icons, fonts and GIO modules are loaded before a request
// arrives.
static void airlock_warm(void) {
	GtkWidget *d = airlock_file_chooser_dialog_new("", GTK_FILE_CHOOSER_ACTION_OPEN, "_Cancel", "_Open");
	gtk_widget_realize(d);
	gtk_widget_destroy(d);
	while (gtk_events_pending())
		gtk_main_iteration();
}
static GtkWindow *airlock_window(GtkWidget *w) { return GTK_WINDOW(w); }
*/
import "C"

import (
	"errors"
	"unsafe"
)

func cbool(b bool) C.gboolean {
	if b {
		return C.TRUE
	}
	return C.FALSE
}

// Init names the program (its WM_CLASS is prgname, prgname) and opens the
// display. It fails, rather than exiting as gtk_init does, when the display
// cannot be opened.
func Init(prgname string) error {
	cs := C.CString(prgname)
	defer C.free(unsafe.Pointer(cs))
	C.g_set_prgname(cs)
	C.gdk_set_program_class(cs)
	if C.gtk_init_check(nil, nil) == C.FALSE {
		return errors.New("cannot open the display")
	}
	return nil
}

// WaitReadable runs GTK's main loop until fd has data (main thread only):
// a waiting chooser still answers its display and screen readers.
func WaitReadable(fd int) { C.airlock_wait_readable(C.int(fd)) }

// Warm loads what every dialog needs (theme, icons, fonts, GIO modules) by
// building a chooser that is never shown. Main thread only, after Init.
func Warm() { C.airlock_warm() }

// HasIcon reports whether the current icon theme has the named icon.
func HasIcon(name string) bool {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	return C.gtk_icon_theme_has_icon(C.gtk_icon_theme_get_default(), cs) != C.FALSE
}

// FileChooserDialog is a GtkFileChooserDialog (never the native one: the
// chooser is itself the trusted UI).
type FileChooserDialog struct {
	w      *C.GtkWidget
	header *C.GtkWidget // Airlock's own area, from AddHeader
	app    *C.GtkWidget // the application's option grid, from AppOptions
	rows   C.int
	// controls are the switches and option boxes by choice id.
	controls map[string]control
}

type control struct {
	w     *C.GtkWidget
	combo bool
}

// NewFileChooserDialog creates the dialog with its Cancel and accept buttons.
func NewFileChooserDialog(title string, action Action, cancel, accept string) *FileChooserDialog {
	ct := C.CString(title)
	defer C.free(unsafe.Pointer(ct))
	cc := C.CString(cancel)
	defer C.free(unsafe.Pointer(cc))
	ca := C.CString(accept)
	defer C.free(unsafe.Pointer(ca))
	var a C.GtkFileChooserAction
	switch action {
	case ActionSave:
		a = C.GTK_FILE_CHOOSER_ACTION_SAVE
	case ActionSelectFolder:
		a = C.GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER
	default:
		a = C.GTK_FILE_CHOOSER_ACTION_OPEN
	}
	return &FileChooserDialog{w: C.airlock_file_chooser_dialog_new(ct, a, cc, ca)}
}

func (d *FileChooserDialog) chooser() *C.GtkFileChooser { return C.airlock_chooser(d.w) }
func (d *FileChooserDialog) window() *C.GtkWindow       { return C.airlock_window(d.w) }

// SetWindow sets what the window manager and tests see: the icon, the
// WM_WINDOW_ROLE, and keep-above, so that a sandboxed window cannot cover the
// trusted dialog.
func (d *FileChooserDialog) SetWindow(icon, role string) {
	ci := C.CString(icon)
	defer C.free(unsafe.Pointer(ci))
	cr := C.CString(role)
	defer C.free(unsafe.Pointer(cr))
	C.gtk_window_set_icon_name(d.window(), ci)
	C.gtk_window_set_role(d.window(), cr)
	C.gtk_window_set_keep_above(d.window(), C.TRUE)
	C.gtk_window_set_default_size(d.window(), 800, 600)
}

// SetAccessible names and describes the dialog for screen readers.
func (d *FileChooserDialog) SetAccessible(name, description string) {
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	cd := C.CString(description)
	defer C.free(unsafe.Pointer(cd))
	acc := C.gtk_widget_get_accessible(d.w)
	C.atk_object_set_name(acc, cn)
	C.atk_object_set_description(acc, cd)
}

// AddHeader shows, above the file area, Airlock's own area: an icon and
// the trusted text in bold. Note, Switch and Names add to it, in order.
func (d *FileChooserDialog) AddHeader(icon, text string) {
	ci := C.CString(icon)
	defer C.free(unsafe.Pointer(ci))
	ct := C.CString(text)
	defer C.free(unsafe.Pointer(ct))
	d.header = C.airlock_add_header(d.w, ci, ct)
}

// Note adds the application's words under the header: plain, dimmed text
// with the accessible name name.
func (d *FileChooserDialog) Note(text, name string) {
	ct := C.CString(text)
	defer C.free(unsafe.Pointer(ct))
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	C.airlock_header_note(d.header, ct, cn)
}

// Switch adds one of Airlock's own check boxes (label with a mnemonic) to
// the header; Choice(id) reads it as "true" or "false".
func (d *FileChooserDialog) Switch(id, label string, active bool) {
	cl := C.CString(label)
	defer C.free(unsafe.Pointer(cl))
	d.setControl(id, control{w: C.airlock_header_check(d.header, cl, cbool(active))})
}

// Names adds a heading and a list of lines (every name that will be
// written) to the header.
func (d *FileChooserDialog) Names(heading string, lines []string) {
	ch := C.CString(heading)
	defer C.free(unsafe.Pointer(ch))
	list := C.airlock_header_list(d.header, ch)
	for _, l := range lines {
		cl := C.CString(l)
		C.airlock_list_add(list, cl)
		C.free(unsafe.Pointer(cl))
	}
}

// AppOptions opens the application's own area below the file area, a frame
// headed heading; AppChoice adds to it.
func (d *FileChooserDialog) AppOptions(heading string) {
	ch := C.CString(heading)
	defer C.free(unsafe.Pointer(ch))
	d.app = C.airlock_app_area(d.w, ch)
}

// AppChoice adds an application's choice to its area: a combo box of
// options (id, label), or a check box when options is empty ("true" when
// def is "true"). Labels are plain text, without mnemonics.
func (d *FileChooserDialog) AppChoice(id, label string, options [][2]string, def string) {
	cl := C.CString(label)
	defer C.free(unsafe.Pointer(cl))
	row := d.rows
	d.rows++
	if len(options) == 0 {
		d.setControl(id, control{w: C.airlock_app_check(d.app, row, cl, cbool(def == "true"))})
		return
	}
	ids := cStrings(len(options), func(i int) string { return options[i][0] })
	defer freeStrings(ids, len(options))
	labels := cStrings(len(options), func(i int) string { return options[i][1] })
	defer freeStrings(labels, len(options))
	var cd *C.char
	if def != "" {
		cd = C.CString(def)
		defer C.free(unsafe.Pointer(cd))
	}
	d.setControl(id, control{w: C.airlock_app_combo(d.app, row, cl, ids, labels, cd), combo: true})
}

func (d *FileChooserDialog) setControl(id string, c control) {
	if d.controls == nil {
		d.controls = map[string]control{}
	}
	d.controls[id] = c
}

// Choice is the value of a Switch or AppChoice: an option id, or
// "true"/"false"; "" for an unknown id.
func (d *FileChooserDialog) Choice(id string) string {
	c, ok := d.controls[id]
	switch {
	case !ok:
		return ""
	case c.combo:
		v := C.airlock_combo_id(c.w) // transfer none
		if v == nil {
			return ""
		}
		return C.GoString(v)
	case C.airlock_toggle_active(c.w) != C.FALSE:
		return "true"
	}
	return "false"
}

// EnableDump makes Dump and Confirm print the dialog's widgets on stderr
// (tests read it; the broker logs it at debug level).
func EnableDump() { C.airlock_enable_dump() }

// TraceEntries appends the focused entry's text and selection to the file
// at path whenever they change (tests only: AIRLOCK_CHOOSER_TRACE).
func (d *FileChooserDialog) TraceEntries(path string) error {
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	if C.airlock_trace_entries(d.w, cp) != 0 {
		return errors.New("cannot open the entry trace " + path)
	}
	return nil
}

// Dump prints the dialog's buttons, check boxes, combo boxes and the labels
// of Airlock's areas, when EnableDump was called.
func (d *FileChooserDialog) Dump() {
	cw := C.CString("chooser")
	defer C.free(unsafe.Pointer(cw))
	C.airlock_dump(d.w, cw)
}

// SetLocalOnly restricts the chooser to local files: the broker grants host
// paths, never GVfs URIs.
func (d *FileChooserDialog) SetLocalOnly(b bool) {
	C.gtk_file_chooser_set_local_only(d.chooser(), cbool(b))
}

func (d *FileChooserDialog) SetSelectMultiple(b bool) {
	C.gtk_file_chooser_set_select_multiple(d.chooser(), cbool(b))
}

func (d *FileChooserDialog) SetDoOverwriteConfirmation(b bool) {
	C.gtk_file_chooser_set_do_overwrite_confirmation(d.chooser(), cbool(b))
}

func (d *FileChooserDialog) SetCurrentName(name string) {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	C.gtk_file_chooser_set_current_name(d.chooser(), cs)
}

// SetCurrentFolder reports whether GTK accepted the folder.
func (d *FileChooserDialog) SetCurrentFolder(path string) bool {
	cs := C.CString(path)
	defer C.free(unsafe.Pointer(cs))
	return C.gtk_file_chooser_set_current_folder(d.chooser(), cs) != C.FALSE
}

// SetFilename selects path and changes to its folder; in save mode it also
// fills in the name.
func (d *FileChooserDialog) SetFilename(path string) bool {
	cs := C.CString(path)
	defer C.free(unsafe.Pointer(cs))
	return C.gtk_file_chooser_set_filename(d.chooser(), cs) != C.FALSE
}

// AddFilter adds a named filter remembered as index, which FilterIndex
// returns when it is the selected one.
func (d *FileChooserDialog) AddFilter(index int, name string, rules []Rule) {
	f := C.gtk_file_filter_new() // floating: the chooser sinks it
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	C.gtk_file_filter_set_name(f, cn)
	for _, r := range rules {
		cv := C.CString(r.Value)
		if r.MIME {
			C.gtk_file_filter_add_mime_type(f, cv)
		} else {
			C.gtk_file_filter_add_pattern(f, cv)
		}
		C.free(unsafe.Pointer(cv))
	}
	C.airlock_set_filter_index(f, C.int(index))
	C.gtk_file_chooser_add_filter(d.chooser(), f)
}

// SelectFilter makes the filter added with index the current one.
func (d *FileChooserDialog) SelectFilter(index int) {
	l := C.gtk_file_chooser_list_filters(d.chooser())
	defer C.g_slist_free(l)
	for e := l; e != nil; e = e.next {
		f := (*C.GtkFileFilter)(e.data)
		if C.airlock_filter_index_of(f) == C.int(index) {
			C.gtk_file_chooser_set_filter(d.chooser(), f)
			return
		}
	}
}

// FilterIndex is the index of the selected filter, or -1.
func (d *FileChooserDialog) FilterIndex() int {
	return int(C.airlock_filter_index(d.chooser()))
}

// cStrings builds a NULL-terminated char* array in C memory; freeStrings
// releases it (the C.CString of each element is freed there).
func cStrings(n int, at func(int) string) **C.char {
	arr := (**C.char)(C.calloc(C.size_t(n+1), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	s := unsafe.Slice(arr, n+1)
	for i := 0; i < n; i++ {
		s[i] = C.CString(at(i))
	}
	return arr
}

func freeStrings(arr **C.char, n int) {
	for _, p := range unsafe.Slice(arr, n) {
		C.free(unsafe.Pointer(p))
	}
	C.free(unsafe.Pointer(arr))
}

// SetTimeout makes Run return ResultTimeout after seconds. The timer is a
// GLib source on this (the main) thread, not a goroutine.
func (d *FileChooserDialog) SetTimeout(seconds int) {
	if seconds > 0 {
		C.airlock_add_timeout(d.w, C.guint(seconds))
	}
}

// TimedOut reports whether the SetTimeout timer has fired, also while no
// Run was waiting (for example during Confirm).
func (d *FileChooserDialog) TimedOut() bool {
	return C.airlock_timed_out(d.w) != C.FALSE
}

// Run shows the dialog, raised above other windows, and waits for the user.
func (d *FileChooserDialog) Run() Result {
	if d.TimedOut() {
		return ResultTimeout
	}
	C.gtk_window_present(d.window())
	switch C.gtk_dialog_run((*C.GtkDialog)(unsafe.Pointer(d.w))) {
	case C.GTK_RESPONSE_ACCEPT:
		return ResultAccept
	case C.AIRLOCK_RESPONSE_TIMEOUT:
		return ResultTimeout
	default: // GTK_RESPONSE_CANCEL, GTK_RESPONSE_DELETE_EVENT (Escape, window manager)
		return ResultCancel
	}
}

// Filenames are the selected local paths.
func (d *FileChooserDialog) Filenames() []string {
	l := C.gtk_file_chooser_get_filenames(d.chooser())
	var out []string
	for e := l; e != nil; e = e.next {
		out = append(out, C.GoString((*C.char)(e.data)))
		C.g_free(e.data)
	}
	C.g_slist_free(l)
	return out
}

// Hide unmaps the dialog; Destroy releases it.
func (d *FileChooserDialog) Hide() { C.gtk_widget_hide(d.w) }

func (d *FileChooserDialog) Destroy() {
	C.gtk_widget_destroy(d.w)
	d.w = nil
}

// Confirm asks a yes/no question in a modal message dialog on top of d, and
// reports whether the user chose accept. Return (the default) chooses
// accept only when defaultAccept.
func (d *FileChooserDialog) Confirm(primary, secondary, cancel, accept string, defaultAccept bool) bool {
	cp := C.CString(primary)
	defer C.free(unsafe.Pointer(cp))
	cs := C.CString(secondary)
	defer C.free(unsafe.Pointer(cs))
	cc := C.CString(cancel)
	defer C.free(unsafe.Pointer(cc))
	ca := C.CString(accept)
	defer C.free(unsafe.Pointer(ca))
	return C.airlock_confirm(d.window(), cp, cs, cc, ca, cbool(defaultAccept)) != C.FALSE
}
