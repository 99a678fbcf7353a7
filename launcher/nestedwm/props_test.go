package nestedwm

import (
	"testing"
)

func TestParseNormalHints(t *testing.T) {
	const all = hintUSPosition | hintPPosition | hintPMinSize | hintPMaxSize | hintPBaseSize
	for _, c := range []struct {
		name string
		v    []uint32
		want SizeHints
	}{
		{"empty", nil, SizeHints{}},
		{"flags only", []uint32{all}, SizeHints{UserPos: true, ProgPos: true}},
		{"min and max", []uint32{hintPMinSize | hintPMaxSize, 0, 0, 0, 0, 100, 50, 800, 600}, SizeHints{MinW: 100, MinH: 50, MaxW: 800, MaxH: 600}},
		{"min without its flag is ignored", []uint32{0, 0, 0, 0, 0, 100, 50}, SizeHints{}},
		{"odd length: min width only", []uint32{hintPMinSize, 0, 0, 0, 0, 100}, SizeHints{MinW: 100}},
		{"negative values are no bound", []uint32{hintPMinSize | hintPMaxSize, 0, 0, 0, 0, 0xffffff9c, 0x80000000, 0xffffffff, 0xfffffffe}, SizeHints{}},
		{"huge values capped", []uint32{hintPMinSize | hintPMaxSize, 0, 0, 0, 0, 0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff},
			SizeHints{MinW: maxDim, MinH: maxDim, MaxW: maxDim, MaxH: maxDim}},
		{"max below min dropped", []uint32{hintPMinSize | hintPMaxSize, 0, 0, 0, 0, 500, 500, 100, 900}, SizeHints{MinW: 500, MinH: 500, MaxH: 900}},
		{"base size stands for a missing min", []uint32{hintPBaseSize, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 300, 200, 1}, SizeHints{MinW: 300, MinH: 200}},
		{"every flag, nothing else", []uint32{0xffffffff}, SizeHints{UserPos: true, ProgPos: true}},
	} {
		if got := ParseNormalHints(c.v); got != c.want {
			t.Errorf("%s: ParseNormalHints(%v) = %+v, want %+v", c.name, c.v, got, c.want)
		}
	}
}

func TestParseWMHints(t *testing.T) {
	for _, c := range []struct {
		v    []uint32
		want bool
	}{
		{nil, true},
		{[]uint32{hintInput}, true}, // too short to hold the field
		{[]uint32{0, 0}, true},      // the flag unset: the field is not read
		{[]uint32{hintInput, 0}, false},
		{[]uint32{hintInput, 1}, true},
		{[]uint32{0xffffffff, 0xdeadbeef, 7, 7, 7, 7, 7, 7, 7}, true},
	} {
		if got := ParseWMHints(c.v); got != c.want {
			t.Errorf("ParseWMHints(%v) = %v, want %v", c.v, got, c.want)
		}
	}
}

func TestBytesToCard32(t *testing.T) {
	b := []byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 9, 9, 9} // a trailing partial value
	got := bytesToCard32(b, 10)
	if len(got) != 2 || got[0] != 1 || got[1] != 0xffffffff {
		t.Errorf("bytesToCard32 = %v", got)
	}
	if got := bytesToCard32(make([]byte, 4000), 18); len(got) != 18 {
		t.Errorf("bytesToCard32 read %d values, want at most 18", len(got))
	}
}

// FuzzParseNormalHints: any bytes parse, and the bounds are within X's.
func FuzzParseNormalHints(f *testing.F) {
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		h := ParseNormalHints(bytesToCard32(b, normalHintsLen))
		for _, v := range []int{h.MinW, h.MinH, h.MaxW, h.MaxH} {
			if v < 0 || v > maxDim {
				t.Errorf("bound %d out of range: %+v", v, h)
			}
		}
		if (h.MaxW != 0 && h.MaxW < h.MinW) || (h.MaxH != 0 && h.MaxH < h.MinH) {
			t.Errorf("maximum below minimum: %+v", h)
		}
	})
}

// TestAfterConnectRulesCompile: the WM's second filter assembles.
func TestAfterConnectRulesCompile(t *testing.T) {
	if p := mustCompile(afterConnectRules()); len(p) == 0 {
		t.Fatal("empty filter")
	}
}

// TestAtomsTable: every atom has a name, none twice, and _NET_SUPPORTED
// lists what this window manager handles.
func TestAtomsTable(t *testing.T) {
	var a atoms
	seen := map[string]bool{}
	for _, d := range a.table() {
		if d.name == "" || seen[d.name] {
			t.Errorf("atom name %q empty or repeated", d.name)
		}
		seen[d.name] = true
	}
	for _, n := range []string{"_NET_SUPPORTING_WM_CHECK", "_NET_WM_NAME", "_NET_ACTIVE_WINDOW", "_NET_CLIENT_LIST",
		"_NET_WM_STATE_FULLSCREEN", "_NET_WM_STATE_MAXIMIZED_VERT", "_NET_WM_STATE_MAXIMIZED_HORZ", "_NET_FRAME_EXTENTS",
		"_NET_WM_WINDOW_TYPE", "_NET_WM_WINDOW_TYPE_DIALOG", "_NET_WM_MOVERESIZE"} {
		found := false
		for _, d := range a.table() {
			if d.name == n && d.supported {
				found = true
			}
		}
		if !found {
			t.Errorf("%s is not in _NET_SUPPORTED", n)
		}
	}
}

// TestPlaceChannel: an 8-bit channel lands in a visual's mask, scaled to its width.
func TestPlaceChannel(t *testing.T) {
	for _, tc := range []struct{ c, mask, want uint32 }{
		{0xab, 0xff0000, 0xab0000}, {0xab, 0x00ff00, 0x00ab00}, {0xab, 0xff, 0xab},
		{0xff, 0xf800, 0xf800}, {0x80, 0x1f, 0x10}, {0x12, 0x3ff00000, 0x04800000},
	} {
		if got := place(tc.c, tc.mask); got != tc.want {
			t.Errorf("place(%#x, %#x) = %#x, want %#x", tc.c, tc.mask, got, tc.want)
		}
	}
}
