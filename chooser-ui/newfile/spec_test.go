package newfile

import (
	"strings"
	"testing"

	"airlock/chooser-ui/protocol"
)

func TestDescribe(t *testing.T) {
	r := &protocol.Request{
		Mode:        protocol.ModeNewFile,
		SandboxName: "gedit",
		NewFile: &protocol.NewFile{
			Name:   "report-v2\u202Egpj.odt\n" + strings.Repeat("x", 200),
			Size:   12345,
			Beside: "report.odt",
			Folder: "/home/amnesia/Documents",
		},
	}
	if err := protocol.Validate(r); err != nil {
		t.Fatal(err)
	}
	s := Describe(r, "12.3 kB")
	if s.Title != "gedit saved a new file" {
		t.Errorf("title %q", s.Title)
	}
	if !strings.HasPrefix(s.Primary, "gedit saved “report-v2gpj.odt x") || !strings.HasSuffix(s.Primary, "…” beside “report.odt”. Keep it?") {
		t.Errorf("primary %q", s.Primary)
	}
	if strings.ContainsAny(s.Primary, "\u202E\n") {
		t.Errorf("primary not cleaned: %q", s.Primary)
	}
	if !strings.Contains(s.Secondary, "12.3 kB") || !strings.Contains(s.Secondary, "/home/amnesia/Documents") {
		t.Errorf("secondary %q", s.Secondary)
	}
	if s.Keep != "_Keep" || s.Discard != "_Discard" {
		t.Errorf("buttons %q %q", s.Keep, s.Discard)
	}
	if strings.Contains(s.Secondary, "not hidden") {
		t.Errorf("secondary speaks of a host name: %q", s.Secondary)
	}

	// A hidden name is made visible on the host: the dialog says so.
	r.NewFile.Name, r.NewFile.HostName = ".xsessionrc", "xsessionrc"
	s = Describe(r, "1 byte")
	if !strings.Contains(s.Primary, "“.xsessionrc”") || !strings.Contains(s.Secondary, "as “xsessionrc” (not hidden)") {
		t.Errorf("primary %q secondary %q", s.Primary, s.Secondary)
	}
}
