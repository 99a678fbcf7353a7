package protocol

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxMarks is how many combining marks Clean keeps after one base character:
// enough for real scripts (Vietnamese stacks two or three), not for "Zalgo"
// text that would spill over the trusted parts of the dialog.
const maxMarks = 4

// Clean makes an untrusted string safe to show in one line of the trusted
// dialog, and caps it at max runes (max <= 0: no cap), ending a cut string
// with "…".
//
// It drops invalid UTF-8 and NUL (C strings would silently cut there), C0/C1
// controls, the bidirectional embedding, override and isolate controls
// (U+202A–U+202E, U+2066–U+2069, LRM, RLM, ALM) that let an application
// reorder what the user reads around it (the "Trojan Source" class,
// CVE-2021-42574), the byte-order mark, interlinear annotation and tag
// characters that hide text, and surplus combining marks. Line and paragraph
// breaks and tabs become spaces; runs of spaces collapse to one; the result is
// trimmed. Zero-width joiners stay: scripts such as Persian and emoji need them.
func Clean(s string, max int) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false // a space is pending
	marks := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == utf8.RuneError && size <= 1 {
			continue // invalid UTF-8
		}
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f' ||
			r == 0x85 || r == 0x2028 || r == 0x2029 || unicode.IsSpace(r):
			space = true
			continue
		case dropped(r):
			continue
		}
		if unicode.In(r, unicode.Mn, unicode.Me) {
			if marks >= maxMarks {
				continue
			}
			marks++
		} else {
			marks = 0
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	out := b.String()
	if max > 0 && utf8.RuneCountInString(out) > max {
		n := 0
		for i := range out {
			if n == max-1 {
				out = strings.TrimRight(out[:i], " ") + "…"
				break
			}
			n++
		}
	}
	return out
}

// dropped reports the runes Clean removes outright.
func dropped(r rune) bool {
	switch {
	case unicode.IsControl(r): // C0, DEL, C1 (NUL included)
		return true
	case r >= 0x202A && r <= 0x202E, // LRE, RLE, PDF, LRO, RLO
		r >= 0x2066 && r <= 0x2069,                // LRI, RLI, FSI, PDI
		r == 0x200E || r == 0x200F || r == 0x061C, // LRM, RLM, ALM
		r == 0xFEFF,                  // byte-order mark / zero-width no-break space
		r >= 0xFFF9 && r <= 0xFFFB,   // interlinear annotation
		r >= 0xE0000 && r <= 0xE007F, // tag characters
		r == 0x200B || r == 0x2060,   // zero-width space, word joiner
		r >= 0xD800 && r <= 0xDFFF,   // surrogates (not valid in UTF-8 anyway)
		r == 0xFFFE || r == 0xFFFF:   // noncharacters
		return true
	}
	return false
}

// VisibleName shows a file name as it will be written, with every character
// visible, for the list of names a save will create: what Clean would drop
// or fold (controls, bidirectional controls, invisible and format
// characters, unusual spaces, surplus combining marks) is shown as <U+XXXX>,
// a byte of invalid UTF-8 as <XX>, and a name with a space at either end is
// quoted. Unlike Clean it never cuts: the user sees the whole name.
func VisibleName(n string) string {
	var b strings.Builder
	marks := 0
	for i := 0; i < len(n); {
		r, size := utf8.DecodeRuneInString(n[i:])
		if r == utf8.RuneError && size <= 1 {
			fmt.Fprintf(&b, "<%02X>", n[i])
			i++
			continue
		}
		i += size
		mark := unicode.In(r, unicode.Mn, unicode.Me)
		if mark {
			marks++
		} else {
			marks = 0
		}
		if dropped(r) || unicode.Is(unicode.Cf, r) || (unicode.IsSpace(r) && r != ' ') || (mark && marks > maxMarks) {
			fmt.Fprintf(&b, "<U+%04X>", r)
			continue
		}
		b.WriteRune(r)
	}
	out := b.String()
	if strings.HasPrefix(out, " ") || strings.HasSuffix(out, " ") {
		out = "“" + out + "”"
	}
	return out
}
