package busserver

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/godbus/dbus/v5"
)

// maxMatchRuleLen is the reference bus's limit on a rule string.
const maxMatchRuleLen = 1024

// matchRule is a parsed AddMatch rule. Only signals are broadcast on this
// bus, but the rule is kept general so RemoveMatch compares like dbus-daemon.
type matchRule struct {
	src           string    // the rule as the client sent it, kept for resuming
	typ           dbus.Type // 0: any
	sender        string
	iface         string
	member        string
	path          string
	pathNamespace string
	destination   string
	args          map[int]string
	argPaths      map[int]string
	arg0namespace string
	hasArg0NS     bool
}

// errMatchEavesdrop is returned for eavesdrop=true, which would let one
// sandboxed client read another's traffic: refused with AccessDenied.
var errMatchEavesdrop = fmt.Errorf("eavesdropping is not allowed")

// parseMatchRule parses a rule per the dbus-specification "Match Rules"
// grammar: comma-separated key=value, values in single quotes, with \'
// outside quotes standing for an apostrophe.
func parseMatchRule(s string) (*matchRule, error) {
	if len(s) > maxMatchRuleLen {
		return nil, fmt.Errorf("match rule longer than %d bytes", maxMatchRuleLen)
	}
	r := &matchRule{src: s}
	seen := map[string]bool{}
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			break
		}
		eq := strings.IndexByte(s[i:], '=')
		if eq <= 0 {
			return nil, fmt.Errorf("match rule key without value at offset %d", i)
		}
		key := strings.TrimSpace(s[i : i+eq])
		i += eq + 1
		var val strings.Builder
		inQuote := false
	value:
		for ; i < len(s); i++ {
			c := s[i]
			switch {
			case inQuote:
				if c == '\'' {
					inQuote = false
				} else {
					val.WriteByte(c)
				}
			case c == '\'':
				inQuote = true
			case c == '\\' && i+1 < len(s) && s[i+1] == '\'':
				val.WriteByte('\'')
				i++
			case c == ',':
				i++
				break value
			default:
				val.WriteByte(c)
			}
		}
		if inQuote {
			return nil, fmt.Errorf("unterminated quote in match rule")
		}
		if seen[key] {
			return nil, fmt.Errorf("key %q repeated in match rule", key)
		}
		seen[key] = true
		if err := r.set(key, val.String()); err != nil {
			return nil, err
		}
	}
	if seen["path"] && seen["path_namespace"] {
		return nil, fmt.Errorf("path and path_namespace are exclusive")
	}
	return r, nil
}

func (r *matchRule) set(key, v string) error {
	switch key {
	case "type":
		switch v {
		case "signal":
			r.typ = dbus.TypeSignal
		case "method_call":
			r.typ = dbus.TypeMethodCall
		case "method_return":
			r.typ = dbus.TypeMethodReply
		case "error":
			r.typ = dbus.TypeError
		default:
			return fmt.Errorf("invalid message type %q", v)
		}
	case "sender":
		if !validBusName(v) && v != "org.freedesktop.DBus" {
			return fmt.Errorf("invalid sender %q", v)
		}
		r.sender = v
	case "interface":
		if !validInterface(v) {
			return fmt.Errorf("invalid interface %q", v)
		}
		r.iface = v
	case "member":
		if !validMember(v) {
			return fmt.Errorf("invalid member %q", v)
		}
		r.member = v
	case "path", "path_namespace":
		if !dbus.ObjectPath(v).IsValid() {
			return fmt.Errorf("invalid %s %q", key, v)
		}
		if key == "path" {
			r.path = v
		} else {
			r.pathNamespace = v
		}
	case "destination":
		if !validBusName(v) {
			return fmt.Errorf("invalid destination %q", v)
		}
		r.destination = v
	case "eavesdrop":
		switch v {
		case "true":
			return errMatchEavesdrop
		case "false":
		default:
			return fmt.Errorf("invalid eavesdrop value %q", v)
		}
	case "arg0namespace":
		if !validNamespace(v) {
			return fmt.Errorf("invalid arg0namespace %q", v)
		}
		r.arg0namespace = v
		r.hasArg0NS = true
	default:
		if !strings.HasPrefix(key, "arg") {
			return fmt.Errorf("unknown match rule key %q", key)
		}
		num, isPath := strings.CutSuffix(key[3:], "path")
		n, err := strconv.Atoi(num)
		if err != nil || n < 0 || n > 63 || strconv.Itoa(n) != num {
			return fmt.Errorf("unknown match rule key %q", key)
		}
		if isPath {
			if r.argPaths == nil {
				r.argPaths = map[int]string{}
			}
			r.argPaths[n] = v
		} else {
			if r.args == nil {
				r.args = map[int]string{}
			}
			r.args[n] = v
		}
	}
	return nil
}

