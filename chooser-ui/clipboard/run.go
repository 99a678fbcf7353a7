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
	return q.Run(r.TimeoutSeconds).Response(protocol.AnswerAllow, protocol.AnswerRefuse)
}

// NoticeRole is the notice's WM_WINDOW_ROLE.
const NoticeRole = "airlock-notice"

// NoticeSeconds is how long a notice stays.
const NoticeSeconds = 4

// Notice shows what moved (or why nothing did) for NoticeSeconds, drawn by
// Airlock at the top right of the host screen, and answers when it is gone.
func Notice(r *protocol.Request, icon string) protocol.Response {
	n := r.Notice
	title := NoticeTitle()
	if t := protocol.Clean(n.Title, 100); t != "" {
		title = t
	}
	gtk.Notice(title, icon, NoticeRole, protocol.Clean(n.Summary, 200), protocol.Clean(n.Body, 400), NoticeSeconds*1000)
	return protocol.Response{Response: protocol.ResponseSuccess}
}
