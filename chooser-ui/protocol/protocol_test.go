package protocol

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		max      int
		want     string
	}{
		{"plain", "Save As", 80, "Save As"},
		{"empty", "", 80, ""},
		{"trim and collapse", "  a \t\t b  ", 80, "a b"},
		{"newlines", "line one\nline two\r\nthree\u2028four\u2029five", 80, "line one line two three four five"},
		{"NUL", "bad\x00name", 80, "badname"},
		{"C0 and DEL", "a\x01\x1b[31mb\x7f", 80, "a[31mb"},
		{"C1", "a\u0085b\u009bc", 80, "a bc"},
		{"RLO", "invoice\u202Etxt.exe", 80, "invoicetxt.exe"},
		{"all embeddings", "\u202Aa\u202Bb\u202Cc\u202Dd\u202Ee", 80, "abcde"},
		{"isolates", "\u2066a\u2067b\u2068c\u2069", 80, "abc"},
		{"marks", "a\u200Eb\u200Fc\u061Cd", 80, "abcd"},
		{"hidden", "\uFEFFa\u200Bb\u2060c\U000E0041d\uFFF9e", 80, "abcde"},
		{"invalid UTF-8", "a\xffb\xc0\xafc\xed\xa0\x80d", 80, "abcd"},
		{"ZWJ kept", "👩\u200D💻 and \u0645\u200C\u06CC", 80, "👩\u200D💻 and \u0645\u200C\u06CC"},
		{"non-ASCII kept", "Fichier « été » 日本語", 80, "Fichier « été » 日本語"},
		{"zalgo", "a" + strings.Repeat("\u0301", 20) + "b", 80, "a" + strings.Repeat("\u0301", maxMarks) + "b"},
		{"exact cap", "abcde", 5, "abcde"},
		{"overlong", "abcdefghij", 5, "abcd…"},
		{"overlong multibyte", strings.Repeat("é", 100), 10, strings.Repeat("é", 9) + "…"},
		{"space before cut trimmed", "abc defgh", 5, "abc…"},
		{"no cap", strings.Repeat("x", 500), 0, strings.Repeat("x", 500)},
		{"only controls", "\x00\x01\u202E\n", 80, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Clean(tc.in, tc.max)
			if got != tc.want {
				t.Errorf("Clean(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("Clean(%q) is not valid UTF-8: %q", tc.in, got)
			}
			if tc.max > 0 && utf8.RuneCountInString(got) > tc.max {
				t.Errorf("Clean(%q, %d) has %d runes", tc.in, tc.max, utf8.RuneCountInString(got))
			}
		})
	}
}

func FuzzClean(f *testing.F) {
	f.Add("a\u202Eb\x00\n", 10)
	f.Fuzz(func(t *testing.T, s string, max int) {
		max %= 200
		got := Clean(s, max)
		if !utf8.ValidString(got) || strings.ContainsAny(got, "\x00\n\r\t\u202E\u2066") {
			t.Fatalf("Clean(%q) = %q", s, got)
		}
		if max > 0 && utf8.RuneCountInString(got) > max {
			t.Fatalf("Clean(%q, %d) too long: %q", s, max, got)
		}
		if Clean(got, max) != got {
			t.Fatalf("Clean is not idempotent on %q: %q", got, Clean(got, max))
		}
	})
}

// nf is a NewFile without a host name of its own.
func nf(name string, size int64, beside, folder string) *NewFile {
	return &NewFile{Name: name, Size: size, Beside: beside, Folder: folder}
}

func valid() Request {
	return Request{Mode: ModeOpen, SandboxName: "Tor Browser", SandboxIcon: "torbrowser"}
}

