package openuri

import (
	"airlock/chooser-ui/gtk"
	"airlock/chooser-ui/protocol"
)

// WindowRole is the dialog's WM_WINDOW_ROLE.
const WindowRole = "airlock-open-uri"

// Run shows the question for a validated request, on the main OS thread
// after GTK is set up, and returns the answer.
func Run(r *protocol.Request, icon string) protocol.Response {
	s := Describe(r)
	q := gtk.NewCautiousQuestion(s.Title, icon, WindowRole, s.Primary, s.Secondary, s.DontOpen, s.Open)
	defer q.Destroy()
	q.HeaderColor(r.SandboxColor) // the profile's colour (issue 13 item 6)
	return q.Run(r.TimeoutSeconds).Response(protocol.AnswerOpen, protocol.AnswerDontOpen)
}
