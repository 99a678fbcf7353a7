package i18n

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// TestGermanCatalog loads po/de.po the way an installed catalog is loaded
// and checks a translated string comes out.
func TestGermanCatalog(t *testing.T) {
	dir := t.TempDir()
	lc := filepath.Join(dir, "de", "LC_MESSAGES")
	os.MkdirAll(lc, 0o755)
	b, err := os.ReadFile("../../po/de.po")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(lc, Domain+".po"), b, 0o644)
	t.Setenv("AIRLOCK_LOCALEDIR", dir)
	t.Setenv("LANGUAGE", "de")
	once = sync.Once{}
	if got := T("%s wants to open a file", "Tor Browser"); got != "Tor Browser möchte eine Datei öffnen" {
		t.Fatalf("T = %q", got)
	}
	t.Setenv("LANGUAGE", "C")
	once = sync.Once{}
	if got := T("%s wants to open a file", "Tor Browser"); got != "Tor Browser wants to open a file" {
		t.Fatalf("untranslated T = %q", got)
	}
}

var verbRE = regexp.MustCompile(`%[-+# 0]*[0-9]*[vdsqxXfgtc%]`)

// TestCatalogsKeepVerbs: a translation that drops or reorders a format verb
// would print garbage or panic-free nonsense at run time.
func TestCatalogsKeepVerbs(t *testing.T) {
	files, _ := filepath.Glob("../../po/*.po")
	if len(files) == 0 {
		t.Fatal("no catalogs in po/")
	}
	entry := regexp.MustCompile(`(?m)^msgid "((?:[^"\\]|\\.)*)"\nmsgstr "((?:[^"\\]|\\.)*)"`)
	for _, f := range files {
		b, _ := os.ReadFile(f)
		n := 0
		for _, m := range entry.FindAllStringSubmatch(string(b), -1) {
			if m[1] == "" || m[2] == "" {
				continue
			}
			n++
			if a, b := strings.Join(verbRE.FindAllString(m[1], -1), ","), strings.Join(verbRE.FindAllString(m[2], -1), ","); a != b {
				t.Errorf("%s: %q keeps verbs %s, translation has %s", f, m[1], a, b)
			}
		}
		if n == 0 {
			t.Errorf("%s: no translated entries", f)
		}
	}
}

// TestCatalogsCompile runs msgfmt --check on every catalog, as the build
// does when it installs them.
func TestCatalogsCompile(t *testing.T) {
	if _, err := exec.LookPath("msgfmt"); err != nil {
		t.Skip("msgfmt (Debian package gettext) is not installed")
	}
	files, _ := filepath.Glob("../../po/*.po")
	for _, f := range files {
		if out, err := exec.Command("msgfmt", "--check", "-o", os.DevNull, f).CombinedOutput(); err != nil {
			t.Errorf("msgfmt --check %s: %v\n%s", f, err, out)
		}
	}
}
