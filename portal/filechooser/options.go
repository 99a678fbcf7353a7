package filechooser

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/godbus/dbus/v5"

	"airlock/chooser-ui/protocol"
	"airlock/portal/desktop"
)

// Limits on what an application may ask for. Everything in the options comes
// from the sandbox and is untrusted: it is type-checked, bounded, and either
// refused (InvalidArgument) or neutralised before the chooser sees it.
const (
	maxFilters        = 64
	maxPatterns       = 64
	maxChoices        = 16
	maxChoiceOptions  = 64
	maxStringBytes    = 4096
	maxNameBytes      = 255 // NAME_MAX
	maxSaveFiles      = 256
	maxFolderBytes    = 4096 // PATH_MAX
	maxIdentifierSize = 128
)

func invalid(format string, args ...any) *dbus.Error {
	return &dbus.Error{Name: desktop.ErrInvalidArgument, Body: []any{fmt.Sprintf(format, args...)}}
}

// parsed is the validated form of a call's options.
type parsed struct {
	acceptLabel   string
	multiple      bool
	directory     bool
	filters       []protocol.Filter
	currentFilter *protocol.Filter
	choices       []protocol.Choice
	currentName   string
	currentFolder string // inside path, mapped to the host later
	currentFile   string // inside path
	files         []string
}

// optString reads a string option; a wrong type is refused.
func optString(opts map[string]dbus.Variant, key string) (string, *dbus.Error) {
	v, ok := opts[key]
	if !ok {
		return "", nil
	}
	s, ok := v.Value().(string)
	if !ok {
		return "", invalid("option %s must be a string (s), not %s", key, v.Signature())
	}
	if len(s) > maxStringBytes {
		return "", invalid("option %s is too long", key)
	}
	return s, nil
}

func optBool(opts map[string]dbus.Variant, key string) (bool, *dbus.Error) {
	v, ok := opts[key]
	if !ok {
		return false, nil
	}
	b, ok := v.Value().(bool)
	if !ok {
		return false, invalid("option %s must be a boolean (b), not %s", key, v.Signature())
	}
	return b, nil
}

// optBytePath reads a NUL-terminated byte-string path option (ay).
func optBytePath(opts map[string]dbus.Variant, key string) (string, *dbus.Error) {
	v, ok := opts[key]
	if !ok {
		return "", nil
	}
	b, ok := v.Value().([]byte)
	if !ok {
		return "", invalid("option %s must be a byte string (ay), not %s", key, v.Signature())
	}
	return bytePath(key, b)
}

func bytePath(key string, b []byte) (string, *dbus.Error) {
	if n := len(b); n > 0 && b[n-1] == 0 {
		b = b[:n-1]
	}
	if len(b) > maxFolderBytes {
		return "", invalid("option %s is too long", key)
	}
	for _, c := range b {
		if c == 0 {
			return "", invalid("option %s contains NUL", key)
		}
	}
	return string(b), nil
}

