package gtk

/*
#cgo pkg-config: gtk+-3.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <gtk/gtk.h>
#include <glib-unix.h>

// The grant manager's window. Nothing calls back into Go: every signal
// handler records an event bit and leaves gtk_main, and the Go loop
// (ManagerWindow.Wait) reads the bits and acts. A wake-up pipe, written by
// the goroutine that reads the launcher's states, is one more event.
enum {
	AIRLOCK_EV_CLOSE = 1 << 0,
	AIRLOCK_EV_SELECT = 1 << 1,
	AIRLOCK_EV_ADD_FILE = 1 << 2,
	AIRLOCK_EV_ADD_FOLDER = 1 << 3,
	AIRLOCK_EV_END = 1 << 4,
	AIRLOCK_EV_REVOKE = 1 << 5,
	AIRLOCK_EV_WAKE = 1 << 6,
	AIRLOCK_EV_TICK = 1 << 7,
};

// Columns of the two lists. Every text column is shown through the
// renderer's "text" property, never "markup": a sandbox's name is plain
// text whatever it contains.
enum { SB_ID, SB_COLOR, SB_NAME, SB_PROFILE, SB_NET, SB_DISPLAY, SB_UPTIME, SB_SWATCH, SB_NCOLS };
enum { G_DOC, G_PATH, G_ACCESS, G_SINCE, G_NCOLS };

typedef struct {
	GtkWidget *window;
	GtkListStore *sandboxes, *grants;
	GtkTreeView *sbview, *gview;
	GtkWidget *add_file, *add_folder, *end, *revoke, *status;
	guint pending;
	int wake_fd;
	int filling; // a refill is under way: selection changes are ours
} airlock_manager;

static void airlock_mgr_event(airlock_manager *m, guint ev) {
	m->pending |= ev;
	if (gtk_main_level() > 0)
		gtk_main_quit();
}

static gboolean airlock_mgr_delete(GtkWidget *w, GdkEvent *e, gpointer data) {
	airlock_mgr_event(data, AIRLOCK_EV_CLOSE);
	return TRUE; // the Go loop destroys it
}

static void airlock_mgr_selected(GtkTreeSelection *s, gpointer data) {
	airlock_manager *m = data;
	if (!m->filling)
		airlock_mgr_event(m, AIRLOCK_EV_SELECT);
}

static void airlock_mgr_clicked(GtkButton *b, gpointer data) {
	airlock_manager *m = g_object_get_data(G_OBJECT(b), "airlock-manager");
	airlock_mgr_event(m, GPOINTER_TO_UINT(data));
}

// Delete (and the keypad's) on the grants list revokes the selected grant,
// as the Revoke button does.
static gboolean airlock_mgr_key(GtkWidget *w, GdkEventKey *e, gpointer data) {
	if (e->keyval == GDK_KEY_Delete || e->keyval == GDK_KEY_KP_Delete) {
		airlock_mgr_event(data, AIRLOCK_EV_REVOKE);
		return TRUE;
	}
	return FALSE;
}

static gboolean airlock_mgr_wake(gint fd, GIOCondition cond, gpointer data) {
	char buf[64];
	while (read(fd, buf, sizeof buf) > 0)
		;
	airlock_mgr_event(data, AIRLOCK_EV_WAKE);
	return G_SOURCE_CONTINUE;
}

static gboolean airlock_mgr_tick(gpointer data) {
	airlock_mgr_event(data, AIRLOCK_EV_TICK);
	return G_SOURCE_CONTINUE;
}

static GtkTreeViewColumn *airlock_mgr_column(GtkTreeView *v, const char *title, int col, PangoEllipsizeMode ell, int width) {
	GtkCellRenderer *r = gtk_cell_renderer_text_new();
	g_object_set(r, "ellipsize", ell, "single-paragraph-mode", TRUE, NULL);
	GtkTreeViewColumn *c = gtk_tree_view_column_new_with_attributes(title, r, "text", col, NULL);
	gtk_tree_view_column_set_resizable(c, TRUE);
	if (width > 0) {
		gtk_tree_view_column_set_expand(c, TRUE);
		gtk_tree_view_column_set_min_width(c, width);
	}
	gtk_tree_view_append_column(v, c);
	return c;
}

static GtkWidget *airlock_mgr_button(airlock_manager *m, GtkWidget *box, const char *label, guint ev) {
	GtkWidget *b = gtk_button_new_with_mnemonic(label);
	g_object_set_data(G_OBJECT(b), "airlock-manager", m);
	g_signal_connect(b, "clicked", G_CALLBACK(airlock_mgr_clicked), GUINT_TO_POINTER(ev));
	gtk_box_pack_start(GTK_BOX(box), b, FALSE, FALSE, 0);
	return b;
}

static GtkWidget *airlock_mgr_scrolled(GtkTreeView *v) {
	GtkWidget *sw = gtk_scrolled_window_new(NULL, NULL);
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(sw), GTK_POLICY_AUTOMATIC, GTK_POLICY_AUTOMATIC);
	gtk_scrolled_window_set_shadow_type(GTK_SCROLLED_WINDOW(sw), GTK_SHADOW_IN);
	gtk_container_add(GTK_CONTAINER(sw), GTK_WIDGET(v));
	return sw;
}

// t: the window's words, in order: title, sandboxes heading, its
// accessible name, colour, name, profile, network, display, running for,
// grants heading, its accessible name, host path, access, since, add file,
// add folder, end, revoke.
static airlock_manager *airlock_mgr_new(char **t, int wake_fd) {
	airlock_manager *m = g_new0(airlock_manager, 1);
	m->wake_fd = wake_fd;
	m->window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
	gtk_window_set_title(GTK_WINDOW(m->window), t[0]);
	gtk_window_set_role(GTK_WINDOW(m->window), "airlock-manager");
	gtk_window_set_icon_name(GTK_WINDOW(m->window), "security-high");
	gtk_window_set_default_size(GTK_WINDOW(m->window), 820, 560);
	g_signal_connect(m->window, "delete-event", G_CALLBACK(airlock_mgr_delete), m);

	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	gtk_container_set_border_width(GTK_CONTAINER(box), 12);
	gtk_container_add(GTK_CONTAINER(m->window), box);

	// Sandboxes.
	m->sandboxes = gtk_list_store_new(SB_NCOLS, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING,
		G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, GDK_TYPE_PIXBUF);
	m->sbview = GTK_TREE_VIEW(gtk_tree_view_new_with_model(GTK_TREE_MODEL(m->sandboxes)));
	gtk_widget_set_name(GTK_WIDGET(m->sbview), "airlock-sandboxes");
	// The swatch: a picture filled with the colour, which a selected
	// row's highlight does not cover (a cell's background it would).
	GtkCellRenderer *swatch = gtk_cell_renderer_pixbuf_new();
	GtkTreeViewColumn *cc = gtk_tree_view_column_new_with_attributes(t[3], swatch, "pixbuf", SB_SWATCH, NULL);
	gtk_tree_view_append_column(m->sbview, cc);
	airlock_mgr_column(m->sbview, t[4], SB_NAME, PANGO_ELLIPSIZE_END, 180);
	airlock_mgr_column(m->sbview, t[5], SB_PROFILE, PANGO_ELLIPSIZE_END, 0);
	airlock_mgr_column(m->sbview, t[6], SB_NET, PANGO_ELLIPSIZE_NONE, 0);
	airlock_mgr_column(m->sbview, t[7], SB_DISPLAY, PANGO_ELLIPSIZE_NONE, 0);
	airlock_mgr_column(m->sbview, t[8], SB_UPTIME, PANGO_ELLIPSIZE_NONE, 0);
	gtk_tree_view_set_search_column(m->sbview, SB_NAME);
	atk_object_set_name(gtk_widget_get_accessible(GTK_WIDGET(m->sbview)), t[2]);
	GtkWidget *h1 = gtk_label_new_with_mnemonic(t[1]);
	gtk_label_set_xalign(GTK_LABEL(h1), 0.0);
	gtk_label_set_mnemonic_widget(GTK_LABEL(h1), GTK_WIDGET(m->sbview));
	gtk_box_pack_start(GTK_BOX(box), h1, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), airlock_mgr_scrolled(m->sbview), TRUE, TRUE, 0);
	g_signal_connect(gtk_tree_view_get_selection(m->sbview), "changed", G_CALLBACK(airlock_mgr_selected), m);

	GtkWidget *row1 = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	m->add_file = airlock_mgr_button(m, row1, t[14], AIRLOCK_EV_ADD_FILE);
	m->add_folder = airlock_mgr_button(m, row1, t[15], AIRLOCK_EV_ADD_FOLDER);
	m->end = airlock_mgr_button(m, row1, t[16], AIRLOCK_EV_END);
	gtk_style_context_add_class(gtk_widget_get_style_context(m->end), "destructive-action");
	gtk_box_pack_start(GTK_BOX(box), row1, FALSE, FALSE, 0);

	// Grants of the selected sandbox.
	m->grants = gtk_list_store_new(G_NCOLS, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
	m->gview = GTK_TREE_VIEW(gtk_tree_view_new_with_model(GTK_TREE_MODEL(m->grants)));
	gtk_widget_set_name(GTK_WIDGET(m->gview), "airlock-grants");
	airlock_mgr_column(m->gview, t[11], G_PATH, PANGO_ELLIPSIZE_MIDDLE, 320);
	airlock_mgr_column(m->gview, t[12], G_ACCESS, PANGO_ELLIPSIZE_NONE, 0);
	airlock_mgr_column(m->gview, t[13], G_SINCE, PANGO_ELLIPSIZE_NONE, 0);
	gtk_tree_view_set_search_column(m->gview, G_PATH);
	atk_object_set_name(gtk_widget_get_accessible(GTK_WIDGET(m->gview)), t[10]);
	g_signal_connect(m->gview, "key-press-event", G_CALLBACK(airlock_mgr_key), m);
	GtkWidget *h2 = gtk_label_new_with_mnemonic(t[9]);
	gtk_label_set_xalign(GTK_LABEL(h2), 0.0);
	gtk_label_set_mnemonic_widget(GTK_LABEL(h2), GTK_WIDGET(m->gview));
	gtk_box_pack_start(GTK_BOX(box), h2, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), airlock_mgr_scrolled(m->gview), TRUE, TRUE, 0);

	GtkWidget *row2 = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	m->revoke = airlock_mgr_button(m, row2, t[17], AIRLOCK_EV_REVOKE);
	gtk_box_pack_start(GTK_BOX(box), row2, FALSE, FALSE, 0);

	m->status = gtk_label_new("");
	gtk_label_set_xalign(GTK_LABEL(m->status), 0.0);
	gtk_label_set_line_wrap(GTK_LABEL(m->status), TRUE);
	gtk_label_set_selectable(GTK_LABEL(m->status), TRUE);
	gtk_widget_set_can_focus(m->status, FALSE);
	gtk_box_pack_start(GTK_BOX(box), m->status, FALSE, FALSE, 0);

	if (wake_fd >= 0) {
		fcntl(wake_fd, F_SETFL, fcntl(wake_fd, F_GETFL) | O_NONBLOCK);
		g_unix_fd_add(wake_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, airlock_mgr_wake, m);
	}
	// Uptimes are shown to the minute: redrawn from what the window holds,
	// nothing is asked of the broker.
	g_timeout_add_seconds(30, airlock_mgr_tick, m);
	gtk_widget_show_all(m->window);
	gtk_widget_grab_focus(GTK_WIDGET(m->sbview));
	return m;
}

static guint airlock_mgr_wait(airlock_manager *m) {
	if (m->pending == 0)
		gtk_main();
	guint ev = m->pending;
	m->pending = 0;
	return ev;
}

static void airlock_mgr_begin(airlock_manager *m, int which) {
	m->filling++;
	gtk_list_store_clear(which == 0 ? m->sandboxes : m->grants);
}

static void airlock_mgr_add_sandbox(airlock_manager *m, char **v) {
	GtkTreeIter it;
	GdkPixbuf *swatch = NULL;
	GdkRGBA c;
	if (v[1][0] && gdk_rgba_parse(&c, v[1])) {
		swatch = gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, 28, 16);
		gdk_pixbuf_fill(swatch, ((guint32)(c.red * 255 + 0.5) << 24) | ((guint32)(c.green * 255 + 0.5) << 16) |
			((guint32)(c.blue * 255 + 0.5) << 8) | 0xff);
	}
	gtk_list_store_append(m->sandboxes, &it);
	gtk_list_store_set(m->sandboxes, &it, SB_ID, v[0], SB_COLOR, v[1][0] ? v[1] : NULL, SB_NAME, v[2], SB_PROFILE, v[3],
		SB_NET, v[4], SB_DISPLAY, v[5], SB_UPTIME, v[6], SB_SWATCH, swatch, -1);
	if (swatch != NULL)
		g_object_unref(swatch);
}

static void airlock_mgr_add_grant(airlock_manager *m, char **v) {
	GtkTreeIter it;
	gtk_list_store_append(m->grants, &it);
	gtk_list_store_set(m->grants, &it, G_DOC, v[0], G_PATH, v[1], G_ACCESS, v[2], G_SINCE, v[3], -1);
}

// airlock_mgr_select selects the row whose id is id (the first row when
// there is none) and ends the refill.
static void airlock_mgr_select(airlock_manager *m, int which, const char *id) {
	GtkTreeModel *model = GTK_TREE_MODEL(which == 0 ? m->sandboxes : m->grants);
	GtkTreeSelection *sel = gtk_tree_view_get_selection(which == 0 ? m->sbview : m->gview);
	GtkTreeIter it;
	gboolean found = FALSE;
	for (gboolean ok = gtk_tree_model_get_iter_first(model, &it); ok; ok = gtk_tree_model_iter_next(model, &it)) {
		gchar *v = NULL;
		gtk_tree_model_get(model, &it, 0, &v, -1);
		found = id != NULL && v != NULL && strcmp(v, id) == 0;
		g_free(v);
		if (found)
			break;
	}
	if (!found)
		found = gtk_tree_model_get_iter_first(model, &it);
	if (found) {
		GtkTreePath *p = gtk_tree_model_get_path(model, &it);
		// The cursor too, so that the keyboard starts from the selection.
		gtk_tree_view_set_cursor(which == 0 ? m->sbview : m->gview, p, NULL, FALSE);
		gtk_tree_selection_select_path(sel, p);
		gtk_tree_path_free(p);
	}
	m->filling--;
}

// airlock_mgr_selected_id: the id of the selected row (g_free it), or NULL.
static gchar *airlock_mgr_selected_id(airlock_manager *m, int which) {
	GtkTreeModel *model;
	GtkTreeIter it;
	if (!gtk_tree_selection_get_selected(gtk_tree_view_get_selection(which == 0 ? m->sbview : m->gview), &model, &it))
		return NULL;
	gchar *v = NULL;
	gtk_tree_model_get(model, &it, 0, &v, -1);
	return v;
}

static void airlock_mgr_sensitive(airlock_manager *m, gboolean sandbox, gboolean grant) {
	gtk_widget_set_sensitive(m->add_file, sandbox);
	gtk_widget_set_sensitive(m->add_folder, sandbox);
	gtk_widget_set_sensitive(m->end, sandbox);
	gtk_widget_set_sensitive(m->revoke, grant);
}

static void airlock_mgr_status(airlock_manager *m, const char *text) {
	gtk_label_set_text(GTK_LABEL(m->status), text);
	atk_object_set_name(gtk_widget_get_accessible(m->status), text);
}

// Trace (tests): each list as its renderers draw it, one line per row,
// the cells separated by tabs: the text each cell renderer holds once the
// row's data is set, which is what Pango lays out. The lines of one list
// are written at once, between "begin NAME" and "end NAME".
static void airlock_mgr_trace(airlock_manager *m, const char *path, int which) {
	FILE *f = fopen(path, "a");
	if (f == NULL)
		return;
	GtkTreeView *v = which == 0 ? m->sbview : m->gview;
	GtkTreeModel *model = gtk_tree_view_get_model(v);
	GString *out = g_string_new(NULL);
	g_string_append_printf(out, "begin %s\n", which == 0 ? "sandboxes" : "grants");
	GtkTreeIter it;
	for (gboolean ok = gtk_tree_model_get_iter_first(model, &it); ok; ok = gtk_tree_model_iter_next(model, &it)) {
		g_string_append(out, "row");
		int n = gtk_tree_view_get_n_columns(v);
		for (int i = 0; i < n; i++) {
			GtkTreeViewColumn *c = gtk_tree_view_get_column(v, i);
			gtk_tree_view_column_cell_set_cell_data(c, model, &it, FALSE, FALSE);
			GList *cells = gtk_cell_layout_get_cells(GTK_CELL_LAYOUT(c));
			for (GList *l = cells; l != NULL; l = l->next) {
				gchar *text = NULL, *bg = NULL;
				if (GTK_IS_CELL_RENDERER_PIXBUF(l->data)) {
					// A swatch: the colour of its first pixel.
					GdkPixbuf *pb = NULL;
					g_object_get(l->data, "pixbuf", &pb, NULL);
					if (pb != NULL) {
						const guchar *px = gdk_pixbuf_read_pixels(pb);
						bg = g_strdup_printf("#%02x%02x%02x", px[0], px[1], px[2]);
						g_object_unref(pb);
					}
				} else {
					g_object_get(l->data, "text", &text, NULL);
				}
				g_string_append_printf(out, "\t%s", bg != NULL ? bg : (text != NULL ? text : ""));
				g_free(text);
				g_free(bg);
			}
			g_list_free(cells);
		}
		g_string_append(out, "\n");
	}
	gchar *sel = airlock_mgr_selected_id(m, which);
	g_string_append_printf(out, "selected %s\nend %s\n", sel != NULL ? sel : "", which == 0 ? "sandboxes" : "grants");
	g_free(sel);
	fputs(out->str, f);
	g_string_free(out, TRUE);
	fclose(f);
}

// A question in the manager's own window; Cancel is the default, and the
// destructive button is never one key press away.
static gboolean airlock_mgr_confirm(airlock_manager *m, const char *title, const char *primary, const char *secondary,
		const char *cancel, const char *accept) {
	GtkWidget *d = gtk_message_dialog_new(GTK_WINDOW(m->window), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
		GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE, "%s", primary);
	gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d), "%s", secondary);
	gtk_dialog_add_button(GTK_DIALOG(d), cancel, GTK_RESPONSE_CANCEL);
	gtk_dialog_add_button(GTK_DIALOG(d), accept, GTK_RESPONSE_ACCEPT);
	gtk_dialog_set_default_response(GTK_DIALOG(d), GTK_RESPONSE_CANCEL);
	gtk_style_context_add_class(gtk_widget_get_style_context(
		gtk_dialog_get_widget_for_response(GTK_DIALOG(d), GTK_RESPONSE_ACCEPT)), "destructive-action");
	gtk_widget_grab_focus(gtk_dialog_get_widget_for_response(GTK_DIALOG(d), GTK_RESPONSE_CANCEL));
	gtk_window_set_role(GTK_WINDOW(d), "airlock-manager-confirm");
	gtk_window_set_title(GTK_WINDOW(d), title);
	gint r = gtk_dialog_run(GTK_DIALOG(d));
	gtk_widget_destroy(d);
	return r == GTK_RESPONSE_ACCEPT;
}

static void airlock_mgr_destroy(airlock_manager *m) {
	gtk_widget_destroy(m->window);
	while (gtk_events_pending())
		gtk_main_iteration();
}
*/
import "C"

