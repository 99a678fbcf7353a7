package nestedwm

import (
	"testing"
)

var screen = Rect{W: 1024, H: 700}

func onScreen(r, s Rect) bool {
	return r.X >= s.X && r.Y >= s.Y && r.right() <= s.right() && r.bottom() <= s.bottom() && r.W >= 1 && r.H >= 1
}

func TestPlace(t *testing.T) {
	first := Rect{X: 302, Y: 200, W: 420, H: 300} // centred 420x300
	parent := Rect{X: 100, Y: 100, W: 600, H: 400}
	for _, c := range []struct {
		name   string
		req    Rect
		hints  SizeHints
		kind   Kind
		parent *Rect
		others []Rect
		want   Rect
	}{
		{"a toplevel is centred", Rect{W: 420, H: 300}, SizeHints{}, KindNormal, nil, nil, first},
		{"a second one of the same size cascades", Rect{W: 420, H: 300}, SizeHints{}, KindNormal, nil,
			[]Rect{first}, Rect{X: 334, Y: 232, W: 420, H: 300}},
		{"a third one cascades past both", Rect{W: 420, H: 300}, SizeHints{}, KindNormal, nil,
			[]Rect{first, {X: 334, Y: 232, W: 420, H: 300}}, Rect{X: 366, Y: 264, W: 420, H: 300}},
		{"larger than the screen: shrunk to it", Rect{W: 3000, H: 2000}, SizeHints{}, KindNormal, nil, nil, screen},
		{"screen-sized second window: moved and shrunk, not on the first", Rect{W: 3000, H: 2000}, SizeHints{}, KindNormal, nil,
			[]Rect{screen}, Rect{X: 32, Y: 32, W: 992, H: 668}},
		{"a minimum larger than the screen loses", Rect{W: 100, H: 100}, SizeHints{MinW: 5000, MinH: 5000}, KindNormal, nil, nil, screen},
		{"a maximum is kept", Rect{W: 900, H: 600}, SizeHints{MaxW: 400, MaxH: 300}, KindNormal, nil, nil, Rect{X: 312, Y: 200, W: 400, H: 300}},
		{"a minimum is kept", Rect{W: 10, H: 10}, SizeHints{MinW: 200, MinH: 100}, KindNormal, nil, nil, Rect{X: 412, Y: 300, W: 200, H: 100}},
		{"user position off screen: pulled in", Rect{X: 5000, Y: -300, W: 400, H: 300}, SizeHints{UserPos: true}, KindNormal, nil, nil,
			Rect{X: 624, Y: 0, W: 400, H: 300}},
		{"program position kept when on screen", Rect{X: 50, Y: 60, W: 400, H: 300}, SizeHints{ProgPos: true}, KindNormal, nil, nil,
			Rect{X: 50, Y: 60, W: 400, H: 300}},
		{"program position 0,0 means anywhere", Rect{W: 400, H: 300}, SizeHints{ProgPos: true}, KindNormal, nil, nil,
			Rect{X: 312, Y: 200, W: 400, H: 300}},
		{"negative position half off screen", Rect{X: -200, Y: -100, W: 400, H: 300}, SizeHints{UserPos: true}, KindNormal, nil, nil,
			Rect{X: 0, Y: 0, W: 400, H: 300}},
		{"transient centred over its parent", Rect{W: 200, H: 100}, SizeHints{}, KindDialog, &parent, nil, Rect{X: 300, Y: 250, W: 200, H: 100}},
		{"transient larger than the screen", Rect{W: 3000, H: 2000}, SizeHints{}, KindDialog, &parent, nil, screen},
		{"transient over a parent at the edge stays on screen", Rect{W: 400, H: 300}, SizeHints{}, KindDialog,
			&Rect{X: 900, Y: 600, W: 124, H: 100}, nil, Rect{X: 624, Y: 400, W: 400, H: 300}},
		{"dialog without a parent centred on the screen", Rect{X: 0, Y: 0, W: 200, H: 100}, SizeHints{}, KindDialog, nil, nil,
			Rect{X: 412, Y: 300, W: 200, H: 100}},
		{"two dialogs of one parent do not stack exactly", Rect{W: 200, H: 100}, SizeHints{}, KindDialog, &parent,
			[]Rect{{X: 300, Y: 250, W: 200, H: 100}}, Rect{X: 332, Y: 282, W: 200, H: 100}},
		{"popup stays where it asked", Rect{X: 30, Y: 40, W: 100, H: 200}, SizeHints{}, KindPopup, nil,
			[]Rect{{X: 30, Y: 40, W: 10, H: 10}}, Rect{X: 30, Y: 40, W: 100, H: 200}},
		{"popup past the edge pulled in", Rect{X: 1000, Y: 650, W: 100, H: 200}, SizeHints{}, KindPopup, nil, nil,
			Rect{X: 924, Y: 500, W: 100, H: 200}},
		{"splash centred", Rect{W: 300, H: 200}, SizeHints{}, KindSplash, nil, nil, Rect{X: 362, Y: 250, W: 300, H: 200}},
		{"zero size becomes 1x1", Rect{W: 0, H: 0}, SizeHints{}, KindNormal, nil, nil, Rect{X: 511, Y: 349, W: 1, H: 1}},
	} {
		got := Place(c.req, c.hints, c.kind, c.parent, screen, c.others)
		if got != c.want {
			t.Errorf("%s: Place = %+v, want %+v", c.name, got, c.want)
		}
		if !onScreen(got, screen) {
			t.Errorf("%s: %+v is not wholly on the screen", c.name, got)
		}
	}
}

