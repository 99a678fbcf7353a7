package main

import (
	"regexp"
	"testing"
	"time"

	"airlock/chooser-ui/protocol"
	"airlock/tests/harness"
)

// TestDialogColour: every dialog Airlock draws about one sandbox carries the
// profile's colour (issue 13 item 6) beside Airlock's own words: the file
// chooser, the new-file and open-link questions and the print dialog. The
// bar is 10 pixels wide down Airlock's area; without a colour none of its
// pixels are there.
func TestDialogColour(t *testing.T) {
	const hex = "#12ab34"
	for _, tc := range []struct {
		name, title string
		req         protocol.Request
	}{
		{"file chooser", sandbox, protocol.Request{Mode: protocol.ModeOpen, SandboxName: sandbox}},
		{"new file", sandbox + " saved a new file", newFileRequest(0)},
		{"open link", sandbox + " wants to open something on this computer",
			protocol.Request{Mode: protocol.ModeOpenURI, SandboxName: sandbox, OpenURI: &protocol.OpenURI{URI: "https://example.org/"}}},
		{"print", sandbox + " wants to print",
			protocol.Request{Mode: protocol.ModePrint, SandboxName: sandbox, Print: &protocol.Print{Title: "memo"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			display := startXvfb(t)
			if tc.req.Mode == protocol.ModeOpen {
				tc.req.CurrentFolder = t.TempDir()
			}
			env := []string{"DISPLAY=" + display}
			// count shows the dialog and counts the colour's pixels.
			count := func(req protocol.Request, want bool) int {
				c := startChooser(t, display, req)
				wid := c.waitWindows("--name", regexp.QuoteMeta(tc.title), 1)[0]
				// Without a colour: 3 s of pictures, none may show it.
				min, limit := 1, 3*time.Second
				if want {
					min, limit = 200, 20*time.Second
				}
				n, err := harness.AwaitColor(env, wid, hex, min, limit)
				if err != nil {
					t.Fatal(err)
				}
				c.focus(wid)
				c.key("Escape")
				c.response()
				return n
			}
			plain := count(tc.req, false)
			tc.req.SandboxColor = hex
			if n := count(tc.req, true); n < 200 {
				t.Errorf("with colour %s the dialog shows %d pixels of it, want a bar (≥ 200)", hex, n)
			}
			if plain != 0 {
				t.Errorf("without a colour the dialog shows %d pixels of %s", plain, hex)
			}
		})
	}
}