// checkName accepts a plain file name: no separator, no NUL or control
// character, not . or .., valid UTF-8, at most NAME_MAX bytes. A name with a
// slash could otherwise point the save anywhere the user did not pick.
func checkName(key, n string) *dbus.Error {
	switch {
	case n == "" || n == "." || n == "..":
		return invalid("%s %q is not a file name", key, n)
	case len(n) > maxNameBytes:
		return invalid("%s is longer than %d bytes", key, maxNameBytes)
	case !utf8.ValidString(n):
		return invalid("%s is not valid UTF-8", key)
	case strings.ContainsRune(n, '/'):
		return invalid("%s %q contains a slash", key, n)
	case strings.ContainsFunc(n, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return invalid("%s contains control characters", key)
	}
	return nil
}

func parseFilter(v any, where string) (protocol.Filter, *dbus.Error) {
	// (sa(us)) arrives as []any{string, [][]any{{uint32, string}...}}.
	st, ok := v.([]any)
	if !ok || len(st) != 2 {
		return protocol.Filter{}, invalid("%s: a filter must be (sa(us))", where)
	}
	name, ok := st[0].(string)
	if !ok {
		return protocol.Filter{}, invalid("%s: filter name must be a string", where)
	}
	rules, ok := st[1].([][]any)
	if !ok {
		if r2, ok2 := st[1].([]any); ok2 {
			for _, r := range r2 {
				rr, ok := r.([]any)
				if !ok {
					return protocol.Filter{}, invalid("%s: filter rules must be a(us)", where)
				}
				rules = append(rules, rr)
			}
		} else {
			return protocol.Filter{}, invalid("%s: filter rules must be a(us)", where)
		}
	}
	if len(rules) > maxPatterns {
		return protocol.Filter{}, invalid("%s: more than %d rules", where, maxPatterns)
	}
	f := protocol.Filter{Name: protocol.Clean(name, protocol.MaxFilterName)}
	for _, r := range rules {
		if len(r) != 2 {
			return protocol.Filter{}, invalid("%s: a rule must be (us)", where)
		}
		kind, ok1 := r[0].(uint32)
		val, ok2 := r[1].(string)
		if !ok1 || !ok2 {
			return protocol.Filter{}, invalid("%s: a rule must be (us)", where)
		}
		if kind != protocol.PatternGlob && kind != protocol.PatternMIME {
			return protocol.Filter{}, invalid("%s: rule type %d is neither 0 (glob) nor 1 (MIME type)", where, kind)
		}
		if val == "" || len(val) > 256 || !utf8.ValidString(val) || strings.ContainsAny(val, "/\x00") && kind == protocol.PatternGlob {
			return protocol.Filter{}, invalid("%s: bad rule %q", where, val)
		}
		f.Patterns = append(f.Patterns, protocol.Pattern{Kind: int(kind), Value: val})
	}
	return f, nil
}

func parseOptions(opts map[string]dbus.Variant, method string) (*parsed, *dbus.Error) {
	p := &parsed{}
	var err *dbus.Error
	if p.acceptLabel, err = optString(opts, "accept_label"); err != nil {
		return nil, err
	}
	if method == "OpenFile" {
		if p.multiple, err = optBool(opts, "multiple"); err != nil {
			return nil, err
		}
		if p.directory, err = optBool(opts, "directory"); err != nil {
			return nil, err
		}
	}
	if _, err = optBool(opts, "modal"); err != nil {
		return nil, err
	}
	if method != "SaveFiles" {
		if v, ok := opts["filters"]; ok {
			list, ok := v.Value().([][]any)
			if !ok {
				if v.Signature().String() != "a(sa(us))" {
					return nil, invalid("option filters must be a(sa(us)), not %s", v.Signature())
				}
			}
			if len(list) > maxFilters {
				return nil, invalid("more than %d filters", maxFilters)
			}
			for i, f := range list {
				pf, err := parseFilter([]any(f), fmt.Sprintf("filters[%d]", i))
				if err != nil {
					return nil, err
				}
				p.filters = append(p.filters, pf)
			}
		}
		if v, ok := opts["current_filter"]; ok {
			st, ok := v.Value().([]any)
			if !ok {
				return nil, invalid("option current_filter must be (sa(us)), not %s", v.Signature())
			}
			cf, err := parseFilter(st, "current_filter")
			if err != nil {
				return nil, err
			}
			p.currentFilter = &cf
		}
	}
	if v, ok := opts["choices"]; ok {
		list, ok := v.Value().([][]any)
		if !ok {
			return nil, invalid("option choices must be a(ssa(ss)s), not %s", v.Signature())
		}
		if len(list) > maxChoices {
			return nil, invalid("more than %d choices", maxChoices)
		}
		for i, c := range list {
			ch, err := parseChoice(c, i)
			if err != nil {
				return nil, err
			}
			p.choices = append(p.choices, ch)
		}
	}
	if method == "SaveFile" {
		if p.currentName, err = optString(opts, "current_name"); err != nil {
			return nil, err
		}
		if p.currentName != "" {
			if err := checkName("current_name", p.currentName); err != nil {
				return nil, err
			}
		}
		if p.currentFile, err = optBytePath(opts, "current_file"); err != nil {
			return nil, err
		}
	}
	if p.currentFolder, err = optBytePath(opts, "current_folder"); err != nil {
		return nil, err
	}
	if method == "SaveFiles" {
		if v, ok := opts["files"]; ok {
			list, ok := v.Value().([][]byte)
			if !ok {
				return nil, invalid("option files must be aay, not %s", v.Signature())
			}
			if len(list) > maxSaveFiles {
				return nil, invalid("more than %d files", maxSaveFiles)
			}
			for i, b := range list {
				n, err := bytePath(fmt.Sprintf("files[%d]", i), b)
				if err != nil {
					return nil, err
				}
				if err := checkName(fmt.Sprintf("files[%d]", i), n); err != nil {
					return nil, err
				}
				p.files = append(p.files, n)
			}
		}
		if len(p.files) == 0 {
			return nil, invalid("SaveFiles needs at least one name in files")
		}
	}
	return p, nil
}

func parseChoice(c []any, i int) (protocol.Choice, *dbus.Error) {
	if len(c) != 4 {
		return protocol.Choice{}, invalid("choices[%d] must be (ssa(ss)s)", i)
	}
	id, ok1 := c[0].(string)
	label, ok2 := c[1].(string)
	def, ok4 := c[3].(string)
	if !ok1 || !ok2 || !ok4 {
		return protocol.Choice{}, invalid("choices[%d] must be (ssa(ss)s)", i)
	}
	if id == "" || len(id) > maxIdentifierSize || id == protocol.ReadOnlyChoiceID || !utf8.ValidString(id) {
		return protocol.Choice{}, invalid("choices[%d] has a bad id", i)
	}
	ch := protocol.Choice{ID: id, Label: protocol.Clean(label, protocol.MaxChoiceLabel), Default: def}
	var opts [][]any
	switch o := c[2].(type) {
	case [][]any:
		opts = o
	case []any:
		for _, x := range o {
			xx, ok := x.([]any)
			if !ok {
				return protocol.Choice{}, invalid("choices[%d] options must be a(ss)", i)
			}
			opts = append(opts, xx)
		}
	default:
		return protocol.Choice{}, invalid("choices[%d] options must be a(ss)", i)
	}
	if len(opts) > maxChoiceOptions {
		return protocol.Choice{}, invalid("choices[%d] has more than %d options", i, maxChoiceOptions)
	}
	for _, o := range opts {
		if len(o) != 2 {
			return protocol.Choice{}, invalid("choices[%d] options must be a(ss)", i)
		}
		oid, ok1 := o[0].(string)
		ol, ok2 := o[1].(string)
		if !ok1 || !ok2 || oid == "" || len(oid) > maxIdentifierSize {
			return protocol.Choice{}, invalid("choices[%d] options must be a(ss) with non-empty ids", i)
		}
		ch.Options = append(ch.Options, [2]string{oid, protocol.Clean(ol, protocol.MaxChoiceLabel)})
	}
	return ch, nil
}
