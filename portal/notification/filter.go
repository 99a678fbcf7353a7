// Package notification is what a sandbox may show in the host's
// notifications: the org.freedesktop.portal.Notification portal on its bus
// (portal.go), the filter every notification crosses on its way to the
// host's org.freedesktop.Notifications, whether it came through the portal
// or as a relayed Notify call (this file), and a per-sandbox rate limit
// (limit.go).
//
// A notification is drawn by the host's shell, outside the sandbox, with the
// authority of the host: issue 8 item 4 saw a sandbox pass app_name "Tails
// Upgrader", another application's desktop-entry hint (the shell shows that
// application's name and icon and launches it on a click), links,
// image-path/sound-file hints naming host files (the host server opens them:
// a sandbox learns whether they exist, and plays or shows them), and 4,327
// notifications in 3 seconds. Everything below is therefore an allow-list.
package notification

import (
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/godbus/dbus/v5"
)

// Caps on what one notification may carry, in runes. GNOME Shell shows a
// summary on one line and a few lines of body: the caps only keep a
// notification from carrying pages.
const (
	MaxSummary     = 120
	MaxBody        = 1000
	MaxActionLabel = 40
	MaxActions     = 3 // buttons, besides the default action
	MaxActionKey   = 64
	MaxIconName    = 128
	MaxTimeout     = 60000 // ms
)

// Notify is one call of org.freedesktop.Notifications.Notify, already
// filtered: Args is what goes to the host.
type Notify struct {
	AppName    string
	ReplacesID uint32
	AppIcon    string
	Summary    string
	Body       string
	Actions    []string // key, label, key, label...
	Hints      map[string]dbus.Variant
	Timeout    int32
}

// Args is the body of the Notify call towards the host.
func (n Notify) Args() []any {
	actions := n.Actions
	if actions == nil {
		actions = []string{}
	}
	hints := n.Hints
	if hints == nil {
		hints = map[string]dbus.Variant{}
	}
	return []any{n.AppName, n.ReplacesID, n.AppIcon, n.Summary, n.Body, actions, hints, n.Timeout}
}

// ErrBadNotify is a Notify call whose arguments are not (susssasa{sv}i).
var ErrBadNotify = errors.New("Notify takes (susssasa{sv}i)")

// FilterNotify turns the body of a sandbox's Notify call into the one the
// host gets. sandboxName replaces app_name: the host must label the
// notification with the sandbox the user started, never with a name the
// application chose. defaultIcon (the profile's icon, may be "") is used
// when the application names none that is acceptable.
func FilterNotify(body []any, sandboxName, defaultIcon string) (Notify, error) {
	if len(body) != 8 {
		return Notify{}, ErrBadNotify
	}
	_, ok0 := body[0].(string)
	replaces, ok1 := body[1].(uint32)
	icon, ok2 := body[2].(string)
	summary, ok3 := body[3].(string)
	text, ok4 := body[4].(string)
	actions, ok5 := body[5].([]string)
	hints, ok6 := body[6].(map[string]dbus.Variant)
	timeout, ok7 := body[7].(int32)
	if !(ok0 && ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) {
		return Notify{}, ErrBadNotify
	}
	n := Notify{
		AppName:    sandboxName,
		ReplacesID: replaces,
		AppIcon:    IconName(icon, defaultIcon),
		Summary:    PlainText(summary, MaxSummary),
		Body:       Markup(text, MaxBody),
		Actions:    Actions(actions),
		Hints:      Hints(hints),
		Timeout:    Timeout(timeout),
	}
	return n, nil
}

// IconName returns name if it is a themed icon name, else fallback (if it
// is one), else "". app_icon and the portal's icon accept a path or a
// file:// URI too, which the host server would open: a host file the
// sandbox names, shown with the host's authority.
func IconName(name, fallback string) string {
	if ThemedName(name) {
		return name
	}
	if ThemedName(fallback) {
		return fallback
	}
	return ""
}

