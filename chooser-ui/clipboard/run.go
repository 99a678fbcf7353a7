package clipboard

import (
	"airlock/chooser-ui/gtk"
	"airlock/chooser-ui/protocol"
)

// WindowRole is the dialog's WM_WINDOW_ROLE.
const WindowRole = "airlock-clipboard"

// Run shows the question for a validated request, on the main OS thread
// after GTK is set up, and returns the answer.
func Run(r *protocol.Request, icon string) protocol.Response {
	s := Describe(r)
	q := gtk.NewCautiousQuestion(s.Title, icon, WindowRole, s.Primary, s.Secondary, s.Refuse, s.Allow)
	defer q.Destroy()
	switch q.Run(r.TimeoutSeconds) {
	case gtk.AnswerYes:
		return protocol.Response{Response: protocol.ResponseSuccess, Answer: protocol.AnswerAllow}
	case gtk.AnswerNo:
		return protocol.Response{Response: protocol.ResponseSuccess, Answer: protocol.AnswerRefuse}
	case gtk.AnswerTimeout:
		return protocol.Response{Response: protocol.ResponseOther, Error: "timed out"}
	default:
		return protocol.Response{Response: protocol.ResponseCancelled}
	}
}
