package busserver

import "strings"

// validBusName checks a unique or well-known bus name against the
// dbus-specification grammar.
func validBusName(s string) bool {
	if len(s) == 0 || len(s) > 255 {
		return false
	}
	unique := s[0] == ':'
	if unique {
		s = s[1:]
	}
	elems := strings.Split(s, ".")
	if len(elems) < 2 {
		return false
	}
	for _, e := range elems {
		if e == "" {
			return false
		}
		for i := 0; i < len(e); i++ {
			c := e[i]
			switch {
			case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c == '_', c == '-':
			case c >= '0' && c <= '9':
				if i == 0 && !unique {
					return false
				}
			default:
				return false
			}
		}
	}
	return true
}

// validInterface checks an interface (or error) name.
func validInterface(s string) bool {
	if len(s) == 0 || len(s) > 255 {
		return false
	}
	elems := strings.Split(s, ".")
	if len(elems) < 2 {
		return false
	}
	for _, e := range elems {
		if !validMember(e) {
			return false
		}
	}
	return true
}

// validMember checks a member name (also an interface element).
func validMember(s string) bool {
	if len(s) == 0 || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c == '_':
		case c >= '0' && c <= '9':
			if i == 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// validNamespace checks an arg0namespace value: a bus or interface name
// prefix, which may have a single element.
func validNamespace(s string) bool {
	if validBusName(s) || validInterface(s) {
		return true
	}
	return validBusName(s+".x") && !strings.HasPrefix(s, ":")
}
