package i18n

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestGermanCatalog loads po/de.po the way an installed catalog is loaded
// and checks a translated string comes out.
func TestGermanCatalog(t *testing.T) {
	dir := t.TempDir()
	lc := filepath.Join(dir, "de", "LC_MESSAGES")
	if err := os.MkdirAll(lc, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../de.po")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(lc, Domain+".po"), b, 0o644); err != nil {
		t.Fatal(err)
	}
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

// TestLanguage: the catalog language comes from the first of gettext's
// variables that is set, without its encoding; C and POSIX mean none.
func TestLanguage(t *testing.T) {
	for _, tc := range []struct {
		language, lcAll, lcMessages, lang string
		want                              string
	}{
		{"", "", "", "", ""},
		{"", "", "", "de_DE.UTF-8", "de_DE"},
		{"", "", "fr_FR.UTF-8", "de_DE.UTF-8", "fr_FR"},
		{"", "it_IT", "fr_FR", "de_DE", "it_IT"},
		{"pt_BR:pt", "it_IT", "", "", "pt_BR"},
		{"", "C", "", "de_DE.UTF-8", ""},
		{"", "", "", "POSIX", ""},
		{"", "C.UTF-8", "", "", ""},
	} {
		t.Setenv("LANGUAGE", tc.language)
		t.Setenv("LC_ALL", tc.lcAll)
		t.Setenv("LC_MESSAGES", tc.lcMessages)
		t.Setenv("LANG", tc.lang)
		if got := Language(); got != tc.want {
			t.Errorf("LANGUAGE=%q LC_ALL=%q LC_MESSAGES=%q LANG=%q: Language() = %q, want %q", tc.language, tc.lcAll, tc.lcMessages, tc.lang, got, tc.want)
		}
	}
}