import "unsafe"

// Events of a ManagerWindow (Wait returns several at once, or-ed).
const (
	EventClose     = C.AIRLOCK_EV_CLOSE
	EventSelect    = C.AIRLOCK_EV_SELECT
	EventAddFile   = C.AIRLOCK_EV_ADD_FILE
	EventAddFolder = C.AIRLOCK_EV_ADD_FOLDER
	EventEnd       = C.AIRLOCK_EV_END
	EventRevoke    = C.AIRLOCK_EV_REVOKE
	EventWake      = C.AIRLOCK_EV_WAKE
	EventTick      = C.AIRLOCK_EV_TICK
)

// ManagerWindow is the grant manager's window: running sandboxes above,
// the selected one's grants below.
type ManagerWindow struct{ m *C.airlock_manager }

// ManagerWords are the window's translated words; labels with _ have a
// mnemonic.
type ManagerWords struct {
	Title, Sandboxes, SandboxesName, Color, Name, Profile, Network, Display, Uptime string
	Grants, GrantsName, HostPath, Access, Since                                     string
	AddFile, AddFolder, End, Revoke                                                 string
}

// NewManagerWindow builds and shows the window. wakeFD is a pipe's read end:
// each write to it makes Wait return EventWake.
func NewManagerWindow(w ManagerWords, wakeFD int) *ManagerWindow {
	words := []string{w.Title, w.Sandboxes, w.SandboxesName, w.Color, w.Name, w.Profile, w.Network, w.Display, w.Uptime,
		w.Grants, w.GrantsName, w.HostPath, w.Access, w.Since, w.AddFile, w.AddFolder, w.End, w.Revoke}
	arr := cStrings(len(words), func(i int) string { return words[i] })
	defer freeStrings(arr, len(words))
	return &ManagerWindow{m: C.airlock_mgr_new(arr, C.int(wakeFD))}
}

