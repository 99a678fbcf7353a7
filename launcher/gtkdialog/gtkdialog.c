/*
 * libairlock-gtkdialog.so: loaded with LD_PRELOAD into applications inside an
 * Airlock sandbox, it routes GTK 3's own file dialog (GtkFileChooserDialog)
 * to the file chooser portal, so that Airlock's chooser on the host opens
 * instead of a dialog listing the sandbox's empty home.
 *
 * Why: gedit 44 (gedit-file-chooser.c: "_gedit_file_chooser_is_native ()
 * returns FALSE"), LibreOffice 7.4's gtk3 plugin (SalGtkFilePicker) and many
 * other GTK 3 applications create a GtkFileChooserDialog themselves and never
 * use GtkFileChooserNative, the only GTK 3 API that reaches the portal.
 *
 * How: when the application shows such a dialog (gtk_window_present,
 * gtk_widget_show[_all], gtk_widget_set_visible, gtk_dialog_run), this
 * library keeps it hidden, creates a GtkFileChooserNative with the dialog's
 * action, title, parent, name, folder, filters and selection mode, and shows
 * that instead (with GTK_USE_PORTAL=1, set by the launcher, it calls
 * org.freedesktop.portal.FileChooser). On the portal's answer, the files
 * picked are kept on the dialog, the filter picked is set on it, and the
 * dialog emits "response" with its own accept (or cancel) response id, as
 * if the user had used it. The dialog's file getters
 * (gtk_file_chooser_get_file[s], _uri[s], _filename[s], _current_folder*)
 * answer with the portal's files. Only calls from the application are seen:
 * libgtk-3 is linked -Bsymbolic, its own calls stay inside it.
 *
 * The library links nothing but libc: every GTK and GLib function is looked
 * up at run time, and nothing happens unless the process has GTK 3 loaded.
 * A GTK 4 process (same symbol names, different library) and non-GTK
 * processes (the shell scripts that start LibreOffice or Firefox) pass
 * straight through to the next definition.
 *
 * This is a convenience for the application, not a security boundary: the
 * code runs inside the sandbox, which the application controls anyway. It
 * only decides which dialog the application shows.
 *
 * Built by tests/lib.sh (build_airlock), tests/harness and meson.build:
 *   gcc -shared -fPIC -O2 $(pkg-config --cflags gtk+-3.0) -Wl,-z,defs
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <gtk/gtk.h>

/* Every function of GTK and GLib used here, looked up once. */
#define FUNCS(X)                                                             \
	X(guint, gtk_get_major_version, (void))                                \
	X(GType, g_type_from_name, (const gchar *))                            \
	X(gboolean, g_type_check_instance_is_a, (GTypeInstance *, GType))      \
	X(gpointer, g_object_get_data, (GObject *, const gchar *))             \
	X(void, g_object_set_data_full, (GObject *, const gchar *, gpointer, GDestroyNotify)) \
	X(gpointer, g_object_ref, (gpointer))                                  \
	X(void, g_object_unref, (gpointer))                                    \
	X(void, g_slist_free_full, (GSList *, GDestroyNotify))                 \
	X(GSList *, g_slist_copy_deep, (GSList *, GCopyFunc, gpointer))        \
	X(GSList *, g_slist_prepend, (GSList *, gpointer))                     \
	X(GSList *, g_slist_reverse, (GSList *))                               \
	X(void, g_slist_free, (GSList *))                                      \
	X(gchar *, g_file_get_uri, (GFile *))                                  \
	X(gchar *, g_file_get_path, (GFile *))                                 \
	X(GFile *, g_file_get_parent, (GFile *))                               \
	X(void, g_free, (gpointer))                                            \
	X(const gchar *, g_getenv, (const gchar *))                            \
	X(gulong, g_signal_connect_data, (gpointer, const gchar *, GCallback, gpointer, GClosureNotify, GConnectFlags)) \
	X(void, g_signal_handler_disconnect, (gpointer, gulong))               \
	X(gboolean, g_signal_handler_is_connected, (gpointer, gulong))         \
	X(GMainLoop *, g_main_loop_new, (GMainContext *, gboolean))            \
	X(void, g_main_loop_run, (GMainLoop *))                                \
	X(void, g_main_loop_quit, (GMainLoop *))                               \
	X(gboolean, g_main_loop_is_running, (GMainLoop *))                     \
	X(void, g_main_loop_unref, (GMainLoop *))                              \
	X(void, g_log, (const gchar *, GLogLevelFlags, const gchar *, ...))    \
	X(void, gdk_threads_enter, (void))                                     \
	X(void, gdk_threads_leave, (void))                                     \
	X(GtkFileChooserNative *, gtk_file_chooser_native_new, (const gchar *, GtkWindow *, GtkFileChooserAction, const gchar *, const gchar *)) \
	X(void, gtk_native_dialog_show, (GtkNativeDialog *))                   \
	X(void, gtk_native_dialog_set_modal, (GtkNativeDialog *, gboolean))    \
	X(GtkFileChooserAction, gtk_file_chooser_get_action, (GtkFileChooser *)) \
	X(gboolean, gtk_file_chooser_get_select_multiple, (GtkFileChooser *))  \
	X(void, gtk_file_chooser_set_select_multiple, (GtkFileChooser *, gboolean)) \
	X(gboolean, gtk_file_chooser_get_do_overwrite_confirmation, (GtkFileChooser *)) \
	X(void, gtk_file_chooser_set_do_overwrite_confirmation, (GtkFileChooser *, gboolean)) \
	X(gboolean, gtk_file_chooser_get_create_folders, (GtkFileChooser *))   \
	X(void, gtk_file_chooser_set_create_folders, (GtkFileChooser *, gboolean)) \
	X(gchar *, gtk_file_chooser_get_current_name, (GtkFileChooser *))      \
	X(GSList *, gtk_file_chooser_list_filters, (GtkFileChooser *))         \
	X(void, gtk_file_chooser_add_filter, (GtkFileChooser *, GtkFileFilter *)) \
	X(GtkFileFilter *, gtk_file_chooser_get_filter, (GtkFileChooser *))    \
	X(gboolean, gtk_file_chooser_select_file, (GtkFileChooser *, GFile *, GError **)) \
	X(GFile *, g_file_new_for_path, (const char *))                        \
	X(GFile *, g_file_new_for_uri, (const char *))                         \
	X(gchar *, g_strdup, (const gchar *))                                  \
	X(void, gtk_file_chooser_set_filter, (GtkFileChooser *, GtkFileFilter *)) \
	X(const gchar *, gtk_window_get_title, (GtkWindow *))                  \
	X(GtkWindow *, gtk_window_get_transient_for, (GtkWindow *))            \
	X(GtkWidget *, gtk_dialog_get_widget_for_response, (GtkDialog *, gint)) \
	X(void, gtk_dialog_response, (GtkDialog *, gint))                      \
	X(GType, gtk_dialog_get_type, (void))                                  \
	X(guint, g_signal_lookup, (const gchar *, GType))                      \
	X(gulong, g_signal_handler_find, (gpointer, GSignalMatchType, guint, GQuark, GClosure *, gpointer, gpointer)) \
	X(void, g_signal_handler_block, (gpointer, gulong))                    \
	X(void, g_signal_handler_unblock, (gpointer, gulong))                  \
	X(GType, gtk_button_get_type, (void))                                  \
	X(const gchar *, gtk_button_get_label, (GtkButton *))

