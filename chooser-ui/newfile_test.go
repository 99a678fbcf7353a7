package main

import (
	"testing"

	"airlock/chooser-ui/protocol"
)

func newFileRequest(timeout int) protocol.Request {
	return protocol.Request{
		Mode: protocol.ModeNewFile, SandboxName: sandbox, TimeoutSeconds: timeout,
		NewFile: &protocol.NewFile{Name: "report-v2\u202E.odt", Size: 2048, Beside: "report.odt", Folder: "/home/amnesia/Documents"},
	}
}

// The "Keep it?" question: its window is titled with the sandbox's name; its
// buttons answer keep and discard (mnemonics, as a keyboard user would);
// Escape and the timeout give no answer.
func TestNewFileQuestion(t *testing.T) {
	for _, tc := range []struct {
		name    string
		keys    []string
		timeout int
		want    protocol.Response
	}{
		{"keep is the default", []string{"Return"}, 0, protocol.Response{Response: protocol.ResponseSuccess, Answer: protocol.AnswerKeep}},
		{"keep", []string{"alt+k"}, 0, protocol.Response{Response: protocol.ResponseSuccess, Answer: protocol.AnswerKeep}},
		{"discard", []string{"alt+d"}, 0, protocol.Response{Response: protocol.ResponseSuccess, Answer: protocol.AnswerDiscard}},
		{"escape", []string{"Escape"}, 0, protocol.Response{Response: protocol.ResponseCancelled}},
		{"timeout", nil, 1, protocol.Response{Response: protocol.ResponseOther, Error: "timed out"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			display := startXvfb(t)
			c := startChooser(t, display, newFileRequest(tc.timeout))
			wid := c.waitDialog(sandbox + " saved a new file")
			if got := c.xdo("getwindowname", wid); got != sandbox+" saved a new file" {
				t.Errorf("title %q", got)
			}
			if len(tc.keys) > 0 {
				c.key(tc.keys...)
			}
			r := c.response()
			if r.Response != tc.want.Response || r.Answer != tc.want.Answer || r.Error != tc.want.Error {
				t.Errorf("response %+v, want %+v", r, tc.want)
			}
		})
	}
}