// Wait runs GTK's main loop until something happens and returns what (the
// Event bits).
func (w *ManagerWindow) Wait() int { return int(C.airlock_mgr_wait(w.m)) }

// SandboxRow is one line of the sandboxes list.
type SandboxRow struct{ ID, Color, Name, Profile, Network, Display, Uptime string }

// GrantRow is one line of the grants list.
type GrantRow struct{ Doc, HostPath, Access, Since string }

func (w *ManagerWindow) addRow(which int, v []string) {
	arr := cStrings(len(v), func(i int) string { return v[i] })
	defer freeStrings(arr, len(v))
	if which == 0 {
		C.airlock_mgr_add_sandbox(w.m, arr)
	} else {
		C.airlock_mgr_add_grant(w.m, arr)
	}
}

func (w *ManagerWindow) selectID(which int, id string) {
	cid := C.CString(id)
	defer C.free(unsafe.Pointer(cid))
	C.airlock_mgr_select(w.m, C.int(which), cid)
}

// SetSandboxes replaces the sandboxes list and selects the row of id (the
// first when it is gone).
func (w *ManagerWindow) SetSandboxes(rows []SandboxRow, id string) {
	C.airlock_mgr_begin(w.m, 0)
	for _, r := range rows {
		w.addRow(0, []string{r.ID, r.Color, r.Name, r.Profile, r.Network, r.Display, r.Uptime})
	}
	w.selectID(0, id)
}