#define DECLARE(ret, name, args) static ret(*p_##name) args;
FUNCS(DECLARE)

/* The next definitions of the functions this library replaces. */
#define REPLACED(X)                                                          \
	X(void, gtk_window_present, (GtkWindow *))                             \
	X(void, gtk_window_present_with_time, (GtkWindow *, guint32))          \
	X(void, gtk_widget_show, (GtkWidget *))                                \
	X(void, gtk_widget_show_all, (GtkWidget *))                            \
	X(void, gtk_widget_set_visible, (GtkWidget *, gboolean))               \
	X(gint, gtk_dialog_run, (GtkDialog *))                                 \
	X(GFile *, gtk_file_chooser_get_file, (GtkFileChooser *))              \
	X(GSList *, gtk_file_chooser_get_files, (GtkFileChooser *))            \
	X(gchar *, gtk_file_chooser_get_uri, (GtkFileChooser *))               \
	X(GSList *, gtk_file_chooser_get_uris, (GtkFileChooser *))             \
	X(gchar *, gtk_file_chooser_get_filename, (GtkFileChooser *))          \
	X(GSList *, gtk_file_chooser_get_filenames, (GtkFileChooser *))        \
	X(GFile *, gtk_file_chooser_get_current_folder_file, (GtkFileChooser *)) \
	X(gchar *, gtk_file_chooser_get_current_folder, (GtkFileChooser *))    \
	X(gchar *, gtk_file_chooser_get_current_folder_uri, (GtkFileChooser *)) \
	X(gboolean, gtk_file_chooser_set_file, (GtkFileChooser *, GFile *, GError **)) \
	X(gboolean, gtk_file_chooser_set_filename, (GtkFileChooser *, const char *)) \
	X(gboolean, gtk_file_chooser_set_uri, (GtkFileChooser *, const char *)) \
	X(void, gtk_file_chooser_set_current_name, (GtkFileChooser *, const gchar *)) \
	X(gboolean, gtk_file_chooser_set_current_folder, (GtkFileChooser *, const gchar *)) \
	X(gboolean, gtk_file_chooser_set_current_folder_uri, (GtkFileChooser *, const gchar *)) \
	X(gboolean, gtk_file_chooser_set_current_folder_file, (GtkFileChooser *, GFile *, GError **))

