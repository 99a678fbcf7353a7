package gtk

/*
#cgo pkg-config: gtk+-3.0
#include <stdlib.h>
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

// airlock_add_header puts, above the file area, the trusted line (icon and
// bold text) and under it the application's own words, dimmed.
static void airlock_add_header(GtkWidget *dialog, const char *icon, const char *text,
		const char *secondary, const char *secondary_name) {
	GtkWidget *area = gtk_dialog_get_content_area(GTK_DIALOG(dialog));
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
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

	if (secondary != NULL && secondary[0] != '\0') {
		// Plain text, never markup: the words are the application's.
		GtkWidget *label = gtk_label_new(secondary);
		gtk_label_set_xalign(GTK_LABEL(label), 0.0);
		gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
		gtk_label_set_single_line_mode(GTK_LABEL(label), TRUE);
		gtk_style_context_add_class(gtk_widget_get_style_context(label), "dim-label");
		gtk_box_pack_start(GTK_BOX(box), label, FALSE, FALSE, 0);
		AtkObject *acc = gtk_widget_get_accessible(label);
		atk_object_set_name(acc, secondary_name);
		atk_object_set_description(acc, secondary);
	}
	gtk_widget_show_all(box);
	gtk_box_pack_start(GTK_BOX(area), box, FALSE, FALSE, 0);
	gtk_box_reorder_child(GTK_BOX(area), box, 0);
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
		const char *cancel, const char *accept) {
	GtkWidget *d = gtk_message_dialog_new(parent, GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
		GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE, "%s", primary);
	gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d), "%s", secondary);
	gtk_dialog_add_button(GTK_DIALOG(d), cancel, GTK_RESPONSE_CANCEL);
	gtk_dialog_add_button(GTK_DIALOG(d), accept, GTK_RESPONSE_ACCEPT);
	gtk_dialog_set_default_response(GTK_DIALOG(d), GTK_RESPONSE_ACCEPT);
	gtk_window_set_keep_above(GTK_WINDOW(d), TRUE);
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
	w *C.GtkWidget
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

// AddHeader shows, above the file area, an icon and the trusted text in
// bold, then the secondary text (may be empty) as plain, dimmed text with the
// accessible name secondaryName.
func (d *FileChooserDialog) AddHeader(icon, text, secondary, secondaryName string) {
	ci := C.CString(icon)
	defer C.free(unsafe.Pointer(ci))
	ct := C.CString(text)
	defer C.free(unsafe.Pointer(ct))
	cs := C.CString(secondary)
	defer C.free(unsafe.Pointer(cs))
	cn := C.CString(secondaryName)
	defer C.free(unsafe.Pointer(cn))
	C.airlock_add_header(d.w, ci, ct, cs, cn)
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

// AddChoice adds a combo box of options (id, label), or a check box when
// options is empty, and selects def when it is not empty.
func (d *FileChooserDialog) AddChoice(id, label string, options [][2]string, def string) {
	cid := C.CString(id)
	defer C.free(unsafe.Pointer(cid))
	cl := C.CString(label)
	defer C.free(unsafe.Pointer(cl))
	if len(options) == 0 {
		C.gtk_file_chooser_add_choice(d.chooser(), cid, cl, nil, nil)
	} else {
		ids := cStrings(len(options), func(i int) string { return options[i][0] })
		defer freeStrings(ids, len(options))
		labels := cStrings(len(options), func(i int) string { return options[i][1] })
		defer freeStrings(labels, len(options))
		C.gtk_file_chooser_add_choice(d.chooser(), cid, cl, ids, labels)
	}
	if def != "" {
		cd := C.CString(def)
		defer C.free(unsafe.Pointer(cd))
		C.gtk_file_chooser_set_choice(d.chooser(), cid, cd)
	}
}

// Choice is the value of the choice id: an option id, or "true"/"false".
func (d *FileChooserDialog) Choice(id string) string {
	cid := C.CString(id)
	defer C.free(unsafe.Pointer(cid))
	v := C.gtk_file_chooser_get_choice(d.chooser(), cid) // transfer none
	if v == nil {
		return ""
	}
	return C.GoString(v)
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
// reports whether the user chose accept.
func (d *FileChooserDialog) Confirm(primary, secondary, cancel, accept string) bool {
	cp := C.CString(primary)
	defer C.free(unsafe.Pointer(cp))
	cs := C.CString(secondary)
	defer C.free(unsafe.Pointer(cs))
	cc := C.CString(cancel)
	defer C.free(unsafe.Pointer(cc))
	ca := C.CString(accept)
	defer C.free(unsafe.Pointer(ca))
	return C.airlock_confirm(d.window(), cp, cs, cc, ca) != C.FALSE
}