// SetGrants replaces the grants list and selects the row of doc.
func (w *ManagerWindow) SetGrants(rows []GrantRow, doc string) {
	C.airlock_mgr_begin(w.m, 1)
	for _, r := range rows {
		w.addRow(1, []string{r.Doc, r.HostPath, r.Access, r.Since})
	}
	w.selectID(1, doc)
}

func (w *ManagerWindow) selected(which int) string {
	v := C.airlock_mgr_selected_id(w.m, C.int(which))
	if v == nil {
		return ""
	}
	defer C.g_free(C.gpointer(v))
	return C.GoString(v)
}

// SelectedSandbox and SelectedGrant are the ids of the selected rows ("").
func (w *ManagerWindow) SelectedSandbox() string { return w.selected(0) }
func (w *ManagerWindow) SelectedGrant() string   { return w.selected(1) }

// SetSensitive enables the buttons that need a sandbox, and Revoke.
func (w *ManagerWindow) SetSensitive(sandbox, grant bool) {
	C.airlock_mgr_sensitive(w.m, cbool(sandbox), cbool(grant))
}

// SetStatus shows text (plain) in the status line.
func (w *ManagerWindow) SetStatus(text string) {
	ct := C.CString(text)
	defer C.free(unsafe.Pointer(ct))
	C.airlock_mgr_status(w.m, ct)
}

// Confirm asks in a modal dialog over the window; Cancel is the default.
func (w *ManagerWindow) Confirm(title, primary, secondary, cancel, accept string) bool {
	ctt := C.CString(title)
	defer C.free(unsafe.Pointer(ctt))
	cp := C.CString(primary)
	defer C.free(unsafe.Pointer(cp))
	cs := C.CString(secondary)
	defer C.free(unsafe.Pointer(cs))
	cc := C.CString(cancel)
	defer C.free(unsafe.Pointer(cc))
	ca := C.CString(accept)
	defer C.free(unsafe.Pointer(ca))
	return C.airlock_mgr_confirm(w.m, ctt, cp, cs, cc, ca) != C.FALSE
}

// Trace appends both lists, as drawn, to the file at path (tests only).
func (w *ManagerWindow) Trace(path string) {
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	C.airlock_mgr_trace(w.m, cp, 0)
	C.airlock_mgr_trace(w.m, cp, 1)
}

// Destroy closes the window.
func (w *ManagerWindow) Destroy() { C.airlock_mgr_destroy(w.m) }
