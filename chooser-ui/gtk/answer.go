package gtk

import "airlock/chooser-ui/protocol"

// Response is the chooser's reply to the broker for how a question ended:
// yes and no are the protocol's words for its two buttons (Keep/Discard,
// Open/Don't Open, Allow/Refuse).
func (a Answer) Response(yes, no string) protocol.Response {
	switch a {
	case AnswerYes:
		return protocol.Response{Response: protocol.ResponseSuccess, Answer: yes}
	case AnswerNo:
		return protocol.Response{Response: protocol.ResponseSuccess, Answer: no}
	case AnswerTimeout:
		return protocol.Response{Response: protocol.ResponseOther, Error: "timed out"}
	default:
		return protocol.Response{Response: protocol.ResponseCancelled}
	}
}
