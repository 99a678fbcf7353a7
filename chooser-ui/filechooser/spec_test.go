package filechooser

import (
	"strings"
	"testing"

	"airlock/chooser-ui/gtk"
	"airlock/chooser-ui/protocol"
)

func TestDescribe(t *testing.T) {
	t.Setenv("LANGUAGE", "C")
	txt := protocol.Filter{Name: "Text\u202E", Patterns: []protocol.Pattern{{Kind: 0, Value: "*.txt"}}}
	other := protocol.Filter{Name: "Other", Patterns: []protocol.Pattern{{Kind: 1, Value: "image/png"}}}
	for _, tc := range []struct {
		name   string
		req    protocol.Request
		action gtk.Action
		title  string
		accept string
	}{
		{"open", protocol.Request{Mode: "open", SandboxName: "Tor Browser"}, gtk.ActionOpen, "Tor Browser wants to open a file", "_Open"},
		{"open many", protocol.Request{Mode: "open", SandboxName: "X", Multiple: true}, gtk.ActionOpen, "X wants to open files", "_Open"},
		{"folder", protocol.Request{Mode: "open", SandboxName: "X", Directory: true}, gtk.ActionSelectFolder, "X wants to choose a folder", "_Select"},
		{"save", protocol.Request{Mode: "save", SandboxName: "X", AcceptLabel: "E\x00xport\n"}, gtk.ActionSave, "X wants to save a file", "_Save"},
		// The application's label is never a button: "_Cancel" once made a
		// second Cancel button that granted write access.
		{"accept label _Cancel", protocol.Request{Mode: "save", SandboxName: "X", AcceptLabel: "_Cancel"}, gtk.ActionSave, "X wants to save a file", "_Save"},
		{"accept label on open", protocol.Request{Mode: "open", SandboxName: "X", AcceptLabel: "_Cancel"}, gtk.ActionOpen, "X wants to open a file", "_Open"},
		{"save-files", protocol.Request{Mode: "save-files", SandboxName: "X", Files: []string{"a"}}, gtk.ActionSelectFolder, "X wants to save files into a folder", "_Select"},
		{"spoofing name cleaned", protocol.Request{Mode: "open", SandboxName: "X\u202Eevil\n"}, gtk.ActionOpen, "Xevil wants to open a file", "_Open"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Describe(&tc.req)
			if s.Action != tc.action || s.Title != tc.title || s.Accept != tc.accept {
				t.Errorf("got (%v, %q, %q), want (%v, %q, %q)", s.Action, s.Title, s.Accept, tc.action, tc.title, tc.accept)
			}
		})
	}

	s := Describe(&protocol.Request{Mode: "open", SandboxName: "X", AppTitle: "Open\u202E " + strings.Repeat("y", 200)})
	if !strings.HasPrefix(s.Secondary, "The application says: “Open yyy") || !strings.HasSuffix(s.Secondary, "…”") || strings.Contains(s.Secondary, "\u202E") {
		t.Errorf("secondary %q", s.Secondary)
	}
	if s.Title != "X wants to open a file" {
		t.Errorf("the application's title leaked into the trusted title: %q", s.Title)
	}

	// A current filter from the list is selected; one that is not is added.
	r := protocol.Request{Mode: "open", SandboxName: "X", Filters: []protocol.Filter{other, txt}, CurrentFilter: &txt}
	s = Describe(&r)
	if s.CurrentFilter != 1 || len(s.Filters) != 2 || s.Filters[1].Name != "Text" {
		t.Errorf("filters %+v current %d", s.Filters, s.CurrentFilter)
	}
	if f := filterFor(&r, 1); !f.Equal(&txt) {
		t.Errorf("filterFor gives %+v, want the request's own %+v", f, txt)
	}
	r.Filters = []protocol.Filter{other}
	s = Describe(&r)
	if s.CurrentFilter != 1 || len(s.Filters) != 2 {
		t.Errorf("filters %+v current %d", s.Filters, s.CurrentFilter)
	}
	if f := filterFor(&r, 1); !f.Equal(&txt) || filterFor(&r, -1) != nil {
		t.Errorf("filterFor gives %+v", f)
	}

	// The application's label is only a hint, shown as its words.
	s = Describe(&protocol.Request{Mode: "save", SandboxName: "X", AcceptLabel: "_Cancel\u202e"})
	if s.AcceptHint != "The application calls this: “Cancel”" || s.Accept != "_Save" || s.Cancel != "_Cancel" {
		t.Errorf("accept %q, cancel %q, hint %q", s.Accept, s.Cancel, s.AcceptHint)
	}

	// The read-only switch is Airlock's own, apart from the application's
	// choices, which keep their cleaned labels.
	s = Describe(&protocol.Request{Mode: "open", SandboxName: "X", ShowReadOnly: true, ReadOnlyDefault: true,
		Choices: []protocol.Choice{{ID: "a", Label: "A\nb", Options: [][2]string{{"o", "O\u202E"}}}}})
	if len(s.Choices) != 1 || s.Choices[0].Label != "A b" || s.Choices[0].Options[0][1] != "O" {
		t.Fatalf("choices %+v", s.Choices)
	}
	if s.ReadOnly != "Open _read-only" || !s.ReadOnlyDefault || s.OptionsHeading != "Options from X" {
		t.Errorf("read-only switch %q (default %v), heading %q", s.ReadOnly, s.ReadOnlyDefault, s.OptionsHeading)
	}
	if s = Describe(&protocol.Request{Mode: "save", SandboxName: "X"}); s.ReadOnly != "" {
		t.Errorf("read-only switch shown when saving: %q", s.ReadOnly)
	}
}

