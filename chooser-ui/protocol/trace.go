package protocol

import (
	"os"
	"strconv"
	"strings"
)

// EnvTrace names a file where airlock-chooser appends what its dialog shows
// (tests only; chooser-ui/gtk writes it): "entry SEL_START SEL_END TEXT" when
// the focused text entry changes, "focus TYPE" when the keyboard moves,
// "selected N" when the number of selected files changes, "response N" when
// the dialog answers. Tests wait on it as a person looks at the screen.
const EnvTrace = "AIRLOCK_CHOOSER_TRACE"

// Trace is the last state a trace file shows.
type Trace struct {
	Entry     TraceEntry
	HasEntry  bool
	Focus     string // the GTK type of the focused widget ("" before any)
	Selected  string // the last "selected" count as written ("" before any)
	Responses int    // how many times the dialog answered
	Windows   int    // windows of the chooser shown (not popups)
}

// TraceEntry is a text entry's text and selected range, in characters.
type TraceEntry struct {
	Text             string
	SelStart, SelEnd int
}

// Typed is the text without a selected suffix (GTK's inline completion).
func (e TraceEntry) Typed() string {
	r := []rune(e.Text)
	if e.SelStart != e.SelEnd && e.SelEnd == len(r) && e.SelStart <= len(r) {
		return string(r[:e.SelStart])
	}
	return e.Text
}

// ReadTrace reads the trace file at path (an empty Trace when absent).
func ReadTrace(path string) Trace {
	var t Trace
	b, _ := os.ReadFile(path)
	for _, l := range strings.Split(string(b), "\n") {
		kind, rest, _ := strings.Cut(l, " ")
		switch kind {
		case "entry":
			f := strings.SplitN(rest, " ", 3)
			if len(f) == 3 {
				a, _ := strconv.Atoi(f[0])
				e, _ := strconv.Atoi(f[1])
				t.Entry, t.HasEntry = TraceEntry{Text: f[2], SelStart: a, SelEnd: e}, true
			}
		case "focus":
			t.Focus = rest
		case "selected":
			t.Selected = rest
		case "response":
			t.Responses++
		case "windows":
			t.Windows, _ = strconv.Atoi(rest)
		}
	}
	return t
}