// equal reports whether two rules are the same rule, for RemoveMatch.
func (r *matchRule) equal(o *matchRule) bool {
	if r.typ != o.typ || r.sender != o.sender || r.iface != o.iface || r.member != o.member ||
		r.path != o.path || r.pathNamespace != o.pathNamespace || r.destination != o.destination ||
		r.hasArg0NS != o.hasArg0NS || r.arg0namespace != o.arg0namespace ||
		len(r.args) != len(o.args) || len(r.argPaths) != len(o.argPaths) {
		return false
	}
	for k, v := range r.args {
		if ov, ok := o.args[k]; !ok || ov != v {
			return false
		}
	}
	for k, v := range r.argPaths {
		if ov, ok := o.argPaths[k]; !ok || ov != v {
			return false
		}
	}
	return true
}

// matches reports whether msg (whose sender header is already the true
// unique name) matches. owner resolves a well-known name to its owner's
// unique name, so that sender='org.freedesktop.portal.Desktop' matches
// signals the broker sends, as dbus-daemon does.
func (r *matchRule) matches(msg *dbus.Message, owner func(string) string) bool {
	if r.typ != 0 && r.typ != msg.Type {
		return false
	}
	str := func(f dbus.HeaderField) string {
		v, ok := msg.Headers[f]
		if !ok {
			return ""
		}
		switch x := v.Value().(type) {
		case string:
			return x
		case dbus.ObjectPath:
			return string(x)
		}
		return ""
	}
	if r.sender != "" {
		s := str(dbus.FieldSender)
		if r.sender != s && (r.sender[0] == ':' || owner(r.sender) != s) {
			return false
		}
	}
	if r.iface != "" && r.iface != str(dbus.FieldInterface) {
		return false
	}
	if r.member != "" && r.member != str(dbus.FieldMember) {
		return false
	}
	if r.path != "" && r.path != str(dbus.FieldPath) {
		return false
	}
	if r.pathNamespace != "" {
		p := str(dbus.FieldPath)
		if r.pathNamespace != "/" && p != r.pathNamespace && !strings.HasPrefix(p, r.pathNamespace+"/") {
			return false
		}
	}
	if r.destination != "" && r.destination != str(dbus.FieldDestination) {
		return false
	}
	argStr := func(n int) (string, bool, bool) {
		if n >= len(msg.Body) {
			return "", false, false
		}
		switch x := msg.Body[n].(type) {
		case string:
			return x, true, false
		case dbus.ObjectPath:
			return string(x), true, true
		}
		return "", false, false
	}
	for n, want := range r.args {
		got, ok, isPath := argStr(n)
		if !ok || isPath || got != want {
			return false
		}
	}
	for n, want := range r.argPaths {
		got, ok, _ := argStr(n)
		if !ok {
			return false
		}
		if got != want &&
			!(strings.HasSuffix(want, "/") && strings.HasPrefix(got, want)) &&
			!(strings.HasSuffix(got, "/") && strings.HasPrefix(want, got)) {
			return false
		}
	}
	if r.hasArg0NS {
		got, ok, isPath := argStr(0)
		if !ok || isPath || (got != r.arg0namespace && !strings.HasPrefix(got, r.arg0namespace+".")) {
			return false
		}
	}
	return true
}
