package protocol

import (
	"strings"
	"testing"
)

func TestCheckURI(t *testing.T) {
	for _, c := range []struct {
		uri, scheme string // scheme "": refused
	}{
		{"https://example.org/a?b=c#d", "https"},
		{"http://example.org", "http"},
		{"HTTPS://EXAMPLE.ORG/", "https"},
		{"mailto:someone@example.org?subject=hi", "mailto"},
		{"https://xn--bcher-kva.example/", "https"},
		{"https://example.org/%E2%80%AE", "https"}, // an escaped RLO stays escaped: shown as typed
		{"", ""},
		{"file:///etc/passwd", ""},
		{"javascript:alert(1)", ""},
		{"data:text/html,<script>", ""},
		{"ftp://example.org/", ""},
		{"x-scheme://open", ""},
		{"https://bank.example@evil.example/", ""},
		{"https:///path-only", ""},
		{"https:opaque", ""},
		{"mailto:", ""},
		{"https://example.org/\x07bell", ""},
		{"https://example.org/a\nb", ""},
		{"https://example.org/ space", ""},
		{"https://bücher.example/", ""},
		{"https://example.org/\u202egnp.exe", ""},
		{"https://example.org/" + strings.Repeat("a", 10*1024), ""},
		{"/etc/passwd", ""},
		{"-e", ""},
	} {
		got, err := CheckURI(c.uri)
		if c.scheme == "" {
			if err == nil {
				t.Errorf("CheckURI(%q) = %q, want a refusal", c.uri, got)
			}
			continue
		}
		if err != nil || got != c.scheme {
			t.Errorf("CheckURI(%q) = %q, %v; want %q", c.uri, got, err, c.scheme)
		}
	}
}

func TestValidateOpenURI(t *testing.T) {
	ok := []Request{
		{Mode: ModeOpenURI, SandboxName: "S", OpenURI: &OpenURI{URI: "https://example.org/"}},
		{Mode: ModeOpenURI, SandboxName: "S", OpenURI: &OpenURI{Path: "/home/u/a.pdf"}},
		{Mode: ModeOpenURI, SandboxName: "S", OpenURI: &OpenURI{Path: "/home/u", Directory: true}},
	}
	for i := range ok {
		if err := Validate(&ok[i]); err != nil {
			t.Errorf("request %d refused: %v", i, err)
		}
	}
	bad := []Request{
		{Mode: ModeOpenURI, SandboxName: "S"},
		{Mode: ModeOpenURI, SandboxName: "S", OpenURI: &OpenURI{}},
		{Mode: ModeOpenURI, SandboxName: "S", OpenURI: &OpenURI{URI: "https://example.org/", Path: "/a"}},
		{Mode: ModeOpenURI, SandboxName: "S", OpenURI: &OpenURI{URI: "file:///etc/passwd"}},
		{Mode: ModeOpenURI, SandboxName: "S", OpenURI: &OpenURI{Path: "relative"}},
		{Mode: ModeOpenURI, SandboxName: "S", OpenURI: &OpenURI{URI: "https://example.org/", Directory: true}},
		{Mode: ModeOpenURI, SandboxName: "S", Multiple: true, OpenURI: &OpenURI{URI: "https://example.org/"}},
		{Mode: ModeOpen, SandboxName: "S", OpenURI: &OpenURI{URI: "https://example.org/"}},
	}
	for i := range bad {
		if err := Validate(&bad[i]); err == nil {
			t.Errorf("bad request %d accepted", i)
		}
	}
}
