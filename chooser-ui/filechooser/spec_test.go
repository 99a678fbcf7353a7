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
		{"save", protocol.Request{Mode: "save", SandboxName: "X", AcceptLabel: "E\x00xport\n"}, gtk.ActionSave, "X wants to save a file", "Export"},
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

	// The read-only switch comes last, with the chooser's own id and label.
	s = Describe(&protocol.Request{Mode: "open", SandboxName: "X", ShowReadOnly: true, ReadOnlyDefault: true,
		Choices: []protocol.Choice{{ID: "a", Label: "A\nb", Options: [][2]string{{"o", "O\u202E"}}}}})
	if len(s.Choices) != 2 || s.Choices[0].Label != "A b" || s.Choices[0].Options[0][1] != "O" {
		t.Fatalf("choices %+v", s.Choices)
	}
	if ro := s.Choices[1]; ro.ID != protocol.ReadOnlyChoiceID || ro.Label != "Open read-only" || ro.Default != "true" || len(ro.Options) != 0 {
		t.Errorf("read-only choice %+v", ro)
	}
}
