package nestedwm

import (
	"strconv"

	"github.com/jezek/xgb/xproto"
)

// SetBackground paints the nested display's root window (its desktop, seen
// around and behind the application's windows inside the host's Xephyr
// window) in hex, "#rrggbb": the sandbox's colour (profile key color).
// Anything else is ignored.
//
// It is a hint, not a boundary: any client of the nested display, the
// application included, may change the root's background too (the core
// protocol lets every client ChangeWindowAttributes on the root). What the
// application cannot change is the title of Xephyr's window on the host,
// which carries the sandbox's name.
func (w *WM) SetBackground(hex string) {
	if len(hex) != 7 || hex[0] != '#' {
		return
	}
	v, err := strconv.ParseUint(hex[1:], 16, 32)
	if err != nil {
		return
	}
	pixel, ok := w.pixelOf(uint32(v))
	if !ok {
		return
	}
	xproto.ChangeWindowAttributes(w.X, w.root, xproto.CwBackPixel, []uint32{pixel})
	xproto.ClearArea(w.X, false, w.root, 0, 0, 0, 0)
}

// pixelOf is the root visual's pixel for rgb (0xrrggbb): its masks say
// where each channel goes (a TrueColor or DirectColor visual; the nested
// server's is one unless run at 8 bits, then no colour is painted).
func (w *WM) pixelOf(rgb uint32) (uint32, bool) {
	scr := xproto.Setup(w.X).DefaultScreen(w.X)
	for _, d := range scr.AllowedDepths {
		for _, v := range d.Visuals {
			if v.VisualId != scr.RootVisual {
				continue
			}
			if v.Class != xproto.VisualClassTrueColor && v.Class != xproto.VisualClassDirectColor {
				return 0, false
			}
			return place(rgb>>16&0xff, v.RedMask) | place(rgb>>8&0xff, v.GreenMask) | place(rgb&0xff, v.BlueMask), true
		}
	}
	return 0, false
}

// place scales an 8-bit channel into the bits of mask.
func place(c, mask uint32) uint32 {
	if mask == 0 {
		return 0
	}
	shift := 0
	for mask>>shift&1 == 0 {
		shift++
	}
	bits := 0
	for mask>>(shift+bits)&1 == 1 {
		bits++
	}
	var v uint32
	if bits >= 8 {
		v = c << (bits - 8)
	} else {
		v = c >> (8 - bits)
	}
	return v << shift & mask
}
