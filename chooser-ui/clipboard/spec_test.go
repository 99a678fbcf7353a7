package clipboard

import (
	"strings"
	"testing"

	"airlock/chooser-ui/protocol"
)

func TestDescribe(t *testing.T) {
	for _, c := range []struct {
		clip protocol.Clipboard
		want []string
	}{
		{protocol.Clipboard{Source: "Notes", Destination: "Tor Browser", Kind: "text", Size: 1234}, []string{"1.2 kB of text", "Notes", "Tor Browser"}},
		{protocol.Clipboard{Source: "host", Destination: "Viewer", Kind: "image", Size: 3 << 20}, []string{"an image of 3.1 MB", "host", "Viewer"}},
		{protocol.Clipboard{Source: "A\u202eB", Destination: "C", Kind: "text", Size: 5}, []string{"5 B of text"}},
	} {
		r := &protocol.Request{Mode: protocol.ModeClipboard, SandboxName: c.clip.Source, Clipboard: &c.clip}
		if err := protocol.Validate(r); err != nil {
			t.Fatalf("%+v: %v", c.clip, err)
		}
		s := Describe(r)
		for _, w := range c.want {
			if !strings.Contains(s.Primary, w) {
				t.Errorf("%+v: %q lacks %q", c.clip, s.Primary, w)
			}
		}
		if strings.ContainsRune(s.Primary, '\u202e') {
			t.Errorf("a bidi override reached the dialog: %q", s.Primary)
		}
	}
	for _, bad := range []protocol.Clipboard{
		{Source: "", Destination: "B", Kind: "text"},
		{Source: "A", Destination: "B", Kind: "files"},
		{Source: "A", Destination: "B", Kind: "text", Size: -1},
	} {
		if err := protocol.Validate(&protocol.Request{Mode: protocol.ModeClipboard, SandboxName: "A", Clipboard: &bad}); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