func TestValidate(t *testing.T) {
	txt := Filter{Name: "Text", Patterns: []Pattern{{Kind: PatternGlob, Value: "*.txt"}}}
	for _, tc := range []struct {
		name string
		edit func(*Request)
		ok   bool
	}{
		{"minimal", func(*Request) {}, true},
		{"full open", func(r *Request) {
			r.Multiple, r.ShowReadOnly, r.ReadOnlyDefault = true, true, true
			r.Filters = []Filter{txt, {Name: "Images", Patterns: []Pattern{{Kind: PatternMIME, Value: "image/*"}}}}
			r.CurrentFilter = &txt
			r.Choices = []Choice{{ID: "enc", Label: "Encoding", Options: [][2]string{{"a", "A"}, {"b", "B"}}, Default: "b"}, {ID: "x", Label: "X", Default: "true"}}
			r.CurrentFolder = "/home/amnesia"
			r.AppTitle = "\u202Eevil\x00 title" // display strings are cleaned, not refused
			r.TimeoutSeconds = 60
		}, true},
		{"save", func(r *Request) {
			r.Mode, r.CurrentName, r.CurrentFile = ModeSave, "report.pdf", "/home/amnesia/report.pdf"
		}, true},
		{"save-files", func(r *Request) { r.Mode, r.Files = ModeSaveFiles, []string{"a.txt", "b.txt"} }, true},
		{"new-file", func(r *Request) {
			r.Mode, r.NewFile = ModeNewFile, nf("report-v2.odt", 12, "report.odt", "/home/amnesia")
		}, true},
		{"new-file hostile name", func(r *Request) {
			r.Mode, r.NewFile = ModeNewFile, nf("\u202Eevil\tname.odt", 0, "report.odt", "/home/amnesia")
		}, true},
		{"new-file without file", func(r *Request) { r.Mode = ModeNewFile }, false},
		{"new-file host name", func(r *Request) {
			r.Mode, r.NewFile = ModeNewFile, &NewFile{Name: ".x", Beside: "r", Folder: "/home/a", HostName: "x"}
		}, true},
		{"new-file bad host name", func(r *Request) {
			r.Mode, r.NewFile = ModeNewFile, &NewFile{Name: ".x", Beside: "r", Folder: "/home/a", HostName: "a/b"}
		}, false},
		{"new-file slash", func(r *Request) { r.Mode, r.NewFile = ModeNewFile, nf("../x", 1, "report.odt", "/home/a") }, false},
		{"new-file NUL", func(r *Request) { r.Mode, r.NewFile = ModeNewFile, nf("a\x00", 1, "report.odt", "/home/a") }, false},
		{"new-file only controls", func(r *Request) { r.Mode, r.NewFile = ModeNewFile, nf("\u202E\x01", 1, "r", "/home/a") }, false},
		{"new-file negative size", func(r *Request) { r.Mode, r.NewFile = ModeNewFile, nf("a", -1, "r", "/home/a") }, false},
		{"new-file relative folder", func(r *Request) { r.Mode, r.NewFile = ModeNewFile, nf("a", 1, "r", "home/a") }, false},
		{"new-file bad beside", func(r *Request) { r.Mode, r.NewFile = ModeNewFile, nf("a", 1, "..", "/home/a") }, false},
		{"new-file with filters", func(r *Request) {
			r.Mode, r.NewFile = ModeNewFile, nf("a", 1, "r", "/home/a")
			r.Filters = []Filter{txt}
		}, false},
		{"new file in open", func(r *Request) { r.NewFile = nf("a", 1, "r", "/home/a") }, false},
		{"notice", func(r *Request) { r.Mode, r.Notice = ModeNotice, &Notice{Summary: "s", Body: "b"} }, true},
		{"notice with title", func(r *Request) { r.Mode, r.Notice = ModeNotice, &Notice{Title: "Airlock printing", Summary: "s"} }, true},
		{"notice title too long", func(r *Request) {
			r.Mode, r.Notice = ModeNotice, &Notice{Title: strings.Repeat("x", MaxStringBytes+1), Summary: "s"}
		}, false},
		{"notice without summary", func(r *Request) { r.Mode, r.Notice = ModeNotice, &Notice{Title: "t"} }, false},
		{"notice in open", func(r *Request) { r.Notice = &Notice{Summary: "s"} }, false},
		{"nil-free unknown mode", func(r *Request) { r.Mode = "delete" }, false},
		{"empty mode", func(r *Request) { r.Mode = "" }, false},
		{"no sandbox name", func(r *Request) { r.SandboxName = "" }, false},
		{"sandbox name only controls", func(r *Request) { r.SandboxName = "\u202E\x00" }, false},
		{"icon path", func(r *Request) { r.SandboxIcon = "../../etc/x.png" }, false},
		{"icon NUL", func(r *Request) { r.SandboxIcon = "a\x00b" }, false},
		{"overlong title", func(r *Request) { r.AppTitle = strings.Repeat("x", MaxStringBytes+1) }, false},
		{"negative timeout", func(r *Request) { r.TimeoutSeconds = -1 }, false},
		{"huge timeout", func(r *Request) { r.TimeoutSeconds = MaxTimeoutSeconds + 1 }, false},
		{"multiple save", func(r *Request) { r.Mode, r.Multiple = ModeSave, true }, false},
		{"directory save", func(r *Request) { r.Mode, r.Directory = ModeSave, true }, false},
		{"read-only save", func(r *Request) { r.Mode, r.ShowReadOnly = ModeSave, true }, false},
		{"relative folder", func(r *Request) { r.CurrentFolder = "home/x" }, false},
		{"unclean folder", func(r *Request) { r.CurrentFolder = "/home/x/../../etc" }, false},
		{"NUL in folder", func(r *Request) { r.CurrentFolder = "/home/x\x00/etc" }, false},
		{"invalid UTF-8 folder", func(r *Request) { r.CurrentFolder = "/home/\xff" }, false},
		{"current file in open", func(r *Request) { r.CurrentFile = "/etc/passwd" }, false},
		{"slash in name", func(r *Request) { r.Mode, r.CurrentName = ModeSave, "../x" }, false},
		{"dot-dot name", func(r *Request) { r.Mode, r.CurrentName = ModeSave, ".." }, false},
		{"overlong name", func(r *Request) { r.Mode, r.CurrentName = ModeSave, strings.Repeat("n", 256) }, false},
		{"save-files without files", func(r *Request) { r.Mode = ModeSaveFiles }, false},
		{"save-files slash", func(r *Request) { r.Mode, r.Files = ModeSaveFiles, []string{"a/b"} }, false},
		{"save-files NUL", func(r *Request) { r.Mode, r.Files = ModeSaveFiles, []string{"a\x00"} }, false},
		{"files in open", func(r *Request) { r.Files = []string{"a"} }, false},
		{"pattern kind", func(r *Request) { r.Filters = []Filter{{Name: "x", Patterns: []Pattern{{Kind: 2, Value: "*"}}}} }, false},
		{"empty pattern", func(r *Request) { r.Filters = []Filter{{Name: "x", Patterns: []Pattern{{Value: ""}}}} }, false},
		{"NUL pattern", func(r *Request) { r.Filters = []Filter{{Name: "x", Patterns: []Pattern{{Value: "*\x00"}}}} }, false},
		{"nameless filter", func(r *Request) { r.Filters = []Filter{{Name: "\n", Patterns: []Pattern{{Value: "*"}}}} }, false},
		{"bad current filter", func(r *Request) { r.CurrentFilter = &Filter{Name: "x\xff"} }, false},
		{"too many filters", func(r *Request) { r.Filters = make([]Filter, MaxFilters+1) }, false},
		{"reserved choice", func(r *Request) { r.Choices = []Choice{{ID: ReadOnlyChoiceID, Label: "x"}} }, false},
		{"duplicate choice", func(r *Request) { r.Choices = []Choice{{ID: "a"}, {ID: "a"}} }, false},
		{"empty choice id", func(r *Request) { r.Choices = []Choice{{ID: ""}} }, false},
		{"bad boolean default", func(r *Request) { r.Choices = []Choice{{ID: "a", Default: "yes"}} }, false},
		{"default not an option", func(r *Request) {
			r.Choices = []Choice{{ID: "a", Options: [][2]string{{"x", "X"}}, Default: "y"}}
		}, false},
		{"duplicate option", func(r *Request) {
			r.Choices = []Choice{{ID: "a", Options: [][2]string{{"x", "X"}, {"x", "Y"}}}}
		}, false},
		{"NUL in choice id", func(r *Request) { r.Choices = []Choice{{ID: "a\x00b"}} }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := valid()
			tc.edit(&r)
			err := Validate(&r)
			if (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
	if Validate(nil) == nil {
		t.Error("Validate(nil) succeeded")
	}
}

// The wire names are the contract with the broker.
func TestJSONNames(t *testing.T) {
	b, err := json.Marshal(Request{Mode: ModeOpen, CurrentFilter: &Filter{Name: "n", Patterns: []Pattern{{Kind: 1, Value: "v"}}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"mode"`, `"sandbox_name"`, `"sandbox_icon"`, `"app_title"`, `"accept_label"`, `"multiple"`,
		`"directory"`, `"filters"`, `"current_filter":{"name":"n","patterns":[{"kind":1,"value":"v"}]}`, `"choices"`,
		`"current_name"`, `"current_folder"`, `"current_file"`, `"files"`, `"show_read_only"`, `"read_only_default"`, `"timeout_seconds"`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("request JSON %s lacks %s", b, k)
		}
	}
	b, err = json.Marshal(Request{Mode: ModeNewFile, NewFile: &NewFile{Name: "n", Size: 3, Beside: "b", Folder: "/f"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `"new_file":{"name":"n","size":3,"beside":"b","folder":"/f"}`; !strings.Contains(string(b), want) {
		t.Errorf("request JSON %s lacks %s", b, want)
	}
	b, _ = json.Marshal(Response{Response: 0, Answer: AnswerKeep})
	if want := `"answer":"keep"`; !strings.Contains(string(b), want) {
		t.Errorf("response JSON %s lacks %s", b, want)
	}
	b, _ = json.Marshal(Response{Response: 2, Error: "e", Choices: [][2]string{{"a", "b"}}})
	if want := `{"response":2,"paths":null,"choices":[["a","b"]],"current_filter":null,"read_only":false,"error":"e"}`; string(b) != want {
		t.Errorf("response JSON %s, want %s", b, want)
	}
}

func TestFilterEqual(t *testing.T) {
	a := &Filter{Name: "a", Patterns: []Pattern{{0, "*.a"}}}
	b := &Filter{Name: "a", Patterns: []Pattern{{0, "*.a"}}}
	c := &Filter{Name: "a", Patterns: []Pattern{{1, "*.a"}}}
	if !a.Equal(b) || a.Equal(c) || a.Equal(nil) || !(*Filter)(nil).Equal(nil) {
		t.Error("Filter.Equal is wrong")
	}
}

func TestReadTrace(t *testing.T) {
	p := filepath.Join(t.TempDir(), "trace")
	if tr := ReadTrace(p); tr.HasEntry || tr.Responses != 0 || tr.Focus != "" {
		t.Fatalf("absent trace: %+v", tr)
	}
	data := "selected 0\nfocus GtkTreeView\nentry 0 1 .\nentry 5 9 /tmp/a b/\nselected 3\nresponse -5\nfocus GtkFileChooserEntry\n"
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	tr := ReadTrace(p)
	if !tr.HasEntry || tr.Entry.Text != "/tmp/a b/" || tr.Entry.Typed() != "/tmp/" || tr.Focus != "GtkFileChooserEntry" || tr.Selected != "3" || tr.Responses != 1 {
		t.Fatalf("trace %+v, typed %q", tr, tr.Entry.Typed())
	}
	if e := (TraceEntry{Text: "abc", SelStart: 0, SelEnd: 1}); e.Typed() != "abc" {
		t.Errorf("a selection not at the end is not a completion: %q", e.Typed())
	}
}

func TestCompanionFolder(t *testing.T) {
	for name, want := range map[string]string{
		"page.html":                        "page_files",
		"Page.HTM":                         "Page_files",
		"a.b.xhtml":                        "a.b_files",
		"news.shtml":                       "news_files",
		"page.html.txt":                    "",
		"page":                             "",
		".html":                            "",
		"report.odt":                       "",
		"dir/page.html":                    "",
		"\xffpage.html":                    "",
		strings.Repeat("x", 250) + ".html": "",
	} {
		if got := CompanionFolder(name); got != want {
			t.Errorf("CompanionFolder(%q) = %q, want %q", name, got, want)
		}
	}
}
