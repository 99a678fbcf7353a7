package nestedwm

// Placement: where a window goes and how large it may be. Pure functions of
// numbers, so that every rule is a table-driven test (place_test.go); the X
// side (wm.go) only gathers the numbers and applies the result.

// Rect is a window's outer geometry in root coordinates (managed windows
// have no border and no frame, so it is also the client's own geometry).
type Rect struct{ X, Y, W, H int }

func (r Rect) right() int  { return r.X + r.W }
func (r Rect) bottom() int { return r.Y + r.H }

// maxDim is the largest width or height X accepts (CARD16, and the server
// refuses anything above 32767 in practice).
const maxDim = 32767

// SizeHints are the parts of WM_NORMAL_HINTS placement uses, already
// checked (ParseNormalHints): a zero bound is no bound.
type SizeHints struct {
	MinW, MinH int
	MaxW, MaxH int
	// UserPos: the user asked for this position (USPosition); ProgPos:
	// the program did (PPosition).
	UserPos, ProgPos bool
}

// Kind is how a window is placed and focused, from _NET_WM_WINDOW_TYPE and
// WM_TRANSIENT_FOR.
type Kind int

const (
	// KindNormal: a toplevel: centred on the screen (or where it asked),
	// never exactly on top of another one.
	KindNormal Kind = iota
	// KindDialog: centred over its parent (WM_TRANSIENT_FOR), or on the
	// screen without one.
	KindDialog
	// KindSplash: centred on the screen, not focused.
	KindSplash
	// KindPopup: menus, tooltips, notifications, docks that are not
	// override-redirect: where they asked, only kept on the screen; never
	// focused, never cascaded.
	KindPopup
)

// cascadeStep is how far a window moves (right and down) from a spot that
// another window's top-left corner already takes.
const cascadeStep = 32

// sameSpot: two top-left corners this close look like one window on top
// of the other.
const sameSpot = cascadeStep / 2

// cascadeTries bounds the search for a free spot.
const cascadeTries = 64

// FitSize is the size a window gets for the size it asked: within its own
// minimum and maximum, then never larger than the screen (the screen wins
// over a minimum larger than it: a window that does not fit cannot show
// its buttons), and at least 1x1.
func FitSize(w, h int, hints SizeHints, screen Rect) (int, int) {
	return fitDim(w, hints.MinW, hints.MaxW, screen.W), fitDim(h, hints.MinH, hints.MaxH, screen.H)
}

func fitDim(v, lo, hi, room int) int {
	if lo > 0 && v < lo {
		v = lo
	}
	if hi > 0 && hi >= lo && v > hi {
		v = hi
	}
	v = min(v, room, maxDim)
	return max(v, 1)
}

// KeepOnScreen moves r (already no larger than the screen) so that all of
// it is on the screen; a window larger than the screen is shrunk first.
func KeepOnScreen(r Rect, screen Rect) Rect {
	r.W = max(1, min(r.W, screen.W))
	r.H = max(1, min(r.H, screen.H))
	r.X = min(max(r.X, screen.X), screen.right()-r.W)
	r.Y = min(max(r.Y, screen.Y), screen.bottom()-r.H)
	return r
}

// CenterOver centres r over parent (the screen for a window without one),
// kept on the screen.
func CenterOver(r Rect, parent Rect, screen Rect) Rect {
	r.X = parent.X + (parent.W-r.W)/2
	r.Y = parent.Y + (parent.H-r.H)/2
	return KeepOnScreen(r, screen)
}

