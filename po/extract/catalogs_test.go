package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// poDir is po/, seen from this package's folder (where go test runs).
const poDir = ".."

// linguas reads po/LINGUAS: the catalogs the build compiles and installs.
func linguas(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(poDir, "LINGUAS"))
	if err != nil {
		t.Fatal(err)
	}
	var langs []string
	for _, l := range strings.Split(string(b), "\n") {
		if l, _, _ = strings.Cut(l, "#"); strings.TrimSpace(l) != "" {
			langs = append(langs, strings.Fields(l)...)
		}
	}
	if len(langs) == 0 {
		t.Fatal("po/LINGUAS names no language")
	}
	return langs
}

var verbRE = regexp.MustCompile(`%[-+# 0]*[0-9]*[vdsqxXfgtc%]`)

// TestCatalogsKeepVerbs: a translation that drops or reorders a format verb
// prints garbage (%!s(MISSING)) at run time.
func TestCatalogsKeepVerbs(t *testing.T) {
	for _, lang := range linguas(t) {
		f := filepath.Join(poDir, lang+".po")
		cat, err := readPO(f)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for id, str := range cat {
			if id == "" || str == "" {
				continue
			}
			n++
			if a, b := strings.Join(verbRE.FindAllString(id, -1), ","), strings.Join(verbRE.FindAllString(str, -1), ","); a != b {
				t.Errorf("%s: %q keeps verbs %s, translation has %s", f, id, a, b)
			}
		}
		if n == 0 {
			t.Errorf("%s: no translated entries", f)
		}
	}
}

// TestCatalogsCompile runs msgfmt --check on every catalog in LINGUAS, as
// the build does when it installs them.
func TestCatalogsCompile(t *testing.T) {
	for _, lang := range linguas(t) {
		f := filepath.Join(poDir, lang+".po")
		if _, err := os.Stat(f); err != nil {
			t.Errorf("po/LINGUAS names %s: %v", lang, err)
			continue
		}
		msgfmtCheck(t, f)
	}
}

// msgfmtCheck runs msgfmt --check on file; without msgfmt the test skips.
func msgfmtCheck(t *testing.T, file string) {
	t.Helper()
	if _, err := exec.LookPath("msgfmt"); err != nil {
		t.Skip("msgfmt is not installed (Debian package gettext; tests/run.sh installs it): catalogs not checked")
	}
	if out, err := exec.Command("msgfmt", "--check", "-o", os.DevNull, file).CombinedOutput(); err != nil {
		t.Errorf("msgfmt --check %s: %v\n%s", file, err, out)
	}
}

// TestTemplateCurrent: po/airlock.pot holds exactly the messages the
// sources use. Refresh it with go run ./po/extract -o po/airlock.pot (from
// the repository root), then merge it into the catalogs (msgmerge -U).
func TestTemplateCurrent(t *testing.T) {
	msgs, err := Extract(filepath.Join(poDir, ".."))
	if err != nil {
		t.Fatal(err)
	}
	pot, err := readPO(filepath.Join(poDir, "airlock.pot"))
	if err != nil {
		t.Fatal(err)
	}
	delete(pot, "")
	want := map[string]bool{}
	for _, m := range msgs {
		want[m.ID] = true
		if _, ok := pot[m.ID]; !ok {
			t.Errorf("po/airlock.pot lacks %q (used at %v)", m.ID, m.Refs[0])
		}
	}
	for id := range pot {
		if !want[id] {
			t.Errorf("po/airlock.pot has %q, which no source uses any more", id)
		}
	}
	if t.Failed() {
		t.Log("refresh it: go run ./po/extract -o po/airlock.pot")
	}
}