// TestCascadeManyWindows: window after window of the screen's size, each
// lands on the screen, and none on another's spot while there is room.
func TestCascadeManyWindows(t *testing.T) {
	for _, size := range []Rect{{W: 420, H: 300}, {W: 5000, H: 5000}, {W: 1024, H: 100}} {
		var placed []Rect
		for i := 0; i < 40; i++ {
			r := Place(size, SizeHints{}, KindNormal, nil, screen, placed)
			if !onScreen(r, screen) {
				t.Fatalf("%v: window %d at %+v is not on the screen", size, i, r)
			}
			if i < 8 && takenSpot(r, placed) {
				t.Errorf("%v: window %d at %+v lands on another's spot", size, i, r)
			}
			placed = append(placed, r)
		}
	}
}

func TestKeepOnScreen(t *testing.T) {
	s := Rect{X: 0, Y: 0, W: 800, H: 600}
	for _, c := range []struct{ in, want Rect }{
		{Rect{X: 10, Y: 10, W: 100, H: 100}, Rect{X: 10, Y: 10, W: 100, H: 100}},
		{Rect{X: 790, Y: 590, W: 100, H: 100}, Rect{X: 700, Y: 500, W: 100, H: 100}},
		{Rect{X: -50, Y: -50, W: 100, H: 100}, Rect{X: 0, Y: 0, W: 100, H: 100}},
		{Rect{X: -32768, Y: 32767, W: 32767, H: 32767}, Rect{X: 0, Y: 0, W: 800, H: 600}},
		{Rect{X: 5, Y: 5, W: 0, H: -3}, Rect{X: 5, Y: 5, W: 1, H: 1}},
	} {
		if got := KeepOnScreen(c.in, s); got != c.want {
			t.Errorf("KeepOnScreen(%+v) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestDrag(t *testing.T) {
	start := Rect{X: 100, Y: 100, W: 300, H: 200}
	for _, c := range []struct {
		name   string
		dx, dy int
		resize bool
		hints  SizeHints
		want   Rect
	}{
		{"move", 50, 40, false, SizeHints{}, Rect{X: 150, Y: 140, W: 300, H: 200}},
		{"move stops at the right edge", 5000, 0, false, SizeHints{}, Rect{X: 724, Y: 100, W: 300, H: 200}},
		{"move stops at the top-left", -5000, -5000, false, SizeHints{}, Rect{X: 0, Y: 0, W: 300, H: 200}},
		{"resize", 100, 50, true, SizeHints{}, Rect{X: 100, Y: 100, W: 400, H: 250}},
		{"resize stops at the screen's edge", 5000, 5000, true, SizeHints{}, Rect{X: 100, Y: 100, W: 924, H: 600}},
		{"resize stops at the minimum", -5000, -5000, true, SizeHints{MinW: 120, MinH: 80}, Rect{X: 100, Y: 100, W: 120, H: 80}},
		{"resize to nothing is 1x1", -5000, -5000, true, SizeHints{}, Rect{X: 100, Y: 100, W: 1, H: 1}},
		{"resize stops at the maximum", 500, 500, true, SizeHints{MaxW: 350, MaxH: 220}, Rect{X: 100, Y: 100, W: 350, H: 220}},
	} {
		if got := Drag(start, c.dx, c.dy, c.resize, c.hints, screen); got != c.want {
			t.Errorf("%s: Drag = %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestResizeEdges(t *testing.T) {
	start := Rect{X: 100, Y: 100, W: 300, H: 200}
	for _, c := range []struct {
		name   string
		e      Edge
		dx, dy int
		hints  SizeHints
		want   Rect
	}{
		{"right", Edge{Right: true}, 50, 999, SizeHints{}, Rect{X: 100, Y: 100, W: 350, H: 200}},
		{"left grows leftwards", Edge{Left: true}, -50, 0, SizeHints{}, Rect{X: 50, Y: 100, W: 350, H: 200}},
		{"left past the screen's edge", Edge{Left: true}, -500, 0, SizeHints{}, Rect{X: 0, Y: 100, W: 400, H: 200}},
		{"top-left with a minimum keeps the bottom-right", Edge{Left: true, Top: true}, 290, 190, SizeHints{MinW: 100, MinH: 50},
			Rect{X: 300, Y: 250, W: 100, H: 50}},
		{"bottom past the screen", Edge{Bottom: true}, 0, 5000, SizeHints{}, Rect{X: 100, Y: 100, W: 300, H: 600}},
	} {
		if got := ResizeEdges(start, c.e, c.dx, c.dy, c.hints, screen); got != c.want {
			t.Errorf("%s: ResizeEdges = %+v, want %+v", c.name, got, c.want)
		}
	}
}

// FuzzPlace: whatever the numbers, the result is wholly on the screen.
func FuzzPlace(f *testing.F) {
	f.Add(0, 0, 3000, 2000, 0, 0, 0, 0, 1024, 700, 0)
	f.Add(-32768, 32767, 65535, 1, 1<<30, -5, 7, 0, 640, 480, 2)
	f.Fuzz(func(t *testing.T, x, y, w, h, minW, minH, maxW, maxH, sw, sh, kind int) {
		if sw < 1 || sh < 1 || sw > maxDim || sh > maxDim {
			return
		}
		s := Rect{W: sw, H: sh}
		v := []uint32{hintPMinSize | hintPMaxSize | hintUSPosition, 0, 0, 0, 0,
			uint32(minW), uint32(minH), uint32(maxW), uint32(maxH)}
		hints := ParseNormalHints(v)
		parent := Rect{X: x / 2, Y: y / 2, W: max(w/2, 1), H: max(h/2, 1)}
		var p *Rect
		if kind%2 == 1 {
			p = &parent
		}
		r := Place(Rect{X: x, Y: y, W: w, H: h}, hints, Kind(uint(kind)%4), p, s, []Rect{s, {X: 32, Y: 32}})
		if !onScreen(r, s) {
			t.Errorf("Place(%d,%d %dx%d, hints %+v, kind %d) on %dx%d = %+v: not on the screen", x, y, w, h, hints, kind, sw, sh, r)
		}
	})
}
