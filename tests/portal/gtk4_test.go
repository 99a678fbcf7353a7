package portal_test

import (
	"airlock/tests/harness"
	"strings"
	"testing"
	"time"
)

// TestGTK4FileChooserNative runs a GTK 4 application (Debian 12: GTK 4.8,
// no Gtk.FileDialog) in a sandbox with its own nested display (Xephyr on a
// host Xvfb). Its Gtk.FileChooserNative goes to
// org.freedesktop.portal.FileChooser on the sandbox's bus (GDK_DEBUG=portals,
// set by airlock). Exactly two outcomes are accepted, and a hang fails:
//   - no FileChooser portal in the broker: the call fails and GTK reports
//     the dialog as closed (GTK_RESPONSE_DELETE_EVENT), with the broker's
//     D-Bus error in GTK's warning;
//   - the FileChooser portal is there: airlock-chooser opens a window on
//     the host display (not in the sandbox's Xephyr); Escape closes it and
//     the application gets GTK_RESPONSE_CANCEL.
func TestGTK4FileChooserNative(t *testing.T) {
	t.Parallel()
	needBins(t, "Xvfb", "Xephyr", "xdotool")
	s := newSession(t)
	x := s.e.StartXvfb(t)
	s.e = s.e.WithEnv(x.Env()...)
	py := script(t, "gtk4_chooser.py")
	const name = "gtk4probe"
	app := s.sandbox(t, "run", "--display", "xephyr", "--name", name, "--ro", py, "--", "/usr/bin/python3", py)

	// Wait for one of the two outcomes. The limit guards against a hang
	// only; the application's own watchdog (90 s) prints TIMEOUT first.
	var chooser string
	deadline := time.Now().Add(150 * time.Second)
	for chooser == "" && !app.exited() {
		if time.Now().After(deadline) {
			t.Fatalf("neither a response nor a chooser window: the dialog hangs\nstdout:\n%s\nstderr:\n%s\nportal log:\n%s", app.out.String(), app.errOut.String(), s.portalLog())
		}
		chooser = chooserWindow(x, name)
		time.Sleep(100 * time.Millisecond)
	}
	if chooser != "" {
		title, _ := x.Host("xdotool", "getwindowname", chooser)
		t.Logf("chooser window %s on the host display: %q", chooser, strings.TrimSpace(title))
		// Escape until the dialog is gone: a loaded machine may map the
		// window before GTK takes keys. The condition waited on is the
		// application's answer, not a pause.
		for tries := 0; !app.exited() && chooserWindow(x, name) != ""; tries++ {
			if tries == 100 {
				t.Fatalf("the chooser does not close on Escape\nportal log:\n%s", s.portalLog())
			}
			x.Host("xdotool", "windowfocus", "--sync", chooser)
			x.Host("xdotool", "key", "--window", chooser, "Escape")
			for i := 0; i < 20 && !app.exited() && chooserWindow(x, name) != ""; i++ {
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	res := app.wait(t, 120*time.Second)
	t.Logf("application: %v", res)
	if strings.Contains(res.Stdout, "TIMEOUT") {
		t.Fatalf("the application got no response within its 90 s watchdog (a hang):\n%v\nportal log:\n%s", res, s.portalLog())
	}
	if !strings.Contains(res.Stdout, "gtk=4.") || !strings.Contains(res.Stdout, "shown\n") {
		t.Fatalf("the GTK 4 application did not start its dialog: %v", res)
	}
	if chooser != "" {
		if !strings.Contains(res.Stdout, "response=-6 name=cancel files=[]") {
			t.Errorf("after Escape in the chooser, want GTK_RESPONSE_CANCEL: %v", res)
		}
		return
	}
	// No chooser: the call must have reached the broker and been refused
	// there, with one of the bus's error names, not hung or fallen back
	// to GTK's own dialog.
	if !strings.Contains(res.Stdout, "response=-4 name=delete-event files=[]") {
		t.Errorf("without a FileChooser portal, want GTK_RESPONSE_DELETE_EVENT: %v", res)
	}
	if !strings.Contains(res.Stderr, "Can't open portal file chooser: GDBus.Error:org.freedesktop.DBus.Error.Unknown") {
		t.Errorf("GTK's warning does not show the broker's refusal: %v", res)
	}
}

// chooserWindow returns the visible airlock-chooser window on the host
// display, or "". It looks for the chooser's own window class: any other
// window (the sandbox's Xephyr, a transient one) is not the dialog.
func chooserWindow(x *harness.Xvfb, sandboxName string) string {
	for _, w := range x.Windows("--onlyvisible", "--class", "^airlock-chooser$") {
		title, err := x.Host("xdotool", "getwindowname", w)
		if err == nil && strings.Contains(title, sandboxName) {
			return w
		}
	}
	return ""
}
