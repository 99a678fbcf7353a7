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
	if _, err := exec.LookPath("msgfmt"); err != nil {
		t.Skip("msgfmt is not installed (Debian package gettext; tests/run.sh installs it): catalogs not checked")
	}
	for _, lang := range linguas(t) {
		f := filepath.Join(poDir, lang+".po")
		if _, err := os.Stat(f); err != nil {
			t.Errorf("po/LINGUAS names %s: %v", lang, err)
			continue
		}
		if out, err := exec.Command("msgfmt", "--check", "-o", os.DevNull, f).CombinedOutput(); err != nil {
			t.Errorf("msgfmt --check %s: %v\n%s", f, err, out)
		}
	}
}
