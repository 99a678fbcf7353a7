package cli

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"airlock/po/i18n"
	"airlock/portal/control"
)

// cmdLog prints what the broker did for sandboxes: grants, revocations,
// prints, clipboard crossings and refused calls, one line each, from its
// structured log (slog's text format): $XDG_RUNTIME_DIR/airlock/portal.log
// and the rotated portal.log.1, or the user's journal when the broker runs
// under systemd and there is no file. The broker never logs contents (a
// clipboard crossing is its type and size), and this prints only the log's
// fields, each made safe for a terminal: a name or a D-Bus member comes from
// the sandbox and may hold escape sequences.
func cmdLog(args []string) int {
	fs := flag.NewFlagSet("log", flag.ContinueOnError)
	fs.SetOutput(stderr)
	key := fs.String("sandbox", "", "only this sandbox (id, id prefix or name)")
	since := fs.String("since", "", "only events from TIME on (2006-01-02 15:04, 15:04, RFC 3339, or a duration ago: 10m)")
	fs.Usage = func() { fmt.Fprint(stderr, usage()) }
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		fmt.Fprint(stderr, usage())
		return exitUsage
	}
	var from time.Time
	if *since != "" {
		t, err := parseSince(*since, time.Now())
		if err != nil {
			errorf("%s", i18n.T("--since: %q is not a time (2006-01-02 15:04, 15:04, RFC 3339) or a duration (10m, 2h)", *since))
			return exitUsage
		}
		from = t
	}
	src, err := openBrokerLog()
	if err != nil {
		errorf("%v", err)
		return exitFailed
	}
	events := parseLog(src)
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, i18n.T("TIME\tSANDBOX\tEVENT\tDETAILS"))
	for _, ev := range events {
		if !from.IsZero() && ev.time.Before(from) {
			continue
		}
		if *key != "" && !ev.about(*key) {
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", ev.time.Local().Format("2006-01-02 15:04:05"), ev.sandbox(), ev.kindLabel(), ev.details())
	}
	w.Flush()
	return 0
}

// openBrokerLog returns the broker's log, oldest line first.
func openBrokerLog() (io.Reader, error) {
	path, err := control.LogFile()
	if err == nil {
		var buf bytes.Buffer
		found := false
		for _, p := range []string{path + ".1", path} {
			b, err := os.ReadFile(p)
			if err == nil {
				found = true
				buf.Write(b)
				if len(b) > 0 && b[len(b)-1] != '\n' {
					buf.WriteByte('\n')
				}
			}
		}
		if found {
			return &buf, nil
		}
	}
	// A broker run by systemd (airlock-portal.service) logs to the journal.
	if j, jerr := exec.LookPath("journalctl"); jerr == nil {
		out, jerr := exec.Command(j, "--user", "--unit", "airlock-portal.service", "--output", "cat", "--no-pager", "--quiet").Output()
		if jerr == nil && len(bytes.TrimSpace(out)) > 0 {
			return bytes.NewReader(out), nil
		}
	}
	if path == "" {
		return nil, errors.New(i18n.T("no broker log: XDG_RUNTIME_DIR is not set, and the journal has nothing from airlock-portal.service"))
	}
	return nil, errors.New(i18n.T("no broker log: neither %s nor the journal (journalctl --user --unit airlock-portal.service) has one", path))
}

// An event is one line of the broker's log that airlock log shows.
type event struct {
	time  time.Time
	kind  string
	attrs []attr
	names map[string]string // sandbox id -> name, from "sandbox registered"
}

type attr struct{ k, v string }

func (e *event) get(k string) string {
	for _, a := range e.attrs {
		if a.k == k {
			return a.v
		}
	}
	return ""
}

// Event kinds, by the broker's messages (portal/broker, portal/filechooser,
// portal/clipboard, portal/busserver, the print portal).
const (
	kindStart     = "start"
	kindEnd       = "end"
	kindGrant     = "grant"
	kindRevoke    = "revoke"
	kindTrash     = "trash"
	kindPrint     = "print"
	kindClipboard = "clipboard"
	kindRefused   = "refused"
)

// classify says which kind of event a message is, "" for one not shown.
func classify(msg string) string {
	m := strings.ToLower(msg)
	switch {
	case m == "sandbox registered":
		return kindStart
	case m == "sandbox ended":
		return kindEnd
	case m == "granted" || m == "grant restored":
		return kindGrant
	case m == "revoked":
		return kindRevoke
	case strings.HasPrefix(m, "granted file moved to the trash"):
		return kindTrash
	case strings.HasPrefix(m, "clipboard crossed"), strings.HasPrefix(m, "clipboard copied"),
		strings.HasPrefix(m, "clipboard crossing refused"), strings.HasPrefix(m, "clipboard copy refused"):
		return kindClipboard
	case strings.Contains(m, "print"):
		return kindPrint
	case strings.Contains(m, "refus"), strings.Contains(m, "denied"):
		return kindRefused
	}
	return ""
}

