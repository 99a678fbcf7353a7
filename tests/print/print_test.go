package print_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"airlock/tests/harness"
)

// auditLine is the broker's one log line for the job the test made.
func (s *session) auditLine(t *testing.T, want ...string) string {
	t.Helper()
	// The job goes on after the application left: poll, with a limit
	// against hangs only.
	deadline := time.Now().Add(120 * time.Second)
	for time.Now().Before(deadline) {
		if l := s.findAudit(want); l != "" {
			return l
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("no audit line with %q in the portal log:\n%s", want, s.portalLog())
	return ""
}

// failureNotice waits for Airlock's notice that a job the user confirmed
// was not printed: a window titled "Airlock printing" on the host display
// and its words in the log, which say why (want) and never carry the
// application's own title for the job ("Report", portalprint.py's).
func (s *session) failureNotice(t *testing.T, sandbox, want string) {
	t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for len(s.x.Windows("--onlyvisible", "--name", "^Airlock printing$")) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no \"Airlock printing\" notice on the host display\nportal log:\n%s", s.portalLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, l := range strings.Split(s.portalLog(), "\n") {
		if strings.Contains(l, `msg="print notice"`) {
			if !strings.Contains(l, `summary="`+sandbox+` could not print"`) || !strings.Contains(l, want) || strings.Contains(l, "Report") {
				t.Errorf("notice %s: want %q could not print, saying %q, without the application's title", l, sandbox, want)
			}
			return
		}
	}
	t.Errorf("no print notice in the portal log:\n%s", s.portalLog())
}

func (s *session) findAudit(want []string) string {
	for _, l := range strings.Split(s.portalLog(), "\n") {
		if !strings.Contains(l, "print job") {
			continue
		}
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(l, w)
		}
		if ok {
			return l
		}
	}
	return ""
}

// noJob checks that CUPS never received a job.
func (s *session) noJob(t *testing.T) {
	t.Helper()
	if j := s.cups.jobs(t); len(j) != 0 {
		t.Errorf("CUPS received jobs %v, want none", j)
	}
	if ents, _ := filepath.Glob(filepath.Join(s.cups.out, "*")); len(ents) != 0 {
		t.Errorf("cups-pdf wrote %v, want nothing", ents)
	}
}

// profile writes a profile file for the test user.
func profile(t *testing.T, name, body string) string {
	t.Helper()
	e := harness.Get(t)
	p := filepath.Join(e.UserDir(t), name+".toml")
	e.WriteUserFile(t, p, body, 0o644)
	return p
}

// TestGTKPrintOperation: a GTK 3 application prints a page with
// Gtk.PrintOperation. GTK asks the Print portal; Airlock's print dialog
// appears on the host display, named after the sandbox; the user presses
// Print; the page reaches the cups-pdf queue with its text, in a job
// named after the sandbox, and the broker logs one audit line.
func TestGTKPrintOperation(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	text := marker("GTKPRINT")
	script := userScript(t, "tests/print/testdata/gtkprint.py")
	a := s.sandbox(t, []string{"--display", "xephyr", "--name", "notes", "--ro", script}, "/usr/bin/python3", script, text)
	wid := s.dialog(t, a, "notes wants to print")
	s.accept(t, wid)
	a.WaitOutput(t, `^result: apply$`)
	a.Wait(t)
	s.auditLine(t, "sandbox=notes", "result=submitted")
	out := s.cups.output(t)
	if got := pdfText(t, out); !strings.Contains(got, text) {
		t.Errorf("the printed page reads %q, want %q on it", got, text)
	}
	info := pdfInfo(t, out)
	if !strings.Contains(info, "notes: ") {
		t.Errorf("the job is not named after the sandbox: pdfinfo says\n%s", info)
	}
	// GTK's PDF says "cairo" as its Creator and Producer; rewrite drops
	// the document information (cups-pdf's own Ghostscript names itself).
	if strings.Contains(strings.ToLower(info), "cairo") {
		t.Errorf("the application's metadata reached the printer:\n%s", info)
	}
	s.auditLine(t, "sandbox=notes", "result=submitted", "sanitizer=rewrite", "pages=1", "printer="+s.cups.queue)
	a.Wait(t)
}

// TestRewriteStripsMetadata: an application hands its own PDF to Print
// after PreparePrint, with the token: one dialog only, headed in the
// profile's colour, the text printed, the application's Author, Creator and
// Title gone.
func TestRewriteStripsMetadata(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	e := harness.Get(t)
	text := marker("REWRITE")
	doc := filepath.Join(e.UserDir(t), "report.pdf")
	makePDF(t, doc, map[string]string{"Author": "SECRET-AUTHOR-x1", "Creator": "SECRET-CREATOR-x2", "Title": "SECRET-TITLE-x3"}, text, "second page")
	script := userScript(t, "tests/print/testdata/portalprint.py")
	// The profile's colour marks Airlock's header of the print dialog.
	const hex = "#c03a7e"
	prof := filepath.Join(e.UserDir(t), "reports.toml")
	e.WriteUserFile(t, prof, "color = \""+hex+"\"\n", 0o644)
	a := s.sandbox(t, []string{"--profile", prof, "--name", "reports", "--ro", script, "--ro", doc}, "/usr/bin/python3", script, "prepare-print", doc)
	wid := s.dialog(t, a, "reports wants to print")
	if n, err := harness.AwaitColor(s.x.Env(), wid, hex, 200, 20*time.Second); err != nil || n < 200 {
		t.Errorf("the print dialog shows %d pixels of the profile's colour %s (%v), want its bar", n, hex, err)
	}
	s.accept(t, wid)
	a.WaitOutput(t, `^prepare: 0$`)
	settings := a.WaitOutput(t, `^settings: (.*)$`)[1]
	if strings.Contains(settings, "'printer'") || strings.Contains(settings, "cups-") {
		t.Errorf("PreparePrint told the sandbox the host's printer settings: %s", settings)
	}
	a.WaitOutput(t, `^print: 0$`)
	if w := chooserWindows(s.x); len(w) != 0 {
		t.Errorf("Print with the token showed a dialog again: %v", w)
	}
	out := s.cups.output(t)
	if got := pdfText(t, out); !strings.Contains(got, text) || !strings.Contains(got, "second page") {
		t.Errorf("the printed pages read %q, want %q and the second page", got, text)
	}
	info := pdfInfo(t, out)
	if strings.Contains(info, "SECRET-") {
		t.Errorf("the application's metadata reached the printer:\n%s", info)
	}
	if !strings.Contains(info, "reports: Report") {
		t.Errorf("job name: pdfinfo says\n%s\nwant the title \"reports: Report\"", info)
	}
	s.auditLine(t, "sandbox=reports", "result=submitted", "sanitizer=rewrite", "pages=2")
	a.Wait(t)
}

// TestRasterize: with print_sanitize = "rasterize" the printed page has
// the application's ink but no text layer at all.
func TestRasterize(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	e := harness.Get(t)
	text := marker("RASTER")
	doc := filepath.Join(e.UserDir(t), "page.pdf")
	makePDF(t, doc, map[string]string{"Author": "SECRET-AUTHOR-r1"}, text, "another page")
	prof := profile(t, "browser", "display_name = \"Browser\"\nprint_sanitize = \"rasterize\"\n")
	script := userScript(t, "tests/print/testdata/portalprint.py")
	a := s.sandbox(t, []string{"--profile", prof, "--ro", script, "--ro", doc}, "/usr/bin/python3", script, "prepare-print", doc)
	wid := s.dialog(t, a, "Browser wants to print")
	s.accept(t, wid)
	a.WaitOutput(t, `^print: 0$`)
	out := s.cups.output(t)
	if got := strings.TrimSpace(pdfText(t, out)); got != "" {
		t.Errorf("a rasterized print has text %q, want none", got)
	}
	if ink := inkOnFirstPage(t, out); ink < 50 {
		t.Errorf("the rasterized page is blank (%d dark pixels at 50 dpi)", ink)
	}
	if info := pdfInfo(t, out); strings.Contains(info, "SECRET-") || !strings.Contains(info, "Pages:           2") {
		t.Errorf("rasterized print: pdfinfo says\n%s", info)
	}
	s.auditLine(t, "sandbox=Browser", "result=submitted", "sanitizer=rasterize", "pages=2")
	a.Wait(t)
}

// TestCancel: Cancel in the dialog answers response 1, and nothing prints.
func TestCancel(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	script := userScript(t, "tests/print/testdata/portalprint.py")
	a := s.sandbox(t, []string{"--name", "cancelled", "--ro", script}, "/usr/bin/python3", script, "prepare")
	wid := s.dialog(t, a, "cancelled wants to print")
	s.cancel(t, wid)
	a.WaitOutput(t, `^prepare: 1$`)
	a.Wait(t)
	s.noJob(t)
}

// TestMalformedPDF: a document with a PDF header and end marker but no
// PDF inside passes the broker's byte checks, is refused by the sanitiser
// (in its throwaway sandbox), and never reaches CUPS: response 2, and
// Airlock's notice tells the user why.
func TestMalformedPDF(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	e := harness.Get(t)
	doc := filepath.Join(e.UserDir(t), "broken.pdf")
	e.WriteUserFile(t, doc, "%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\nnot a pdf at all\n"+strings.Repeat("x", 4096)+"\n%%EOF\n", 0o644)
	script := userScript(t, "tests/print/testdata/portalprint.py")
	a := s.sandbox(t, []string{"--name", "broken", "--ro", script, "--ro", doc}, "/usr/bin/python3", script, "prepare-print", doc)
	wid := s.dialog(t, a, "broken wants to print")
	s.accept(t, wid)
	a.WaitOutput(t, `^print: 2$`)
	a.Wait(t)
	s.noJob(t)
	s.auditLine(t, "sandbox=broken", "result=\"refused: the document")
	// GTK's portal client does not wait for Print's answer: the user
	// hears it from Airlock.
	s.failureNotice(t, "broken", "could not read the document safely")
}

// TestRefusedBeforeDialog: a document that is not a PDF, and a PDF over
// the 200 MiB cap (sparse, in the sandbox's /tmp), are refused at Print
// with a clear error: no dialog, no job.
func TestRefusedBeforeDialog(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	script := userScript(t, "tests/print/testdata/portalprint.py")
	sh := `printf 'hello, not a PDF\n' > /tmp/note.txt
/usr/bin/python3 "$1" print /tmp/note.txt
printf '%%PDF-1.7\n' > /tmp/big.pdf; truncate -s 201M /tmp/big.pdf
/usr/bin/python3 "$1" print /tmp/big.pdf`
	a := s.sandbox(t, []string{"--name", "hostile", "--ro", script}, "/bin/sh", "-c", sh, "sh", script)
	res := a.Wait(t)
	if !strings.Contains(res.Stdout, "the document is not a PDF") {
		t.Errorf("a text file: %v, want a not-a-PDF error", res)
	}
	if !strings.Contains(res.Stdout, "the document is too large to print") {
		t.Errorf("a 201 MiB file: %v, want a too-large error", res)
	}
	if w := chooserWindows(s.x); len(w) != 0 {
		t.Errorf("a refused document showed a dialog: %v", w)
	}
	s.noJob(t)
	s.auditLine(t, "sandbox=hostile", "not a PDF")
	s.auditLine(t, "sandbox=hostile", "too large")
}

// TestPrintFalse: a profile with print = false is refused, and says so.
func TestPrintFalse(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	e := harness.Get(t)
	doc := filepath.Join(e.UserDir(t), "doc.pdf")
	makePDF(t, doc, nil, "never printed")
	prof := profile(t, "noprint", "display_name = \"No Print\"\nprint = false\n")
	script := userScript(t, "tests/print/testdata/portalprint.py")
	sh := `/usr/bin/python3 "$1" prepare; /usr/bin/python3 "$1" print "$2"`
	a := s.sandbox(t, []string{"--profile", prof, "--ro", script, "--ro", doc}, "/bin/sh", "-c", sh, "sh", script, doc)
	res := a.Wait(t)
	for _, w := range []string{"prepare-error: ", "print-error: "} {
		if !strings.Contains(res.Stdout, w) || !strings.Contains(res.Stdout, "print = false") {
			t.Errorf("print = false: %v, want %s... naming print = false", res, w)
		}
	}
	if w := chooserWindows(s.x); len(w) != 0 {
		t.Errorf("a refused print showed a dialog: %v", w)
	}
	s.noJob(t)
}

// TestEvince: evince prints a PDF the user granted: Ctrl+P in evince (on
// the sandbox's nested display), Print in Airlock's dialog, the document's
// text on the printed pages.
func TestEvince(t *testing.T) {
	harness.NeedBins(t, "evince")
	t.Parallel()
	s := newSession(t)
	e := harness.Get(t)
	text := marker("EVINCE")
	doc := filepath.Join(e.UserDir(t), "granted.pdf")
	makePDF(t, doc, map[string]string{"Author": "SECRET-AUTHOR-e1"}, text)
	sh := `export GSETTINGS_BACKEND=memory NO_AT_BRIDGE=1
evince "$1" >/tmp/evince.log 2>&1 &
for i in $(seq 300); do w=$(xdotool search --onlyvisible --class evince 2>/dev/null | head -1); [ -n "$w" ] && break; sleep 0.2; done
[ -n "$w" ] || { echo "== no evince window"; cat /tmp/evince.log; exit 1; }
xdotool windowfocus --sync "$w"; sleep 2
xdotool key --clearmodifiers ctrl+p
echo "== asked"
for i in $(seq 600); do [ -e /tmp/stop ] && break; sleep 0.2; done
wait`
	a := s.sandbox(t, []string{"--display", "xephyr", "--name", "viewer", "--ro", doc}, "/bin/sh", "-c", sh, "sh", doc)
	a.WaitOutput(t, `^== asked$`)
	wid := s.dialog(t, a, "viewer wants to print")
	s.accept(t, wid)
	out := s.cups.output(t)
	if got := pdfText(t, out); !strings.Contains(got, text) {
		t.Errorf("evince's print reads %q, want %q", got, text)
	}
	if info := pdfInfo(t, out); strings.Contains(info, "SECRET-") {
		t.Errorf("metadata reached the printer:\n%s", info)
	}
	s.auditLine(t, "sandbox=viewer", "result=submitted", "sanitizer=rewrite")
}

// TestPrinterGone: the printer chosen in PreparePrint is deleted before
// Print: the job fails (response 2) with an audit line naming the printer,
// Airlock's notice names it too, and nothing is printed.
func TestPrinterGone(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	e := harness.Get(t)
	doc := filepath.Join(e.UserDir(t), "doc.pdf")
	makePDF(t, doc, nil, "never printed")
	script := userScript(t, "tests/print/testdata/portalprint.py")
	a := s.sandbox(t, []string{"--name", "late", "--ro", script, "--ro", doc}, "/usr/bin/python3", script, "prepare-wait-print", doc)
	wid := s.dialog(t, a, "late wants to print")
	s.accept(t, wid)
	a.WaitOutput(t, `^prepare: 0$`)
	s.cups.admin(t, "lpadmin", "-x", s.cups.queue)
	if _, err := fmt.Fprintln(a.Stdin, "go"); err != nil {
		t.Fatal(err)
	}
	a.WaitOutput(t, `^print: 2$`)
	a.Wait(t)
	s.auditLine(t, "sandbox=late", "printer="+s.cups.queue, "the printer is not available")
	s.failureNotice(t, "late", "The printer “"+s.cups.queue+"” is not available.")
	if ents, _ := filepath.Glob(filepath.Join(s.cups.out, "*")); len(ents) != 0 {
		t.Errorf("cups-pdf wrote %v, want nothing", ents)
	}
}
