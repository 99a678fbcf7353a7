package openuri

import (
	"strings"
	"testing"

	"airlock/chooser-ui/protocol"
)

func TestDescribeShowsTheWholeLink(t *testing.T) {
	uri := "https://example.org/" + strings.Repeat("abcdefghij", 40) + "?q=1"
	r := &protocol.Request{Mode: protocol.ModeOpenURI, SandboxName: "Tor Browser", OpenURI: &protocol.OpenURI{URI: uri}}
	if err := protocol.Validate(r); err != nil {
		t.Fatal(err)
	}
	s := Describe(r)
	if !strings.Contains(s.Primary, "Tor Browser") || !strings.Contains(s.Primary, "(https)") {
		t.Errorf("primary text does not name the sandbox and the scheme: %q", s.Primary)
	}
	if !strings.Contains(s.Secondary, "Site: example.org") {
		t.Errorf("secondary text does not name the site: %q", s.Secondary)
	}
	// Every character of the link, in order, only broken into lines.
	shown := s.Secondary[strings.Index(s.Secondary, "https://"):]
	shown = shown[:strings.Index(shown, "\n\n")]
	if strings.ReplaceAll(shown, "\n", "") != uri {
		t.Errorf("the link shown is not the link opened:\n%s", shown)
	}
	for _, l := range strings.Split(shown, "\n") {
		if len(l) > lineWidth {
			t.Errorf("line of %d characters", len(l))
		}
	}
}

func TestDescribeFile(t *testing.T) {
	r := &protocol.Request{Mode: protocol.ModeOpenURI, SandboxName: "Editor", OpenURI: &protocol.OpenURI{Path: "/home/u/Docs/report\u202egnp.odt"}}
	s := Describe(r)
	if !strings.Contains(s.Primary, "“reportgnp.odt”") || !strings.Contains(s.Secondary, "/home/u/Docs/") {
		t.Errorf("file dialog: %q / %q", s.Primary, s.Secondary)
	}
}
