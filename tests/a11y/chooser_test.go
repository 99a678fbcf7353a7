package a11y_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"airlock/chooser-ui/protocol"
	"airlock/tests/harness"
)

// bidiControls are the runes protocol.Clean removes so that an application
// cannot reorder what is read around its words: a screen reader must not
// get them either.
const bidiControls = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"

// TestChooserReadableByScreenReader: with the session's accessibility bus
// started explicitly, a screen reader (pyatspi) finds airlock-chooser in the
// desktop's accessible tree, reads who is asking (the dialog's name, from the
// trusted sandbox name), the application's cleaned title (no bidi override
// reaches it), the Open and Cancel buttons, the "Open read-only" check box
// and its state, and the file list with the folder's files; it presses
// Cancel through the AT-SPI Action interface, and the chooser answers
// "cancelled" (1). Once in English, once in German from the compiled
// catalog.
func TestChooserReadableByScreenReader(t *testing.T) {
	e := harness.Get(t)
	need(t)
	if e.Chooser == "" {
		t.Fatal("airlock-chooser did not build (see the harness's message above)")
	}
	for _, tc := range []struct {
		lang                                    string
		title, says, saysName, open, cancel, ro string
	}{
		{"en", "Tor Browser wants to open a file", "The application says: “Open evil title”",
			"Title given by the application", "Open", "Cancel", "Open read-only"},
		{"de", "Tor Browser möchte eine Datei öffnen", "Die Anwendung sagt: „Open evil title“",
			"Titel, den die Anwendung angibt", "Öffnen", "Abbrechen", "Nur lesend öffnen"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			t.Parallel()
			var langEnv []string
			if tc.lang != "en" {
				langEnv = []string{"LANGUAGE=" + tc.lang, "AIRLOCK_LOCALEDIR=" + localeDir(t, e, tc.lang)}
			}
			s := e.SessionBus(t)
			startA11yBus(t, s)
			x := e.StartXvfb(t)
			sr := newReader(t, s)

			folder := e.UserDir(t)
			for _, f := range []string{"report.txt", "notes.odt"} {
				e.WriteUserFile(t, filepath.Join(folder, f), f+"\n", 0o644)
			}
			// What the broker sends for File > Open in Tor Browser; the
			// title is the application's, with a right-to-left override.
			req := protocol.Request{
				Mode:            protocol.ModeOpen,
				SandboxName:     "Tor Browser",
				SandboxIcon:     "torbrowser",
				AppTitle:        "Open \u202eevil title",
				ShowReadOnly:    true,
				ReadOnlyDefault: true,
				CurrentFolder:   folder,
			}
			out, wait := startChooser(t, s, x, req, langEnv)

			nodes := sr.find(t, "airlock-chooser", "file chooser", tc.title, "push button", tc.cancel,
				"push button", tc.open, "check box", tc.ro)
			one := func(what string, ok func(n node) bool) node {
				t.Helper()
				var found []node
				for _, n := range nodes {
					if ok(n) {
						found = append(found, n)
					}
				}
				if len(found) != 1 {
					t.Fatalf("%s: %d nodes in the accessible tree, want 1: %v", what, len(found), found)
				}
				t.Logf("%s: %s", what, found[0])
				return found[0]
			}
			if nodes[0].Role != "application" || nodes[0].Name != "airlock-chooser" {
				t.Errorf("tree root %s, want [application] \"airlock-chooser\"", nodes[0])
			}
			// The dialog is the application's top-level window: named
			// from the trusted sandbox name, described by the app's words.
			dlg := one("dialog", func(n node) bool { return n.Role == "file chooser" && n.Name == tc.title })
			if len(dlg.Path) != 1 {
				t.Errorf("the dialog is not a top-level window of the application: %s", dlg)
			}
			if dlg.Description != tc.says {
				t.Errorf("dialog description %q, want %q", dlg.Description, tc.says)
			}
			lbl := one("application's title", func(n node) bool { return n.Role == "label" && n.Name == tc.saysName })
			if !lbl.under(dlg) || lbl.Text == nil || *lbl.Text != tc.says || lbl.Description != tc.says {
				t.Errorf("label %s: text %v, description %q, want %q in the dialog", lbl, lbl.Text, lbl.Description, tc.says)
			}
			// Wherever the application's words are read, they are the
			// cleaned ones: no bidi control (GTK's own cells carry LRMs
			// in times, which are not the application's).
			for _, n := range nodes {
				all := n.Name + "\n" + n.Description
				if n.Text != nil {
					all += "\n" + *n.Text
				}
				if strings.Contains(all, "\u202e") ||
					strings.Contains(all, "evil") && (strings.ContainsAny(all, bidiControls) || !strings.Contains(all, "“Open evil title”") && !strings.Contains(all, "„Open evil title“")) {
					t.Errorf("the application's title reaches the screen reader uncleaned: %s %q", n, all)
				}
			}
			for _, name := range []string{tc.open, tc.cancel} {
				b := one(name+" button", func(n node) bool { return n.Role == "push button" && n.Name == name })
				if !b.under(dlg) || !b.has("showing") || !b.has("sensitive") || !contains(b.Actions, "click") {
					t.Errorf("button %s: want a showing, sensitive, clickable button in the dialog (states %v, actions %v)", b, b.States, b.Actions)
				}
			}
			ro := one("read-only check box", func(n node) bool { return n.Role == "check box" && n.Name == tc.ro })
			if !ro.under(dlg) || !ro.has("checked") || !contains(ro.Actions, "click") {
				t.Errorf("check box %s: want it checked (read_only_default) and clickable in the dialog (states %v, actions %v)", ro, ro.States, ro.Actions)
			}
			list := one("file list", func(n node) bool { return n.Role == "table" && n.under(dlg) })
			for _, f := range []string{"report.txt", "notes.odt"} {
				one("file "+f, func(n node) bool { return n.Role == "table cell" && n.Name == f && n.under(list) })
			}

			// Cancel, through the Action interface: no keyboard, no pointer.
			res := sr.run(t, "press", "airlock-chooser", "push button", tc.cancel, "click")
			if res.Code != 0 {
				t.Fatalf("screen reader could not press %s: %v", tc.cancel, res)
			}
			pressed := parseNodes(t, res.Stdout)
			if len(pressed) != 1 || !pressed[0].under(dlg) {
				t.Errorf("pressed %v, want the dialog's %s button", pressed, tc.cancel)
			}
			if err := wait(); err != nil {
				t.Fatalf("airlock-chooser: %v", err)
			}
			var r protocol.Response
			dec := json.NewDecoder(strings.NewReader(out.String()))
			if err := dec.Decode(&r); err != nil || dec.More() {
				t.Fatalf("chooser response %q: %v", out.String(), err)
			}
			if r.Response != protocol.ResponseCancelled || len(r.Paths) != 0 {
				t.Errorf("chooser response %+v, want 1 (cancelled) without paths", r)
			}
		})
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// localeDir compiles po/LANG.po with msgfmt into a fresh locale folder the
// test user can read, laid out as installed: LANG/LC_MESSAGES/airlock.mo.
func localeDir(t *testing.T, e *harness.Env, lang string) string {
	t.Helper()
	if _, err := exec.LookPath("msgfmt"); err != nil {
		t.Skip("msgfmt is missing: install the Debian package gettext")
	}
	dir := e.UserDir(t)
	lc := filepath.Join(dir, lang, "LC_MESSAGES")
	if err := os.MkdirAll(lc, 0o755); err != nil {
		t.Fatal(err)
	}
	mo := filepath.Join(lc, "airlock.mo")
	if out, err := exec.Command("msgfmt", "--check", "-o", mo, filepath.Join(e.Root, "po", lang+".po")).CombinedOutput(); err != nil {
		t.Fatalf("msgfmt po/%s.po: %v\n%s", lang, err, out)
	}
	for _, d := range []string{filepath.Join(dir, lang), lc} {
		os.Chmod(d, 0o755)
	}
	os.Chmod(mo, 0o644)
	return dir
}

// startChooser runs airlock-chooser as the test user on the test display,
// in the session s, with the accessibility bridge on, and writes req on its
// stdin as the broker does. wait returns when it has exited.
func startChooser(t *testing.T, s *harness.Env, x *harness.Xvfb, req protocol.Request, extra []string) (out *harness.SyncBuffer, wait func() error) {
	t.Helper()
	in, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	cmd := s.Command(context.Background(), s.Chooser)
	cmd.Env = append(withBridge(cmd.Env), x.Env()...)
	// No GVfs daemons on the session bus: nothing may outlive the test.
	cmd.Env = append(cmd.Env, "GIO_USE_VFS=local", "GIO_USE_VOLUME_MONITOR=unix")
	cmd.Env = append(cmd.Env, extra...)
	cmd.Stdin = bytes.NewReader(in)
	out = &harness.SyncBuffer{}
	stderr := &harness.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("cannot start airlock-chooser: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case err := <-done:
			done <- err
		default:
			syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("airlock-chooser stderr:\n%s", stderr.String())
		}
	})
	return out, func() error {
		select {
		case err := <-done:
			done <- err
			return err
		case <-time.After(60 * time.Second):
			return errors.New("still running after 60 s")
		}
	}
}
