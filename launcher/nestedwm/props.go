package nestedwm

// Properties a client sets on its windows, read as the untrusted input
// they are: any length (shorter or longer than the structure, odd), any
// values (negative, zero, 2^31), any type. Parsing never fails: what is
// missing or absurd counts as unset.

// Property sizes read from the server, in 32-bit units: the longest
// structure this window manager reads (WM_SIZE_HINTS, 18 CARD32) and the
// longest list (atoms). GetProperty is asked for no more, so a client's
// megabyte of WM_NORMAL_HINTS costs the window manager 72 bytes.
const (
	normalHintsLen = 18
	wmHintsLen     = 9
	atomListLen    = 32
)

// WM_SIZE_HINTS flags (ICCCM 4.1.2.3).
const (
	hintUSPosition = 1 << 0
	hintPPosition  = 1 << 2
	hintPMinSize   = 1 << 4
	hintPMaxSize   = 1 << 5
	hintPBaseSize  = 1 << 8
)

// ParseNormalHints reads WM_NORMAL_HINTS (format 32, as CARD32s).
func ParseNormalHints(v []uint32) SizeHints {
	var h SizeHints
	if len(v) < 1 {
		return h
	}
	flags := v[0]
	field := func(i int) int {
		if i >= len(v) {
			return 0
		}
		n := int(int32(v[i]))
		if n <= 0 {
			return 0
		}
		return min(n, maxDim)
	}
	h.UserPos = flags&hintUSPosition != 0
	h.ProgPos = flags&hintPPosition != 0
	if flags&hintPMinSize != 0 {
		h.MinW, h.MinH = field(5), field(6)
	} else if flags&hintPBaseSize != 0 {
		// ICCCM: the base size stands for the minimum when none is given.
		h.MinW, h.MinH = field(15), field(16)
	}
	if flags&hintPMaxSize != 0 {
		h.MaxW, h.MaxH = field(7), field(8)
		// A maximum below the minimum is no maximum (FitSize ignores it
		// too; cleared here so that nobody reads it).
		if h.MaxW < h.MinW {
			h.MaxW = 0
		}
		if h.MaxH < h.MinH {
			h.MaxH = 0
		}
	}
	return h
}

// WM_HINTS flag (ICCCM 4.1.2.4).
const hintInput = 1 << 0

// ParseWMHints reads the input field of WM_HINTS: whether the window wants
// the keyboard focus set on it (true when the hint is absent, as every
// window manager reads it: a client that says nothing still gets keys).
func ParseWMHints(v []uint32) (input bool) {
	if len(v) < 2 || v[0]&hintInput == 0 {
		return true
	}
	return v[1] != 0
}

// bytesToCard32 reads a format-32 property value (native order: xgb
// returns the server's, which is the connection's little-endian order);
// a trailing partial value is dropped, and at most max values are read.
func bytesToCard32(b []byte, max int) []uint32 {
	n := min(len(b)/4, max)
	out := make([]uint32, n)
	for i := range out {
		out[i] = uint32(b[4*i]) | uint32(b[4*i+1])<<8 | uint32(b[4*i+2])<<16 | uint32(b[4*i+3])<<24
	}
	return out
}