// ThemedName reports whether s is an icon theme name (as in
// "mail-unread-symbolic" or "org.gnome.Maps"): letters, digits, '-', '_',
// '.', '+', not starting with '.', so never a path, a URI or "..".
func ThemedName(s string) bool {
	if s == "" || len(s) > MaxIconName || s[0] == '.' || s[0] == '-' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '+') {
			return false
		}
	}
	return true
}

// ActionKey reports whether s may name an action on the host: a plain id.
// Keys are echoed back in ActionInvoked only; the check keeps a key from
// carrying what a server might treat as more (GNOME Shell once ran
// "app."-prefixed actions of a desktop-entry itself).
func ActionKey(s string) bool {
	if s == "" || len(s) > MaxActionKey {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Actions keeps the (key, label) pairs whose key is a plain id, at most
// MaxActions buttons plus the "default" action, labels as plain text.
func Actions(in []string) []string {
	out := []string{}
	buttons := 0
	seen := map[string]bool{}
	for i := 0; i+1 < len(in); i += 2 {
		key, label := in[i], in[i+1]
		if !ActionKey(key) || seen[key] {
			continue
		}
		if key != "default" {
			if buttons == MaxActions {
				continue
			}
			buttons++
		}
		seen[key] = true
		out = append(out, key, PlainText(label, MaxActionLabel))
	}
	return out
}

// Hints keeps only the hints a server needs to draw a notification and that
// name nothing on the host. Dropped, for example: desktop-entry (another
// application's identity and launcher), image-path/image_path and
// sound-file (host paths the server opens), image-data/icon_data (pixels
// the server decodes: a parser on the host fed by the sandbox), sound-name,
// resident/transient (outliving the sandbox, or leaving no trace in the
// history), x/y, every x- vendor hint.
func Hints(in map[string]dbus.Variant) map[string]dbus.Variant {
	out := map[string]dbus.Variant{}
	if v, ok := in["urgency"].Value().(byte); ok && v <= 2 {
		out["urgency"] = dbus.MakeVariant(v)
	}
	if v, ok := in["category"].Value().(string); ok && Category(v) {
		out["category"] = dbus.MakeVariant(v)
	}
	if v, ok := in["suppress-sound"].Value().(bool); ok && v {
		out["suppress-sound"] = dbus.MakeVariant(true)
	}
	return out
}

// Category reports whether s looks like a category of the spec
// ("im.received", "email.arrived"): lower-case words and dots.
func Category(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c == '.') {
			return false
		}
	}
	return true
}

// Timeout keeps -1 (the server decides) and 1..MaxTimeout ms. 0 (never
// expire) becomes -1: a sandbox cannot pin a notification on screen.
func Timeout(ms int32) int32 {
	if ms <= 0 || ms > MaxTimeout {
		return -1
	}
	return ms
}

// PlainText returns s with every tag removed, entities of the markup left
// as text, control characters turned into spaces (newlines included: a
// summary is one line) and at most max runes. Servers are meant to show a
// summary as text, but some render markup there too: a tag stays out.
func PlainText(s string, max int) string {
	s = stripTags(strings.ToValidUTF8(s, "\uFFFD"))
	var b strings.Builder
	n := 0
	for _, c := range s {
		if n == max {
			b.WriteString("…")
			break
		}
		if unicode.IsControl(c) || c == '\u2028' || c == '\u2029' || isBidi(c) {
			c = ' '
		}
		b.WriteRune(c)
		n++
	}
	return strings.TrimSpace(b.String())
}

// isBidi reports the bidirectional overrides and isolates that let a text
// display in an order other than the one it is read (CVE-2021-42574).
func isBidi(c rune) bool {
	return c >= '\u202A' && c <= '\u202E' || c >= '\u2066' && c <= '\u2069'
}

