package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// tree writes files (slash paths relative to a new root) and returns the root.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestExtract(t *testing.T) {
	const imp = "package x\nimport \"airlock/po/i18n\"\n"
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []Message // nil: none
		err   string    // non-empty: Extract fails with this in its error
	}{
		{"literal", map[string]string{"a/a.go": imp + `var _ = i18n.T("hello")`},
			[]Message{{"hello", []Ref{{"a/a.go", 3}}}}, ""},
		{"raw string and concatenation", map[string]string{"a/a.go": imp + "var _ = i18n.T(`a\\n` + (\"b\" + \"c\\n\"), 1)"},
			[]Message{{"a\\nbc\n", []Ref{{"a/a.go", 3}}}}, ""},
		{"same message twice, refs in order", map[string]string{
			"b/b.go": imp + "var _ = i18n.T(\"x\")",
			"a/a.go": imp + "var _ = i18n.T(\"y\")\nvar _ = i18n.T(\"x\")",
		}, []Message{{"y", []Ref{{"a/a.go", 3}}}, {"x", []Ref{{"a/a.go", 4}, {"b/b.go", 3}}}}, ""},
		{"two messages on one line keep their order", map[string]string{"a/a.go": imp + "var _, _ = i18n.T(\"b\"), i18n.T(\"a\")"},
			[]Message{{"b", []Ref{{"a/a.go", 3}}}, {"a", []Ref{{"a/a.go", 3}}}}, ""},
		{"renamed import", map[string]string{"a/a.go": "package x\nimport tr \"airlock/po/i18n\"\nvar _ = tr.T(\"hi\")"},
			[]Message{{"hi", []Ref{{"a/a.go", 3}}}}, ""},
		{"another package's T is no keyword", map[string]string{"a/a.go": "package x\nimport \"example.com/i18n\"\nvar _ = i18n.T(\"no\")"},
			nil, ""},
		{"T without the import is no keyword", map[string]string{"a/a.go": "package x\nvar _ = i18n.T(\"no\")"},
			nil, ""},
		{"tests, testdata and hidden folders are left out", map[string]string{
			"a/a_test.go":           imp + `var _ = i18n.T("test")`,
			"a/testdata/x.go":       imp + `var _ = i18n.T("testdata")`,
			".git/x.go":             imp + `var _ = i18n.T("hidden")`,
			"a/notgo.txt":           `i18n.T("text")`,
			"launcher/profile/p.go": "package profile\nfunc bad(key, format string, args ...any) error { return nil }\nvar _ = bad(\"k\", \"profile %s\", 1)",
		}, []Message{{"profile %s", []Ref{{"launcher/profile/p.go", 3}}}}, ""},
		{"the profile wrapper forwards its parameter", map[string]string{"launcher/profile/p.go": "package profile\nimport \"airlock/po/i18n\"\n" +
			"func bad(key, format string, args ...any) string { return i18n.T(format, args...) }\nvar _ = bad(\"k\", \"m\")"},
			[]Message{{"m", []Ref{{"launcher/profile/p.go", 4}}}}, ""},
		{"bad elsewhere is no keyword", map[string]string{"a/a.go": "package x\nfunc bad(k, f string) int { return 0 }\nvar _ = bad(\"k\", \"no\")"},
			nil, ""},
		{"a variable message fails", map[string]string{"a/a.go": imp + "var m = \"x\"\nvar _ = i18n.T(m)"},
			nil, "a/a.go:4: the message of T is not a constant string"},
		{"a named constant fails", map[string]string{"a/a.go": imp + "const m = \"x\"\nvar _ = i18n.T(m + \"y\")"},
			nil, "a/a.go:4: the message of T is not a constant string"},
		{"a missing message fails", map[string]string{"a/a.go": imp + "var _ = i18n.T()"},
			nil, "a/a.go:3: T has no argument 1"},
		{"a variable format outside the wrapper fails", map[string]string{"launcher/profile/p.go": "package profile\n" +
			"func bad(key, format string) error { return nil }\nfunc f(s string) error { return bad(\"k\", s) }"},
			nil, "launcher/profile/p.go:3: the message of bad is not a constant string"},
		{"a file that does not parse fails", map[string]string{"a/a.go": "package x\nvar = "},
			nil, "a.go:2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Extract(tree(t, tc.files))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 {
				got = nil
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestWritePOT: the template reads back as the messages it was written
// from, with references and c-format flags, and msgfmt accepts it.
func TestWritePOT(t *testing.T) {
	msgs := []Message{
		{"plain", []Ref{{"a.go", 1}}},
		{"with %s and %d", []Ref{{"a.go", 2}, {"b.go", 30}}},
		{"one line\n", []Ref{{"a.go", 3}}},
		{"two\nlines\n", []Ref{{"a.go", 4}}},
		{"quotes \" and \\ and “unicode”\ttab", []Ref{{"a.go", 5}}},
	}
	var b bytes.Buffer
	if err := WritePOT(&b, msgs); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, want := range []string{
		"#: a.go:2 b.go:30\n#, c-format\nmsgid \"with %s and %d\"\n",
		"#: a.go:1\nmsgid \"plain\"\n",
		"msgid \"one line\\n\"\n",
		"msgid \"\"\n\"two\\n\"\n\"lines\\n\"\nmsgstr \"\"\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("template lacks %q:\n%s", want, s)
		}
	}
	p := filepath.Join(t.TempDir(), "t.pot")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cat, err := readPO(p)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"": "Project-Id-Version: airlock\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n"}
	for _, m := range msgs {
		want[m.ID] = ""
	}
	if !reflect.DeepEqual(cat, want) {
		t.Errorf("read back %q\nwant %q", cat, want)
	}
	msgfmtCheck(t, p)
}

// TestRunWritesFile: -o replaces the file whole and leaves nothing beside it.
func TestRunWritesFile(t *testing.T) {
	root := tree(t, map[string]string{"a/a.go": "package x\nimport \"airlock/po/i18n\"\nvar _ = i18n.T(\"hi\")"})
	out := filepath.Join(t.TempDir(), "airlock.pot")
	if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(root, out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "#: a/a.go:3\nmsgid \"hi\"\n") {
		t.Errorf("written template:\n%s", b)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".airlock.pot.*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if err := run(filepath.Join(root, "missing"), out); err == nil {
		t.Error("run on a missing root succeeded")
	}
}