// TestChoiceImitationNeutralised: an application's choice whose label could
// pass for Airlock's read-only switch, or speaks of write access, is renamed.
func TestChoiceImitationNeutralised(t *testing.T) {
	t.Setenv("LANGUAGE", "C")
	for _, l := range []string{
		"Open read-only", "open READ-ONLY", "Read only", "read_only", "Readonly",
		"Re\u200bad-only", "Read\u2010Only", "re\u0430d-only", "Re ad-on1y", "ｒｅａｄ－ｏｎｌｙ",
		"Allow writing", "Writable", "Overwrite", "Airlock: safe", "Schreibgeschützt öffnen",
	} {
		s := Describe(&protocol.Request{Mode: "open", SandboxName: "X", ShowReadOnly: true,
			Choices: []protocol.Choice{{ID: "c", Label: l, Default: "true"}, {ID: "m", Label: "Mode", Options: [][2]string{{"ro", l}, {"x", "Plain"}}}}})
		if got := s.Choices[0].Label; got != "Application option 1 (its name looked like Airlock's)" {
			t.Errorf("label %q shown as %q", l, got)
		}
		if got := s.Choices[1].Options[0][1]; got != "Choice 1 (its name looked like Airlock's)" {
			t.Errorf("option label %q shown as %q", l, got)
		}
		if s.Choices[0].ID != "c" || s.Choices[0].Default != "true" || s.Choices[1].Options[1][1] != "Plain" {
			t.Errorf("renaming changed more than the label: %+v", s.Choices)
		}
	}
	for _, l := range []string{"Encoding", "Compress", "Strip metadata", "Line endings", "Read me first? no: Readme",
		"\u202eylno-daer nepO", // Clean drops the override: it reads backwards, imitating nothing
	} {
		s := Describe(&protocol.Request{Mode: "open", SandboxName: "X", Choices: []protocol.Choice{{ID: "c", Label: l}}})
		if got := s.Choices[0].Label; got != protocol.Clean(l, protocol.MaxChoiceLabel) {
			t.Errorf("ordinary label %q renamed to %q", l, got)
		}
	}
}

// TestSaveFilesNames: every name that will be written is listed, each
// character visible, the risky ones marked.
func TestSaveFilesNames(t *testing.T) {
	t.Setenv("LANGUAGE", "C")
	s := Describe(&protocol.Request{Mode: "save-files", SandboxName: "X",
		Files: []string{"photo1.jpg", ".bash_aliases", "x.desktop", "a\u202egpj.exe", " spaced "}})
	want := []string{"photo1.jpg", "⚠ .bash_aliases", "⚠ x.desktop", "a<U+202E>gpj.exe", "“ spaced ”"}
	if strings.Join(s.Names, "|") != strings.Join(want, "|") {
		t.Errorf("names %q, want %q", s.Names, want)
	}
	if s.NamesHeading != "X will write these files into the folder you select:" {
		t.Errorf("heading %q", s.NamesHeading)
	}
}

// TestCompanionNote: a save of NAME.html says that the application may also
// save NAME_files beside it; other saves and opens say nothing of it.
func TestCompanionNote(t *testing.T) {
	t.Setenv("LANGUAGE", "C")
	for _, tc := range []struct {
		mode string
		name string
		want string
	}{
		{protocol.ModeSave, "page.html", "Firefox may also save a folder “page_files” beside it."},
		{protocol.ModeSave, "report.odt", ""},
		{protocol.ModeSave, "", ""},
		{protocol.ModeOpen, "page.html", ""},
	} {
		s := Describe(&protocol.Request{Mode: tc.mode, SandboxName: "Firefox", CurrentName: tc.name})
		if s.Companion != tc.want {
			t.Errorf("%v %q: note %q, want %q", tc.mode, tc.name, s.Companion, tc.want)
		}
	}
}
