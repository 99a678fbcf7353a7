package filechooser_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"airlock/chooser-ui/protocol"
)

// TestFirefoxSavePageComplete: a real Firefox ESR in a sandbox, its file
// picker set to the portal, saves a page with "Save Page As" in its default
// format, "Web Page, complete". Airlock's chooser suggests page.html, says
// that Firefox may also save "page_files" beside it, the user presses
// Return, and the page and its folder (style sheet and image) are on the
// host, and nothing else is.
func TestFirefoxSavePageComplete(t *testing.T) {
	needBins(t, "firefox-esr", "xdotool")
	t.Parallel()
	s := newSession(t, true)
	dir := hostFiles(t, map[string]string{})
	s.lastFolder(t, "tor-browser", dir)
	script := userScript(t, "tests/filechooser/testdata/firefox_save_page.sh")
	// The tor-browser profile, Firefox ESR standing in for Tor Browser,
	// with its network off (no Tor here; the page is the sandbox's own).
	a := s.sandbox(t, []string{"--profile", "tor-browser", "--net", "none", "--name", "firefox", "--ro", script}, "/bin/sh", script)
	a.WaitOutput(t, `^== asked$`)

	wid := s.dialog(t, a, "firefox wants to save a file")
	s.waitEntry(t, `"page.html" in the Name field`, func(e protocol.TraceEntry) bool { return e.Text == "page.html" })
	// A picture of the chooser with its note about page_files, for review.
	shot := filepath.Join(os.TempDir(), "airlock-firefox-save-page.png")
	if out, err := s.x.Host("import", "-window", wid, shot); err != nil {
		t.Logf("no screenshot: %v %s", err, out)
	}
	s.pressReturn(t)

	files := filepath.Join(dir, "page_files")
	// Firefox 153 names the page's files NAME_XXXX.EXT (a few random
	// letters, the same for the whole save).
	png, _ := regexp.Compile(`^dot_[A-Za-z0-9_-]+\.png$`)
	css, _ := regexp.Compile(`^style_[A-Za-z0-9_-]+\.css$`)
	var img, sheet string
	saved := func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "page.html"))
		ents, _ := os.ReadDir(files)
		img, sheet = "", ""
		for _, en := range ents {
			switch {
			case png.MatchString(en.Name()):
				img = en.Name()
			case css.MatchString(en.Name()):
				sheet = en.Name()
			}
		}
		return strings.Contains(string(b), "</html>") && img != "" && sheet != ""
	}
	for deadline := time.Now().Add(60 * time.Second); !saved(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			out, _ := exec.Command("sh", "-c", "find \"$1\" -ls; cat \"$1/page.html\"", "sh", dir).CombinedOutput()
			a.Send(t, "quit")
			t.Fatalf("Firefox did not save the page and its folder; the host holds:\n%s\nsandbox stdout:\n%s\nportal log:\n%s", out, a.Out.String(), s.portalLog())
		}
	}
	a.Send(t, "quit")
	a.WaitOutput(t, `^== end$`)
	a.Wait(t)

	if l := listDir(t, dir); !reflect.DeepEqual(l, []string{"page.html", "page_files"}) {
		t.Errorf("host folder holds %v, want page.html and page_files", l)
	}
	if l := listDir(t, files); !reflect.DeepEqual(l, []string{img, sheet}) {
		t.Errorf("page_files holds %v, want only %s and %s", l, img, sheet)
	}
	if got := readFile(t, filepath.Join(files, sheet)); got != "h1 { color: #c00 }\n" {
		t.Errorf("page_files/%s holds %q", sheet, got)
	}
	if b, _ := os.ReadFile(filepath.Join(files, img)); len(b) < 8 || string(b[1:4]) != "PNG" {
		t.Errorf("page_files/%s is not the page's PNG: %q", img, b)
	}
	page := readFile(t, filepath.Join(dir, "page.html"))
	if !strings.Contains(page, "airlock marker") || !strings.Contains(page, "page_files/"+img) {
		t.Errorf("the saved page lacks its text or does not point at page_files/%s:\n%s", img, page)
	}
}
