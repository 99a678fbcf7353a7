package protocol

import "testing"

func TestValidPrinterName(t *testing.T) {
	for s, want := range map[string]bool{
		"Office": true, "cups-pdf_2": true, "HP@floor.3": true,
		"": false, "-o": false, "a b": false, "a/b": false, "a#b": false, "a\\b": false, "é": false, "a\x00": false,
	} {
		if got := ValidPrinterName(s); got != want {
			t.Errorf("ValidPrinterName(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestValidatePrint(t *testing.T) {
	ok := Request{Mode: ModePrint, SandboxName: "Notes", Print: &Print{Title: "t", Settings: map[string]string{"n-copies": "1"}, PageSetup: &PageSetup{Width: 210, Height: 297}}}
	if err := Validate(&ok); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]Request{
		"no print":       {Mode: ModePrint, SandboxName: "Notes"},
		"bad key":        {Mode: ModePrint, SandboxName: "Notes", Print: &Print{Settings: map[string]string{"a b": "1"}}},
		"huge page":      {Mode: ModePrint, SandboxName: "Notes", Print: &Print{PageSetup: &PageSetup{Width: 1e7}}},
		"print in open":  {Mode: ModeOpen, SandboxName: "Notes", Print: &Print{}},
		"file filters":   {Mode: ModePrint, SandboxName: "Notes", Print: &Print{}, Filters: []Filter{{Name: "x"}}},
		"bad value utf8": {Mode: ModePrint, SandboxName: "Notes", Print: &Print{Settings: map[string]string{"scale": "\xff"}}},
	} {
		if err := Validate(&r); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