// Place decides where a window that is being mapped goes. req is what the
// client asked (position and size), parent the geometry of the window it
// is transient for (nil for none), others the windows already on the
// screen that a new one must not cover exactly.
func Place(req Rect, hints SizeHints, kind Kind, parent *Rect, screen Rect, others []Rect) Rect {
	r := req
	r.W, r.H = FitSize(req.W, req.H, hints, screen)
	switch {
	case kind == KindPopup:
		return KeepOnScreen(r, screen)
	case parent != nil:
		r = CenterOver(r, *parent, screen)
	case kind == KindDialog || kind == KindSplash:
		r = CenterOver(r, screen, screen)
	case hints.UserPos || hints.ProgPos && (req.X != 0 || req.Y != 0):
		// A position the user or the program chose, where it fits.
		// (Toolkits often set PPosition with 0,0 for "anywhere".)
		r = KeepOnScreen(r, screen)
	default:
		r = CenterOver(r, screen, screen)
	}
	return Cascade(r, hints, screen, others)
}

// Cascade moves r right and down by cascadeStep until its top-left corner
// is not on another window's (others), shrinking it when the move would
// push it off the screen, but never below its minimum size or half of its
// size; past the screen's edge the search goes on from the screen's
// top-left corner. Where no such spot exists, r stays where it was.
func Cascade(r Rect, hints SizeHints, screen Rect, others []Rect) Rect {
	r = KeepOnScreen(r, screen)
	floorW := max(hints.MinW, r.W/2, 1)
	floorH := max(hints.MinH, r.H/2, 1)
	// fit is r's top-left corner at x, y, shrunk to end on the screen.
	fit := func(x, y int) (Rect, bool) {
		c := Rect{X: x, Y: y, W: min(r.W, screen.right()-x), H: min(r.H, screen.bottom()-y)}
		return c, c.W >= floorW && c.H >= floorH
	}
	for _, origin := range [2][2]int{{r.X, r.Y}, {screen.X, screen.Y}} {
		for k := 0; k < cascadeTries; k++ {
			c, ok := fit(origin[0]+k*cascadeStep, origin[1]+k*cascadeStep)
			if !ok {
				break
			}
			if !takenSpot(c, others) {
				return c
			}
		}
	}
	return r
}

func takenSpot(c Rect, others []Rect) bool {
	for _, o := range others {
		if abs(o.X-c.X) < sameSpot && abs(o.Y-c.Y) < sameSpot {
			return true
		}
	}
	return false
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// Drag is the geometry of a window being moved (button 1) or resized
// (button 3, from its bottom-right corner) by dx, dy from where the drag
// began: kept on the screen and within the window's size hints.
func Drag(start Rect, dx, dy int, resize bool, hints SizeHints, screen Rect) Rect {
	if !resize {
		return KeepOnScreen(Rect{X: start.X + dx, Y: start.Y + dy, W: start.W, H: start.H}, screen)
	}
	r := start
	r.W, r.H = FitSize(start.W+dx, start.H+dy, hints, Rect{W: screen.right() - start.X, H: screen.bottom() - start.Y})
	return KeepOnScreen(r, screen)
}

// Edge is a direction of _NET_WM_MOVERESIZE: which sides a resize moves.
type Edge struct{ Left, Top, Right, Bottom bool }

// ResizeEdges resizes start by dx, dy moving the given sides, within the
// size hints and the screen.
func ResizeEdges(start Rect, e Edge, dx, dy int, hints SizeHints, screen Rect) Rect {
	x0, y0, x1, y1 := start.X, start.Y, start.right(), start.bottom()
	if e.Left {
		x0 = max(min(x0+dx, x1-1), screen.X)
	}
	if e.Right {
		x1 = min(max(x1+dx, x0+1), screen.right())
	}
	if e.Top {
		y0 = max(min(y0+dy, y1-1), screen.Y)
	}
	if e.Bottom {
		y1 = min(max(y1+dy, y0+1), screen.bottom())
	}
	w, h := FitSize(x1-x0, y1-y0, hints, screen)
	// The fixed side stays where it was when hints change the size.
	if e.Left {
		x0 = x1 - w
	}
	if e.Top {
		y0 = y1 - h
	}
	return KeepOnScreen(Rect{X: x0, Y: y0, W: w, H: h}, screen)
}
