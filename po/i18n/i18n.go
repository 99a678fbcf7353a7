// Package i18n translates Airlock's user-visible strings through gettext
// catalogs (po/, installed as <localedir>/<lang>/LC_MESSAGES/airlock.mo). All
// three programs use it, so it lives with the catalogs rather than inside one
// of them; po/extract finds the strings by their calls to T. The catalog is
// loaded on first use, so the sandbox's init stage never pays for it.
package i18n

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/leonelquinteros/gotext"
)

// Domain is the gettext domain of every Airlock string.
const Domain = "airlock"

var once sync.Once

// LocaleDir is where catalogs are looked up: $AIRLOCK_LOCALEDIR, else the
// installed prefix's (PREFIX/share/locale beside PREFIX/bin, where meson
// install puts them), else the system's.
func LocaleDir() string {
	if d := os.Getenv("AIRLOCK_LOCALEDIR"); d != "" {
		return d
	}
	if exe, err := os.Executable(); err == nil {
		d := filepath.Join(filepath.Dir(exe), "..", "share", "locale")
		if m, _ := filepath.Glob(filepath.Join(d, "*", "LC_MESSAGES", Domain+".mo")); len(m) > 0 {
			return filepath.Clean(d)
		}
	}
	return "/usr/share/locale"
}

// Language picks the catalog language the way gettext does: LANGUAGE, then
// LC_ALL, LC_MESSAGES, LANG; "C" and "POSIX" mean untranslated.
func Language() string {
	for _, v := range []string{"LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"} {
		l := os.Getenv(v)
		if l == "" {
			continue
		}
		l, _, _ = strings.Cut(l, ":")
		l, _, _ = strings.Cut(l, ".")
		if l == "C" || l == "POSIX" {
			return ""
		}
		return l
	}
	return ""
}

func setup() {
	lang := Language()
	if lang == "" {
		lang = "C"
	}
	gotext.Configure(LocaleDir(), lang, Domain)
}

// T translates msg and formats it with args (fmt verbs).
func T(msg string, args ...any) string {
	once.Do(setup)
	s := gotext.Get(msg, nil...)
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}