#define DECLARE_NEXT(ret, name, args) static ret(*next_##name) args;
REPLACED(DECLARE_NEXT)

/* ready: 0 not looked up yet, 1 GTK 3 with every function, -1 anything else
 * (no GTK yet is not final: a program may load GTK later, so it is looked up
 * again until GTK is there). */
static int ready;
static GType chooser_dialog_type;


static void lookup_next(void)
{
#define LOOKUP_NEXT(ret, name, args) \
	if (!next_##name) next_##name = (ret(*) args)dlsym(RTLD_NEXT, #name);
	REPLACED(LOOKUP_NEXT)
}

static int gtk3(void)
{
	if (ready != 0)
		return ready > 0;
	void *major = dlsym(RTLD_DEFAULT, "gtk_get_major_version");
	if (!major)
		return 0; /* no GTK (yet) */
	int ok = 1;
#define LOOKUP(ret, name, args) \
	p_##name = (ret(*) args)dlsym(RTLD_DEFAULT, #name); \
	if (!p_##name) ok = 0;
	FUNCS(LOOKUP)
	if (!ok || p_gtk_get_major_version() != 3) {
		ready = -1;
		return 0;
	}
	ready = 1;
	return 1;
}

static int disabled(void)
{
	const char *v = p_g_getenv("AIRLOCK_GTK_DIALOG");
	return v && strcmp(v, "app") == 0;
}

static int is_chooser_dialog(gpointer w)
{
	if (!w || !gtk3())
		return 0;
	if (!chooser_dialog_type) {
		/* Not registered yet: no such dialog exists. */
		chooser_dialog_type = p_g_type_from_name("GtkFileChooserDialog");
		if (!chooser_dialog_type)
			return 0;
	}
	return p_g_type_check_instance_is_a((GTypeInstance *)w, chooser_dialog_type);
}

/* Debug messages: G_MESSAGES_DEBUG=airlock-gtkdialog shows them. */
#define debug(...) p_g_log("airlock-gtkdialog", G_LOG_LEVEL_DEBUG, __VA_ARGS__)

#define KEY_FILES "airlock-portal-files"
/* What the application asked the dialog to show: GTK's own dialog applies
 * a file or folder only once the folder is loaded, which a dialog never
 * shown has not done when the portal is asked. */
#define KEY_ASKED_FILE "airlock-asked-file"
#define KEY_ASKED_NAME "airlock-asked-name"
#define KEY_ASKED_FOLDER "airlock-asked-folder"
#define KEY_STATE "airlock-portal-state"

/* What the dialog's buttons answer: the first of the ids the application
 * gave a button, in the order GTK's own dialog looks for them. */
static gint accept_id(GtkDialog *d)
{
	static const gint ids[] = {GTK_RESPONSE_ACCEPT, GTK_RESPONSE_OK, GTK_RESPONSE_YES, GTK_RESPONSE_APPLY};
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
		if (p_gtk_dialog_get_widget_for_response(d, ids[i]))
			return ids[i];
	return GTK_RESPONSE_ACCEPT;
}

static gint cancel_id(GtkDialog *d)
{
	static const gint ids[] = {GTK_RESPONSE_CANCEL, GTK_RESPONSE_CLOSE, GTK_RESPONSE_NO, GTK_RESPONSE_REJECT};
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
		if (p_gtk_dialog_get_widget_for_response(d, ids[i]))
			return ids[i];
	return GTK_RESPONSE_DELETE_EVENT;
}

/* The label of the dialog's accept button, for the portal's accept_label. */
static const gchar *accept_label(GtkDialog *d)
{
	GtkWidget *b = p_gtk_dialog_get_widget_for_response(d, accept_id(d));
	if (b && p_g_type_check_instance_is_a((GTypeInstance *)b, p_gtk_button_get_type()))
		return p_gtk_button_get_label((GtkButton *)b);
	return NULL;
}

/* A request in flight for one dialog. */
struct request {
	GtkDialog *dialog; /* a reference */
	GtkFileChooserNative *native;
};

static gpointer ref_copy(gconstpointer src, gpointer data)
{
	(void)data;
	return p_g_object_ref((gpointer)src);
}

static void free_files(gpointer files)
{
	p_g_slist_free_full(files, p_g_object_unref);
}

/* respond makes the dialog answer id as if the user had clicked its button.
 * GtkFileChooserDialog's own "response" handler (response_cb in
 * gtkfilechooserdialog.c) stops an accept response unless its file list
 * has a selection or its name entry a name, which a dialog never shown does
 * not have: it is blocked for this one emission. GTK 3.24 connects it from
 * the dialog's template (gtkfilechooserdialog.ui), and a template's handlers
 * get the dialog itself as user data (gtk_widget_init_template): it is the
 * first "response" handler with that data, connected when the dialog was
 * made, before the application could connect any. */
static void respond(GtkDialog *d, gint id)
{
	guint sig = p_g_signal_lookup("response", p_gtk_dialog_get_type());
	gulong own = 0;
	if (id != GTK_RESPONSE_CANCEL && id != GTK_RESPONSE_CLOSE && id != GTK_RESPONSE_NO &&
	    id != GTK_RESPONSE_REJECT && id != GTK_RESPONSE_DELETE_EVENT)
		own = p_g_signal_handler_find(d, G_SIGNAL_MATCH_ID | G_SIGNAL_MATCH_DATA, sig, 0, NULL, NULL, d);
	p_g_object_ref(d);
	if (own)
		p_g_signal_handler_block(d, own);
	p_gtk_dialog_response(d, id);
	if (own && p_g_signal_handler_is_connected(d, own))
		p_g_signal_handler_unblock(d, own);
	p_g_object_unref(d);
}

static void native_response(GtkNativeDialog *native, gint response, gpointer data)
{
	struct request *r = data;
	GtkFileChooser *nc = (GtkFileChooser *)native;
	GtkFileChooser *dc = (GtkFileChooser *)r->dialog;
	gint id;

	p_g_object_set_data_full((GObject *)r->dialog, KEY_STATE, NULL, NULL);
	if (response == GTK_RESPONSE_ACCEPT) {
		GSList *files = next_gtk_file_chooser_get_files(nc);
		p_g_object_set_data_full((GObject *)r->dialog, KEY_FILES, files, free_files);
		GtkFileFilter *f = p_gtk_file_chooser_get_filter(nc);
		if (f && f != p_gtk_file_chooser_get_filter(dc))
			p_gtk_file_chooser_set_filter(dc, f);
		id = accept_id(r->dialog);
	} else {
		id = cancel_id(r->dialog);
	}
	debug("portal answered %d: dialog %p responds %d", response, (void *)r->dialog, id);
	/* The native dialog is done with: drop it before the application's
	 * handlers run (they usually destroy the dialog). */
	p_g_object_unref(r->native);
	GtkDialog *d = r->dialog;
	free(r);
	respond(d, id);
	p_g_object_unref(d);
}

/* start shows the portal's dialog for d. It returns 0 when it did not (the
 * application's dialog is then shown as it asked). */
static int start(GtkDialog *d)
{
	GtkFileChooser *dc = (GtkFileChooser *)d;
	GtkWindow *w = (GtkWindow *)d;

	if (disabled())
		return 0;
	if (p_g_object_get_data((GObject *)d, KEY_STATE))
		return 1; /* already asked: a second present while waiting */
	p_g_object_set_data_full((GObject *)d, KEY_FILES, NULL, NULL);

	GtkFileChooserAction action = p_gtk_file_chooser_get_action(dc);
	GtkFileChooserNative *n = p_gtk_file_chooser_native_new(
		p_gtk_window_get_title(w), p_gtk_window_get_transient_for(w), action,
		accept_label(d), NULL);
	if (!n)
		return 0;
	GtkFileChooser *nc = (GtkFileChooser *)n;
	/* Modal, as gtk_dialog_run makes any dialog: GTK's portal dialog then
	 * holds a grab, so that the application takes no input (a second
	 * Ctrl+O) until the user answers. */
	p_gtk_native_dialog_set_modal((GtkNativeDialog *)n, TRUE);
	p_gtk_file_chooser_set_select_multiple(nc, p_gtk_file_chooser_get_select_multiple(dc));
	p_gtk_file_chooser_set_do_overwrite_confirmation(nc, p_gtk_file_chooser_get_do_overwrite_confirmation(dc));
	p_gtk_file_chooser_set_create_folders(nc, p_gtk_file_chooser_get_create_folders(dc));

	GSList *filters = p_gtk_file_chooser_list_filters(dc);
	for (GSList *l = filters; l; l = l->next)
		p_gtk_file_chooser_add_filter(nc, l->data);
	p_g_slist_free(filters);
	GtkFileFilter *f = p_gtk_file_chooser_get_filter(dc);
	if (f)
		p_gtk_file_chooser_set_filter(nc, f);

	/* What the application suggests are paths inside the sandbox: the
	 * portal maps a file or folder the sandbox was granted to the host's,
	 * and keeps no more than a file's name otherwise. */
	GFile *file = p_g_object_get_data((GObject *)d, KEY_ASKED_FILE);
	const gchar *asked_name = p_g_object_get_data((GObject *)d, KEY_ASKED_NAME);
	GFile *asked_folder = p_g_object_get_data((GObject *)d, KEY_ASKED_FOLDER);
	if (action == GTK_FILE_CHOOSER_ACTION_SAVE && file) {
		/* GtkFileChooserNative sends it as current_file. */
		p_gtk_file_chooser_select_file(nc, file, NULL);
	} else {
		GFile *folder = asked_folder ? p_g_object_ref(asked_folder) : next_gtk_file_chooser_get_current_folder_file(dc);
		if (folder) {
			next_gtk_file_chooser_set_current_folder_file(nc, folder, NULL);
			p_g_object_unref(folder);
		}
		if (action == GTK_FILE_CHOOSER_ACTION_SAVE) {
			gchar *name = asked_name ? p_g_strdup(asked_name) : p_gtk_file_chooser_get_current_name(dc);
			if (name && *name)
				next_gtk_file_chooser_set_current_name(nc, name);
			p_g_free(name);
		}
	}

	struct request *r = calloc(1, sizeof *r);
	if (!r) {
		p_g_object_unref(n);
		return 0;
	}
	r->dialog = p_g_object_ref(d);
	r->native = n;
	p_g_object_set_data_full((GObject *)d, KEY_STATE, r, NULL);
	p_g_signal_connect_data(n, "response", (GCallback)native_response, r, NULL, 0);
	debug("dialog %p (action %d) shown through the portal", (void *)d, (int)action);
	p_gtk_native_dialog_show((GtkNativeDialog *)n);
	return 1;
}

/* intercept: whether w is a file dialog of the application's that the
 * portal now shows instead. */
static int intercept(gpointer w)
{
	lookup_next();
	return is_chooser_dialog(w) && start((GtkDialog *)w);
}

void gtk_window_present(GtkWindow *w)
{
	if (!intercept(w))
		next_gtk_window_present(w);
}

void gtk_window_present_with_time(GtkWindow *w, guint32 t)
{
	if (!intercept(w))
		next_gtk_window_present_with_time(w, t);
}

void gtk_widget_show(GtkWidget *w)
{
	if (!intercept(w))
		next_gtk_widget_show(w);
}

void gtk_widget_show_all(GtkWidget *w)
{
	if (!intercept(w))
		next_gtk_widget_show_all(w);
}

void gtk_widget_set_visible(GtkWidget *w, gboolean visible)
{
	if (!visible || !intercept(w))
		next_gtk_widget_set_visible(w, visible);
}

/* gtk_dialog_run, for a dialog the portal shows: wait in a nested main loop
 * for its response, as GTK's own gtk_dialog_run does (releasing the GDK
 * lock meanwhile: LibreOffice's gtk3 plugin installs its own). */
struct run {
	GMainLoop *loop;
	gint id;
};

static void run_response(GtkDialog *d, gint id, gpointer data)
{
	(void)d;
	struct run *r = data;
	r->id = id;
	if (p_g_main_loop_is_running(r->loop))
		p_g_main_loop_quit(r->loop);
}

static void run_destroy(GtkWidget *w, gpointer data)
{
	(void)w;
	struct run *r = data;
	if (p_g_main_loop_is_running(r->loop))
		p_g_main_loop_quit(r->loop);
}

gint gtk_dialog_run(GtkDialog *d)
{
	lookup_next();
	if (!is_chooser_dialog(d) || disabled())
		return next_gtk_dialog_run(d);
	struct run r = {p_g_main_loop_new(NULL, FALSE), GTK_RESPONSE_NONE};
	p_g_object_ref(d);
	gulong on_response = p_g_signal_connect_data(d, "response", (GCallback)run_response, &r, NULL, 0);
	gulong on_destroy = p_g_signal_connect_data(d, "destroy", (GCallback)run_destroy, &r, NULL, 0);
	if (!start(d)) {
		p_g_signal_handler_disconnect(d, on_response);
		p_g_signal_handler_disconnect(d, on_destroy);
		p_g_main_loop_unref(r.loop);
		p_g_object_unref(d);
		return next_gtk_dialog_run(d);
	}
	if (p_g_object_get_data((GObject *)d, KEY_STATE)) {
		p_gdk_threads_leave();
		p_g_main_loop_run(r.loop);
		p_gdk_threads_enter();
	}
	if (p_g_signal_handler_is_connected(d, on_response))
		p_g_signal_handler_disconnect(d, on_response);
	if (p_g_signal_handler_is_connected(d, on_destroy))
		p_g_signal_handler_disconnect(d, on_destroy);
	p_g_main_loop_unref(r.loop);
	p_g_object_unref(d);
	return r.id;
}

/* The getters: the portal's files for a dialog it answered, GTK's
 * otherwise. */
static GSList *portal_files(GtkFileChooser *c, int *answered)
{
	*answered = 0;
	if (!is_chooser_dialog(c))
		return NULL;
	GSList *files = p_g_object_get_data((GObject *)c, KEY_FILES);
	*answered = files != NULL;
	debug("files of dialog %p asked: %s", (void *)c, *answered ? "the portal's" : "GTK's");
	return files;
}

GSList *gtk_file_chooser_get_files(GtkFileChooser *c)
{
	int ok;
	lookup_next();
	GSList *files = portal_files(c, &ok);
	if (!ok)
		return next_gtk_file_chooser_get_files(c);
	return p_g_slist_copy_deep(files, ref_copy, NULL);
}

GFile *gtk_file_chooser_get_file(GtkFileChooser *c)
{
	int ok;
	lookup_next();
	GSList *files = portal_files(c, &ok);
	if (!ok)
		return next_gtk_file_chooser_get_file(c);
	return p_g_object_ref(files->data);
}

typedef gchar *(*file_string)(GFile *);

static GSList *strings(GSList *files, file_string f)
{
	GSList *out = NULL;
	for (GSList *l = files; l; l = l->next) {
		gchar *s = f(l->data);
		if (s)
			out = p_g_slist_prepend(out, s);
	}
	return p_g_slist_reverse(out);
}

GSList *gtk_file_chooser_get_uris(GtkFileChooser *c)
{
	int ok;
	lookup_next();
	GSList *files = portal_files(c, &ok);
	return ok ? strings(files, p_g_file_get_uri) : next_gtk_file_chooser_get_uris(c);
}

gchar *gtk_file_chooser_get_uri(GtkFileChooser *c)
{
	int ok;
	lookup_next();
	GSList *files = portal_files(c, &ok);
	return ok ? p_g_file_get_uri(files->data) : next_gtk_file_chooser_get_uri(c);
}

GSList *gtk_file_chooser_get_filenames(GtkFileChooser *c)
{
	int ok;
	lookup_next();
	GSList *files = portal_files(c, &ok);
	return ok ? strings(files, p_g_file_get_path) : next_gtk_file_chooser_get_filenames(c);
}

gchar *gtk_file_chooser_get_filename(GtkFileChooser *c)
{
	int ok;
	lookup_next();
	GSList *files = portal_files(c, &ok);
	return ok ? p_g_file_get_path(files->data) : next_gtk_file_chooser_get_filename(c);
}

/* The current folder of an answered dialog is the folder of its first file
 * (where GTK's dialog would have been when the user accepted). */
static GFile *portal_folder(GtkFileChooser *c, int *answered)
{
	GSList *files = portal_files(c, answered);
	return *answered ? p_g_file_get_parent(files->data) : NULL;
}

GFile *gtk_file_chooser_get_current_folder_file(GtkFileChooser *c)
{
	int ok;
	lookup_next();
	GFile *f = portal_folder(c, &ok);
	return ok ? f : next_gtk_file_chooser_get_current_folder_file(c);
}

gchar *gtk_file_chooser_get_current_folder(GtkFileChooser *c)
{
	int ok;
	lookup_next();
	GFile *f = portal_folder(c, &ok);
	if (!ok)
		return next_gtk_file_chooser_get_current_folder(c);
	gchar *s = f ? p_g_file_get_path(f) : NULL;
	if (f)
		p_g_object_unref(f);
	return s;
}

gchar *gtk_file_chooser_get_current_folder_uri(GtkFileChooser *c)
{
	int ok;
	lookup_next();
	GFile *f = portal_folder(c, &ok);
	if (!ok)
		return next_gtk_file_chooser_get_current_folder_uri(c);
	gchar *s = f ? p_g_file_get_uri(f) : NULL;
	if (f)
		p_g_object_unref(f);
	return s;
}

/* The setters: GTK's, and what was asked is kept for the portal. */
static void asked(GtkFileChooser *c, GFile *file, const gchar *name, GFile *folder)
{
	if (!is_chooser_dialog(c))
		return;
	p_g_object_set_data_full((GObject *)c, KEY_ASKED_FILE, file ? p_g_object_ref(file) : NULL, file ? p_g_object_unref : NULL);
	if (file || name)
		p_g_object_set_data_full((GObject *)c, KEY_ASKED_NAME, name ? p_g_strdup(name) : NULL, name ? p_g_free : NULL);
	if (folder)
		p_g_object_set_data_full((GObject *)c, KEY_ASKED_FOLDER, p_g_object_ref(folder), p_g_object_unref);
}

static void asked_file(GtkFileChooser *c, GFile *f)
{
	if (!f)
		return;
	GFile *parent = p_g_file_get_parent(f);
	asked(c, f, NULL, parent);
	if (parent)
		p_g_object_unref(parent);
}

gboolean gtk_file_chooser_set_file(GtkFileChooser *c, GFile *f, GError **error)
{
	lookup_next();
	asked_file(c, f);
	return next_gtk_file_chooser_set_file(c, f, error);
}

gboolean gtk_file_chooser_set_filename(GtkFileChooser *c, const char *path)
{
	lookup_next();
	if (path && is_chooser_dialog(c)) {
		GFile *f = p_g_file_new_for_path(path);
		asked_file(c, f);
		p_g_object_unref(f);
	}
	return next_gtk_file_chooser_set_filename(c, path);
}

gboolean gtk_file_chooser_set_uri(GtkFileChooser *c, const char *uri)
{
	lookup_next();
	if (uri && is_chooser_dialog(c)) {
		GFile *f = p_g_file_new_for_uri(uri);
		asked_file(c, f);
		p_g_object_unref(f);
	}
	return next_gtk_file_chooser_set_uri(c, uri);
}

void gtk_file_chooser_set_current_name(GtkFileChooser *c, const gchar *name)
{
	lookup_next();
	asked(c, NULL, name, NULL);
	next_gtk_file_chooser_set_current_name(c, name);
}

gboolean gtk_file_chooser_set_current_folder_file(GtkFileChooser *c, GFile *f, GError **error)
{
	lookup_next();
	if (f)
		asked(c, NULL, NULL, f);
	return next_gtk_file_chooser_set_current_folder_file(c, f, error);
}

gboolean gtk_file_chooser_set_current_folder(GtkFileChooser *c, const gchar *path)
{
	lookup_next();
	if (path && is_chooser_dialog(c)) {
		GFile *f = p_g_file_new_for_path(path);
		asked(c, NULL, NULL, f);
		p_g_object_unref(f);
	}
	return next_gtk_file_chooser_set_current_folder(c, path);
}

gboolean gtk_file_chooser_set_current_folder_uri(GtkFileChooser *c, const gchar *uri)
{
	lookup_next();
	if (uri && is_chooser_dialog(c)) {
		GFile *f = p_g_file_new_for_uri(uri);
		asked(c, NULL, NULL, f);
		p_g_object_unref(f);
	}
	return next_gtk_file_chooser_set_current_folder_uri(c, uri);
}
