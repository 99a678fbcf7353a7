package gtk

/*
#cgo pkg-config: gtk+-3.0
#include <stdlib.h>
#include <gtk/gtk.h>

#define AIRLOCK_Q_YES 1
#define AIRLOCK_Q_NO 2
#define AIRLOCK_Q_TIMEOUT 4202

// gtk_message_dialog_new and its secondary text are printf-like: the
// strings are arguments, never the format, and never markup.
static GtkWidget *airlock_question_new(const char *title, const char *icon, const char *role,
		const char *primary, const char *secondary, const char *no, const char *yes, int default_yes) {
	GtkWidget *d = gtk_message_dialog_new(NULL, 0, GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE, "%s", primary);
	gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d), "%s", secondary);
	gtk_window_set_title(GTK_WINDOW(d), title);
	gtk_window_set_icon_name(GTK_WINDOW(d), icon);
	gtk_window_set_role(GTK_WINDOW(d), role);
	gtk_window_set_keep_above(GTK_WINDOW(d), TRUE);
	gtk_window_set_position(GTK_WINDOW(d), GTK_WIN_POS_CENTER);
	gtk_dialog_add_button(GTK_DIALOG(d), no, AIRLOCK_Q_NO);
	gtk_dialog_add_button(GTK_DIALOG(d), yes, AIRLOCK_Q_YES);
	gtk_dialog_set_default_response(GTK_DIALOG(d), default_yes ? AIRLOCK_Q_YES : AIRLOCK_Q_NO);
	atk_object_set_name(gtk_widget_get_accessible(d), title);
	return d;
}

static gboolean airlock_question_timeout_cb(gpointer data) {
	gtk_dialog_response(GTK_DIALOG(data), AIRLOCK_Q_TIMEOUT);
	return G_SOURCE_REMOVE;
}

static int airlock_question_run(GtkWidget *d, guint seconds) {
	guint src = 0;
	if (seconds > 0)
		src = g_timeout_add_seconds(seconds, airlock_question_timeout_cb, d);
	gtk_window_present(GTK_WINDOW(d));
	int r = gtk_dialog_run(GTK_DIALOG(d));
	if (src != 0 && r != AIRLOCK_Q_TIMEOUT)
		g_source_remove(src);
	return r;
}
*/
import "C"

import "unsafe"

// Answer is how a Question ended.
type Answer int

const (
	AnswerYes     Answer = iota
	AnswerNo             // the "no" button
	AnswerClosed         // Escape, or closed by the window manager
	AnswerTimeout        // the timer ran out
)

// Question is a message dialog with two buttons of Airlock's own words,
// "yes" being the default. Everything shown is plain text (never markup).
type Question struct {
	w *C.GtkWidget
}

// NewQuestion builds the dialog; role is its WM_WINDOW_ROLE.
func NewQuestion(title, icon, role, primary, secondary, no, yes string) *Question {
	return newQuestion(title, icon, role, primary, secondary, no, yes, true)
}

// NewCautiousQuestion is NewQuestion with "no" as the default: Return
// pressed by a user still typing in the application when the question
// appears answers no.
func NewCautiousQuestion(title, icon, role, primary, secondary, no, yes string) *Question {
	return newQuestion(title, icon, role, primary, secondary, no, yes, false)
}

func newQuestion(title, icon, role, primary, secondary, no, yes string, defaultYes bool) *Question {
	dy := C.int(0)
	if defaultYes {
		dy = 1
	}
	cs := make([]*C.char, 7)
	for i, s := range []string{title, icon, role, primary, secondary, no, yes} {
		cs[i] = C.CString(s)
		defer C.free(unsafe.Pointer(cs[i]))
	}
	return &Question{w: C.airlock_question_new(cs[0], cs[1], cs[2], cs[3], cs[4], cs[5], cs[6], dy)}
}

// Run shows the question, raised, and waits for the answer or for seconds
// (0: no limit).
func (q *Question) Run(seconds int) Answer {
	if seconds < 0 {
		seconds = 0
	}
	switch C.airlock_question_run(q.w, C.guint(seconds)) {
	case C.AIRLOCK_Q_YES:
		return AnswerYes
	case C.AIRLOCK_Q_NO:
		return AnswerNo
	case C.AIRLOCK_Q_TIMEOUT:
		return AnswerTimeout
	default: // GTK_RESPONSE_DELETE_EVENT
		return AnswerClosed
	}
}

// Destroy releases the dialog.
func (q *Question) Destroy() {
	C.gtk_widget_destroy(q.w)
	q.w = nil
}

// FormatSize is GLib's human-readable size ("12.3 kB"), translated by GLib.
func FormatSize(n int64) string {
	if n < 0 {
		n = 0
	}
	s := C.g_format_size(C.guint64(n))
	defer C.g_free(C.gpointer(s))
	return C.GoString(s)
}
