package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// readPO reads a catalog or template: msgid -> msgstr (the header is the
// entry with msgid ""). Obsolete entries (#~) are left out; plural forms and
// contexts, which Airlock does not use, are refused.
func readPO(name string) (map[string]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	var id, str *strings.Builder
	var cur *strings.Builder
	haveID := false
	flush := func() {
		if haveID {
			out[id.String()] = str.String()
		}
		id, str, cur, haveID = &strings.Builder{}, &strings.Builder{}, nil, false
	}
	flush()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		var q string
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "msgid "):
			flush()
			haveID, cur, q = true, id, strings.TrimPrefix(line, "msgid ")
		case strings.HasPrefix(line, "msgstr "):
			if !haveID {
				return nil, fmt.Errorf("%s:%d: msgstr without msgid", name, n)
			}
			cur, q = str, strings.TrimPrefix(line, "msgstr ")
		case strings.HasPrefix(line, `"`):
			if cur == nil {
				return nil, fmt.Errorf("%s:%d: string outside an entry", name, n)
			}
			q = line
		default:
			return nil, fmt.Errorf("%s:%d: unsupported line %q", name, n, line)
		}
		s, err := strconv.Unquote(q)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, n, err)
		}
		cur.WriteString(s)
	}
	flush()
	return out, sc.Err()
}