// Escape returns plain text s as body markup: the portal's "body" is plain
// text, and a server with body-markup would otherwise read its tags.
func Escape(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	n := 0
	for _, c := range s {
		if n == max {
			b.WriteString("…")
			break
		}
		n++
		switch {
		case c == '<':
			b.WriteString("&lt;")
		case c == '>':
			b.WriteString("&gt;")
		case c == '&':
			b.WriteString("&amp;")
		case c == '\n' || c == '\t':
			b.WriteRune(c)
		case unicode.IsControl(c) || isBidi(c):
			b.WriteRune(' ')
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// allowedTags are the only markup a body keeps: the Desktop Notifications
// spec allows b, i, u, a and img; a (a link the host opens) and img (a
// host file or URL the server loads) are what the filter is for.
var allowedTags = map[string]bool{"b": true, "i": true, "u": true}

// Markup returns body markup with only <b>, <i> and <u> kept (without
// attributes, and closed in order), every other tag removed with its
// attributes (the text of a link stays, its target goes; an image goes),
// stray '<', '>' and '&' escaped, and at most max runes of text.
func Markup(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	var open []string
	n := 0
	for i := 0; i < len(s) && n < max; {
		c := s[i]
		switch c {
		case '<':
			end := strings.IndexByte(s[i:], '>')
			if end < 0 || !looksLikeTag(s[i+1:i+end]) {
				b.WriteString("&lt;")
				n++
				i++
				continue
			}
			tag := s[i+1 : i+end]
			i += end + 1
			closing := strings.HasPrefix(tag, "/")
			name := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(tag, "/")), "/"))
			if !allowedTags[name] {
				continue
			}
			if closing {
				// Close only the innermost open tag of that name; a
				// stray close tag goes.
				if len(open) > 0 && open[len(open)-1] == name {
					open = open[:len(open)-1]
					b.WriteString("</" + name + ">")
				}
				continue
			}
			if len(open) < 8 {
				open = append(open, name)
				b.WriteString("<" + name + ">")
			}
		case '>':
			b.WriteString("&gt;")
			n++
			i++
		case '&':
			if e := entity(s[i:]); e != "" {
				b.WriteString(e)
				i += len(e)
			} else {
				b.WriteString("&amp;")
				i++
			}
			n++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			i += size
			n++
			if (unicode.IsControl(r) && r != '\n' && r != '\t') || isBidi(r) {
				r = ' '
			}
			b.WriteRune(r)
		}
		if n == max && i < len(s) {
			b.WriteString("…")
		}
	}
	for j := len(open) - 1; j >= 0; j-- {
		b.WriteString("</" + open[j] + ">")
	}
	return b.String()
}

// looksLikeTag reports whether the text between '<' and '>' is a tag (or a
// comment, a declaration), as a markup parser would read it.
func looksLikeTag(t string) bool {
	t = strings.TrimPrefix(t, "/")
	if t == "" || strings.ContainsRune(t, '<') {
		return false
	}
	c := t[0]
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '!' || c == '?'
}

// entity returns the character or named entity s starts with, if it is
// one of those markup parsers all know.
func entity(s string) string {
	for _, e := range []string{"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"} {
		if strings.HasPrefix(s, e) {
			return e
		}
	}
	if strings.HasPrefix(s, "&#") {
		end := strings.IndexByte(s, ';')
		if end > 2 && end <= 9 {
			num, base := s[2:end], 10
			if num[0] == 'x' || num[0] == 'X' {
				num, base = num[1:], 16
			}
			r, err := strconv.ParseUint(num, base, 32)
			if err == nil && !strings.ContainsAny(num, "+-_") && r > 0x1f && (r < 0x7f || r > 0x9f) && r <= unicode.MaxRune && !isBidi(rune(r)) {
				return s[:end+1]
			}
		}
	}
	return ""
}

// stripTags removes every tag from s; used for text that is shown as text.
func stripTags(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == '<' {
			if end := strings.IndexByte(s[i:], '>'); end > 0 && looksLikeTag(s[i+1:i+end]) {
				i += end + 1
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// Capabilities keeps, of the host server's capabilities, those the filter
// lets a sandbox use.
func Capabilities(caps []string) []string {
	out := []string{}
	for _, c := range caps {
		switch c {
		case "actions", "body", "body-markup", "persistence":
			out = append(out, c)
		}
	}
	return out
}