func (e *event) kindLabel() string {
	switch e.kind {
	case kindStart:
		return i18n.T("start")
	case kindEnd:
		return i18n.T("end")
	case kindGrant:
		return i18n.T("grant")
	case kindRevoke:
		return i18n.T("revoke")
	case kindTrash:
		return i18n.T("trash")
	case kindPrint:
		return i18n.T("print")
	case kindClipboard:
		return i18n.T("clipboard")
	}
	return i18n.T("refused")
}

// idKeys and nameKeys name the sandboxes an event is about.
var (
	idKeys   = []string{"sandbox_id", "source_id", "destination_id"}
	nameKeys = []string{"sandbox", "source", "destination"}
)

// about reports whether the event concerns the sandbox key (id, id prefix
// or name).
func (e *event) about(key string) bool {
	for _, k := range idKeys {
		// An id prefix as airlock ps shows it; a short key is a name.
		if v := e.get(k); v != "" && (v == key || len(key) >= 4 && strings.HasPrefix(v, key)) {
			return true
		}
	}
	for _, k := range nameKeys {
		if e.get(k) == key {
			return true
		}
	}
	if id := e.get("sandbox_id"); id != "" && e.names[id] == key {
		return true
	}
	return false
}

func (e *event) sandbox() string {
	id := e.get("sandbox_id")
	name := e.get("sandbox")
	if name == "" {
		name = e.names[id]
	}
	switch {
	case e.kind == kindClipboard && id == "":
		// A crossing names its two domains in its details.
		return "-"
	case name != "" && id != "":
		return safe(name) + " (" + safe(id) + ")"
	case name != "":
		return safe(name)
	case id != "":
		return safe(id)
	}
	return "-"
}

// hidden are fields every line has, or that say nothing to the user.
var hidden = map[string]bool{"time": true, "level": true, "msg": true, "sandbox": true, "sandbox_id": true, "stack": true}

func (e *event) details() string {
	var b strings.Builder
	b.WriteString(safe(e.get("msg")))
	for _, a := range e.attrs {
		if hidden[a.k] || a.v == "" {
			continue
		}
		b.WriteString(" " + safe(a.k) + "=" + safe(a.v))
	}
	return b.String()
}

// safe quotes a value that holds anything but printable characters without
// spaces: nothing from a log line reaches the terminal as a control
// sequence (a sandbox chooses the member names of its refused calls).
func safe(s string) string {
	if len(s) > 512 {
		s = s[:512] + "…"
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) || r == '"' {
			return strconv.QuoteToGraphic(s)
		}
	}
	return s
}

// parseLog reads slog text lines and keeps the events airlock log shows.
// Lines it cannot read (a panic's trace, another program's output) are
// skipped.
func parseLog(r io.Reader) []*event {
	names := map[string]string{}
	var out []*event
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		attrs, ok := parseLogfmt(sc.Text())
		if !ok {
			continue
		}
		e := &event{attrs: attrs, names: names}
		t, err := time.Parse(time.RFC3339Nano, e.get("time"))
		if err != nil {
			continue
		}
		e.time = t
		e.kind = classify(e.get("msg"))
		if e.kind == kindStart {
			if id, n := e.get("sandbox_id"), e.get("sandbox"); id != "" && n != "" {
				names[id] = n
			}
		}
		if e.kind != "" {
			out = append(out, e)
		}
	}
	return out
}

// parseLogfmt splits a line of slog's TextHandler: key=value pairs, a value
// quoted (Go syntax) when it holds spaces or special characters.
func parseLogfmt(line string) ([]attr, bool) {
	var attrs []attr
	for line = strings.TrimLeft(line, " "); line != ""; line = strings.TrimLeft(line, " ") {
		eq := strings.IndexByte(line, '=')
		if eq <= 0 || strings.ContainsAny(line[:eq], " \"") {
			return nil, false
		}
		k := line[:eq]
		line = line[eq+1:]
		var v string
		if strings.HasPrefix(line, `"`) {
			q, err := strconv.QuotedPrefix(line)
			if err != nil {
				return nil, false
			}
			if v, err = strconv.Unquote(q); err != nil {
				return nil, false
			}
			line = line[len(q):]
		} else {
			end := strings.IndexByte(line, ' ')
			if end < 0 {
				end = len(line)
			}
			v, line = line[:end], line[end:]
		}
		attrs = append(attrs, attr{k, v})
	}
	return attrs, len(attrs) > 0 && attrs[0].k == "time"
}

// parseSince reads --since: a date and time, a time of today, RFC 3339, or
// a duration before now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, now.Location()); err == nil {
			return t, nil
		}
	}
	for _, layout := range []string{"15:04:05", "15:04"} {
		if t, err := time.ParseInLocation(layout, s, now.Location()); err == nil {
			y, m, d := now.Date()
			return time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), 0, now.Location()), nil
		}
	}
	return time.Time{}, errors.New("not a time")
}
