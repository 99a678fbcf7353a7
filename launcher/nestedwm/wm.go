// Package nestedwm is the window manager of a sandbox's nested display
// (display = "xephyr"): without one, toplevels and dialogs opened at 0,0,
// could be larger than the nested screen (their title and buttons out of
// reach) and a second window landed exactly on the first (issue 9).
//
// It runs as its own process (`airlock-wm`, a re-exec of the airlock
// binary), started by the launcher right after Xephyr, confined like Xephyr
// (launcher/sandbox/wm_linux.go), outside the application's sandbox: the
// application cannot signal or ptrace it. It is one more client of the
// nested display and holds nothing else.
//
// Why no frames. Windows are not reparented and get no title bar drawn by
// this process; they move with Alt+drag (button 1) and resize with
// Alt+right-drag (button 3, from the bottom-right corner), and with
// _NET_WM_MOVERESIZE, which GTK 3 sends when the user drags a client-side
// title bar (gedit's windows and dialogs, most GTK 3 dialogs). LibreOffice
// draws no title bar of its own: it moves with Alt+drag, and since every
// window is placed and kept wholly on the screen its buttons are always in
// reach. Without frames:
//   - client-side decorated windows do not get a second title bar;
//   - no window title is ever read, let alone drawn: a title is hostile
//     input (any length, any bytes) and a font renderer is attack surface;
//   - there is no reparenting state to get wrong when a hostile client
//     destroys, unmaps or reconfigures windows at any moment.
//
// Everything a client sends is hostile: every request's error is handled
// (errors arrive as events and are logged, rate-limited), properties are
// read with a length cap and parsed without trust (props.go), the number of
// windows managed is capped, and the event queue is bounded. If this
// process dies, the nested display and the application keep working; the
// launcher logs it.
package nestedwm

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// maxClients caps the windows managed (and so everything tracked per
// window). Past it, a new window is still kept on the screen and mapped,
// but not tracked: a client that maps thousands of windows only costs
// itself.
const maxClients = 512

// maxTransientDepth bounds walks along WM_TRANSIENT_FOR (a hostile client
// may make a cycle).
const maxTransientDepth = 8

// client is one managed window.
type client struct {
	win   xproto.Window
	geom  Rect
	hints SizeHints
	kind  Kind
	// input: WM_HINTS says the window takes keys (the WM sets the focus on
	// it); takeFocus: it asks for WM_TAKE_FOCUS.
	input, takeFocus bool
	deleteWindow     bool
	transientFor     xproto.Window
	// fullscreen, maxV, maxH are its _NET_WM_STATE; saved is its geometry
	// from before.
	fullscreen, maxV, maxH bool
	saved                  Rect
	// clickGrab: the button grab that turns a click into focus is set
	// (on windows without the focus only).
	clickGrab bool
}

func (c *client) focusable() bool { return c.input || c.takeFocus }

// drag is a move or resize in progress (Alt+button, or _NET_WM_MOVERESIZE).
type drag struct {
	win        xproto.Window
	startX     int // pointer, root coordinates
	startY     int
	start      Rect
	resize     bool
	edges      Edge // for _NET_WM_MOVERESIZE resizes
	edgeResize bool
	// pointerGrab: the WM grabbed the pointer itself (_NET_WM_MOVERESIZE)
	// and must release it.
	pointerGrab bool
}

// WM is the window manager's state. It is used from one goroutine (Run).
type WM struct {
	X      *xgb.Conn
	root   xproto.Window
	screen Rect
	check  xproto.Window
	a      atoms
	log    *slog.Logger
	errs   *rateLog
	// tooMany logs windows mapped past maxClients.
	tooMany *rateLog

	clients map[xproto.Window]*client
	// order is the managed windows in mapping order (_NET_CLIENT_LIST).
	order []xproto.Window
	focus xproto.Window
	// history is the focus order, most recent last: where the focus goes
	// when the focused window goes away.
	history []xproto.Window
	drag    *drag
	// untracked counts windows mapped past maxClients.
	untracked int
}

// New connects the window manager to an open X connection.
func New(X *xgb.Conn, log *slog.Logger) (*WM, error) {
	setup := xproto.Setup(X)
	if setup == nil || len(setup.Roots) == 0 {
		return nil, errors.New("the X server reported no screen")
	}
	scr := setup.DefaultScreen(X)
	w := &WM{X: X, root: scr.Root, screen: Rect{W: int(scr.WidthInPixels), H: int(scr.HeightInPixels)},
		log: log, clients: map[xproto.Window]*client{}}
	w.errs = &rateLog{log: log, msg: "X error"}
	w.tooMany = &rateLog{log: log, msg: "too many windows: mapped without being managed"}
	var err error
	if w.a, err = internAtoms(X); err != nil {
		return nil, fmt.Errorf("cannot intern atoms: %w", err)
	}
	return w, nil
}

// Start makes this client the display's window manager and adopts the
// windows already on the screen. It fails when another client already
// manages the display.
func (w *WM) Start() error {
	X := w.X
	// The server is grabbed while the WM selects the redirect and lists
	// the windows: a window mapped in between is either in the list or
	// arrives as a MapRequest, never neither.
	if err := xproto.GrabServerChecked(X).Check(); err != nil {
		return fmt.Errorf("cannot grab the server: %w", err)
	}
	defer xproto.UngrabServer(X)
	mask := uint32(xproto.EventMaskSubstructureRedirect | xproto.EventMaskSubstructureNotify | xproto.EventMaskStructureNotify)
	if err := xproto.ChangeWindowAttributesChecked(X, w.root, xproto.CwEventMask, []uint32{mask}).Check(); err != nil {
		return fmt.Errorf("another window manager runs on this display: %w", err)
	}
	if err := w.setupEWMH(); err != nil {
		return err
	}
	w.grabAltButtons()
	tree, err := xproto.QueryTree(X, w.root).Reply()
	if err != nil {
		return fmt.Errorf("cannot list the windows: %w", err)
	}
	for _, win := range tree.Children {
		if win == w.check {
			continue
		}
		attr, err := xproto.GetWindowAttributes(X, win).Reply()
		if err != nil || attr.OverrideRedirect || attr.MapState != xproto.MapStateViewable {
			continue
		}
		w.manage(win)
	}
	return nil
}

// grabAltButtons grabs Alt+button 1 (move) and Alt+button 3 (resize) on
// the root, whatever the state of Caps Lock and Num Lock (Mod2 on X.Org's
// default keymap). Unchecked, as most requests here: one round trip less
// each, and a failure (BadAccess: a client grabbed it first, and Alt+drag is
// lost on this display, nothing else) arrives as an error event and is
// logged.
func (w *WM) grabAltButtons() {
	for _, b := range []xproto.Button{xproto.ButtonIndex1, xproto.ButtonIndex3} {
		for _, extra := range []uint16{0, xproto.ModMaskLock, xproto.ModMask2, xproto.ModMaskLock | xproto.ModMask2} {
			xproto.GrabButton(w.X, false, w.root,
				xproto.EventMaskButtonPress|xproto.EventMaskButtonRelease|xproto.EventMaskPointerMotion,
				xproto.GrabModeAsync, xproto.GrabModeAsync, xproto.WindowNone, xproto.CursorNone,
				byte(b), xproto.ModMask1|extra)
		}
	}
}

// Run handles events until the connection ends.
func (w *WM) Run() error {
	q := newQueue(w.X)
	for {
		ev, xerr, ok := q.pop()
		if !ok {
			if n := q.droppedCount(); n > 0 {
				w.log.Warn("events dropped (queue full)", "count", n)
			}
			return errors.New("the connection to the nested display ended")
		}
		w.dispatch(ev, xerr)
	}
}

// dispatch handles one event. A panic here would be a bug in this window
// manager; it is logged and the event dropped rather than leaving the
// display without a window manager.
func (w *WM) dispatch(ev xgb.Event, xerr xgb.Error) {
	defer func() {
		if r := recover(); r != nil {
			w.log.Error("event handler failed", "err", fmt.Sprint(r))
		}
	}()
	if xerr != nil {
		switch xerr.(type) {
		case xproto.WindowError, xproto.DrawableError:
			// A window gone before the WM's request about it reached the
			// server: the ordinary race with clients, not worth a warning.
			w.log.Debug("X error", "err", xerr.Error())
		default:
			w.errs.warn("err", xerr.Error())
		}
		return
	}
	switch e := ev.(type) {
	case xproto.MapRequestEvent:
		w.onMapRequest(e)
	case xproto.ConfigureRequestEvent:
		w.onConfigureRequest(e)
	case xproto.UnmapNotifyEvent:
		if e.Event == w.root {
			w.unmanage(e.Window, false)
		}
	case xproto.DestroyNotifyEvent:
		w.unmanage(e.Window, true)
	case xproto.PropertyNotifyEvent:
		w.onProperty(e)
	case xproto.ClientMessageEvent:
		w.onClientMessage(e)
	case xproto.ButtonPressEvent:
		w.onButtonPress(e)
	case xproto.ButtonReleaseEvent:
		w.endDrag()
	case xproto.MotionNotifyEvent:
		w.onMotion(int(e.RootX), int(e.RootY))
	case xproto.ConfigureNotifyEvent:
		if e.Window == w.root {
			w.onScreenResize(int(e.Width), int(e.Height))
		}
	}
}

// -- managing windows --

func (w *WM) onMapRequest(e xproto.MapRequestEvent) {
	if _, ok := w.clients[e.Window]; ok {
		xproto.MapWindow(w.X, e.Window)
		return
	}
	w.manage(e.Window)
}

// manage takes a window that asks to be mapped (or, at start, is mapped):
// reads what it says about itself, places it, maps and focuses it.
func (w *WM) manage(win xproto.Window) {
	X := w.X
	geo, err := xproto.GetGeometry(X, xproto.Drawable(win)).Reply()
	if err != nil {
		return // gone already
	}
	req := Rect{X: int(geo.X), Y: int(geo.Y), W: int(geo.Width), H: int(geo.Height)}
	if len(w.clients) >= maxClients {
		w.untracked++
		w.tooMany.warn("limit", maxClients, "untracked", w.untracked)
		r := KeepOnScreen(req, w.screen)
		w.configure(win, r)
		xproto.MapWindow(X, win)
		return
	}
	c := &client{win: win}
	w.readHints(c)
	w.readProtocols(c)
	types := w.getAtoms(win, w.a.netWMWindowType)
	var declared bool
	c.transientFor, declared = w.readTransientFor(win)
	// Transient for a window this WM does not manage (the root, a
	// window not mapped yet): still a dialog, centred on the screen.
	c.kind = w.kindOf(types, declared)
	var parent *Rect
	if p, ok := w.clients[c.transientFor]; ok {
		parent = &p.geom
	}
	// Windows adopted at start (mapped before the WM ran, at most a few
	// milliseconds' worth) are placed like new ones.
	c.geom = Place(req, c.hints, c.kind, parent, w.screen, w.otherSpots(win))
	w.clients[win] = c
	w.order = append(w.order, win)
	xproto.ChangeWindowAttributes(X, win, xproto.CwEventMask, []uint32{xproto.EventMaskPropertyChange})
	w.configure(win, c.geom)
	for _, s := range w.getAtoms(win, w.a.netWMState) {
		switch s {
		case w.a.netWMStateFullscreen:
			c.fullscreen = true
		case w.a.netWMStateMaximizedVert:
			c.maxV = true
		case w.a.netWMStateMaximizedHorz:
			c.maxH = true
		}
	}
	if c.fullscreen || c.maxV || c.maxH {
		c.saved = c.geom
		w.applyState(c)
	}
	// ICCCM 4.1.3.1: the WM keeps WM_STATE on the windows it manages.
	w.setCard32(win, w.a.wmState, w.a.wmState, 1, 0)
	w.setCard32(win, w.a.netFrameExtents, xproto.AtomCardinal, 0, 0, 0, 0)
	w.setCard32(win, w.a.netWMDesktop, xproto.AtomCardinal, 0)
	w.setClickGrab(c, true)
	xproto.MapWindow(X, win)
	w.updateClientList()
	if c.kind != KindPopup && c.kind != KindSplash && c.focusable() {
		w.activate(c)
	} else {
		w.raise(c)
	}
}

// otherSpots are the geometries of the managed windows other than win that
// a new window must not land exactly on.
func (w *WM) otherSpots(win xproto.Window) []Rect {
	var out []Rect
	for _, o := range w.order {
		if c := w.clients[o]; c != nil && o != win && c.kind != KindPopup {
			out = append(out, c.geom)
		}
	}
	return out
}

func (w *WM) unmanage(win xproto.Window, destroyed bool) {
	c, ok := w.clients[win]
	if !ok {
		return
	}
	delete(w.clients, win)
	w.order = slices.DeleteFunc(w.order, func(o xproto.Window) bool { return o == win })
	w.history = slices.DeleteFunc(w.history, func(o xproto.Window) bool { return o == win })
	if w.drag != nil && w.drag.win == win {
		w.endDrag()
	}
	if !destroyed {
		// Withdrawn (ICCCM 4.1.4): its WM_STATE goes, and the click grab
		// with it, so that the window is as the client left it.
		xproto.DeleteProperty(w.X, win, w.a.wmState)
		xproto.ChangeWindowAttributes(w.X, win, xproto.CwEventMask, []uint32{0})
		if c.clickGrab {
			xproto.UngrabButton(w.X, xproto.ButtonIndexAny, win, xproto.ModMaskAny)
		}
	}
	w.updateClientList()
	if w.focus == win {
		w.focus = 0
		// Back to the window this one was a dialog of, else to the last
		// one focused before it.
		next := w.clients[c.transientFor]
		if next == nil || !next.focusable() {
			next = nil
			for i := len(w.history) - 1; i >= 0; i-- {
				if h := w.clients[w.history[i]]; h != nil && h.focusable() {
					next = h
					break
				}
			}
		}
		if next != nil {
			w.activate(next)
		} else {
			xproto.SetInputFocus(w.X, xproto.InputFocusPointerRoot, xproto.Window(xproto.InputFocusPointerRoot), xproto.TimeCurrentTime)
			w.setCard32(w.root, w.a.netActiveWindow, xproto.AtomWindow, 0)
		}
	}
}

// kindOf reads _NET_WM_WINDOW_TYPE (the first type it knows, as EWMH
// says) and WM_TRANSIENT_FOR.
func (w *WM) kindOf(types []xproto.Atom, transient bool) Kind {
	for _, t := range types {
		switch t {
		case w.a.typeNormal, w.a.typeUtility, w.a.typeToolbar:
			if transient {
				return KindDialog
			}
			return KindNormal
		case w.a.typeDialog:
			return KindDialog
		case w.a.typeSplash:
			return KindSplash
		case w.a.typeMenu, w.a.typeDropdownMenu, w.a.typePopupMenu, w.a.typeTooltip,
			w.a.typeNotification, w.a.typeCombo, w.a.typeDND, w.a.typeDock, w.a.typeDesktop:
			return KindPopup
		}
	}
	if transient {
		return KindDialog
	}
	return KindNormal
}

// -- geometry --

// configure moves and resizes a managed window, border 0.
func (w *WM) configure(win xproto.Window, r Rect) {
	xproto.ConfigureWindow(w.X, win,
		xproto.ConfigWindowX|xproto.ConfigWindowY|xproto.ConfigWindowWidth|xproto.ConfigWindowHeight|xproto.ConfigWindowBorderWidth,
		[]uint32{uint32(int32(r.X)), uint32(int32(r.Y)), uint32(r.W), uint32(r.H), 0})
}

// setGeom applies a managed window's new geometry and tells the client
// (ICCCM 4.1.5: a synthetic ConfigureNotify in root coordinates).
func (w *WM) setGeom(c *client, r Rect) {
	c.geom = r
	w.configure(c.win, r)
	w.sendConfigureNotify(c)
}

func (w *WM) sendConfigureNotify(c *client) {
	ev := xproto.ConfigureNotifyEvent{Event: c.win, Window: c.win, AboveSibling: xproto.WindowNone,
		X: int16(c.geom.X), Y: int16(c.geom.Y), Width: uint16(c.geom.W), Height: uint16(c.geom.H)}
	xproto.SendEvent(w.X, false, c.win, xproto.EventMaskStructureNotify, string(ev.Bytes()))
}

func (w *WM) onConfigureRequest(e xproto.ConfigureRequestEvent) {
	c, ok := w.clients[e.Window]
	if !ok {
		// Not (yet) managed: as asked, but never larger than the screen;
		// it is placed when it is mapped.
		var vals []uint32
		m := e.ValueMask
		add := func(bit uint16, v uint32) {
			if m&bit != 0 {
				vals = append(vals, v)
			}
		}
		add(xproto.ConfigWindowX, uint32(int32(e.X)))
		add(xproto.ConfigWindowY, uint32(int32(e.Y)))
		add(xproto.ConfigWindowWidth, uint32(max(1, min(int(e.Width), w.screen.W))))
		add(xproto.ConfigWindowHeight, uint32(max(1, min(int(e.Height), w.screen.H))))
		add(xproto.ConfigWindowBorderWidth, uint32(e.BorderWidth))
		add(xproto.ConfigWindowSibling, uint32(e.Sibling))
		add(xproto.ConfigWindowStackMode, uint32(e.StackMode))
		xproto.ConfigureWindow(w.X, e.Window, m, vals)
		return
	}
	if c.fullscreen || c.maxV || c.maxH || (w.drag != nil && w.drag.win == c.win) {
		// The WM decides this geometry: the client is told where it is.
		w.sendConfigureNotify(c)
		return
	}
	r := c.geom
	if e.ValueMask&xproto.ConfigWindowX != 0 {
		r.X = int(e.X)
	}
	if e.ValueMask&xproto.ConfigWindowY != 0 {
		r.Y = int(e.Y)
	}
	if e.ValueMask&xproto.ConfigWindowWidth != 0 {
		r.W = int(e.Width)
	}
	if e.ValueMask&xproto.ConfigWindowHeight != 0 {
		r.H = int(e.Height)
	}
	r.W, r.H = FitSize(r.W, r.H, c.hints, w.screen)
	w.setGeom(c, KeepOnScreen(r, w.screen))
	if e.ValueMask&xproto.ConfigWindowStackMode != 0 && e.StackMode == xproto.StackModeAbove {
		w.raise(c)
	}
}

func (w *WM) onScreenResize(width, height int) {
	if width <= 0 || height <= 0 || (width == w.screen.W && height == w.screen.H) {
		return
	}
	w.screen = Rect{W: width, H: height}
	w.setScreenProps()
	for _, win := range w.order {
		c := w.clients[win]
		if c.fullscreen || c.maxV || c.maxH {
			w.applyState(c)
			continue
		}
		r := c.geom
		r.W, r.H = FitSize(r.W, r.H, c.hints, w.screen)
		if r = KeepOnScreen(r, w.screen); r != c.geom {
			w.setGeom(c, r)
		}
	}
}

// applyState gives a fullscreen or maximized window its geometry, or its
// saved one back when it is neither any more.
func (w *WM) applyState(c *client) {
	r := c.saved
	switch {
	case c.fullscreen:
		r = w.screen
	case c.maxV || c.maxH:
		if c.maxH {
			r.X, r.W = w.screen.X, w.screen.W
		}
		if c.maxV {
			r.Y, r.H = w.screen.Y, w.screen.H
		}
	}
	r.W, r.H = FitSize(r.W, r.H, SizeHints{}, w.screen)
	w.setGeom(c, KeepOnScreen(r, w.screen))
	var st []uint32
	for _, s := range []struct {
		on bool
		a  xproto.Atom
	}{{c.fullscreen, w.a.netWMStateFullscreen}, {c.maxV, w.a.netWMStateMaximizedVert}, {c.maxH, w.a.netWMStateMaximizedHorz}} {
		if s.on {
			st = append(st, uint32(s.a))
		}
	}
	w.setCard32(c.win, w.a.netWMState, xproto.AtomAtom, st...)
	if c.fullscreen {
		w.raise(c)
	}
}

// -- focus and stacking --

// activate focuses and raises a window.
func (w *WM) activate(c *client) {
	w.raise(c)
	if !c.focusable() {
		return
	}
	if c.input {
		xproto.SetInputFocus(w.X, xproto.InputFocusPointerRoot, c.win, xproto.TimeCurrentTime)
	}
	if c.takeFocus {
		w.sendProtocol(c.win, w.a.wmTakeFocus)
	}
	if old := w.clients[w.focus]; old != nil && old != c {
		w.setClickGrab(old, true)
	}
	w.setClickGrab(c, false)
	w.focus = c.win
	w.history = slices.DeleteFunc(w.history, func(o xproto.Window) bool { return o == c.win })
	w.history = append(w.history, c.win)
	w.setCard32(w.root, w.a.netActiveWindow, xproto.AtomWindow, uint32(c.win))
}

// raise puts a window on top, and the windows transient for it above it,
// so that a dialog never hides behind its parent.
func (w *WM) raise(c *client) {
	w.raiseTree(c, 0)
}

func (w *WM) raiseTree(c *client, depth int) {
	if depth > maxTransientDepth {
		return
	}
	xproto.ConfigureWindow(w.X, c.win, xproto.ConfigWindowStackMode, []uint32{xproto.StackModeAbove})
	for _, win := range w.order {
		if t := w.clients[win]; t != nil && t.transientFor == c.win && t != c {
			w.raiseTree(t, depth+1)
		}
	}
}

// setClickGrab sets or removes the grab that makes a click on a window
// without the focus focus it (the click then goes on to the window:
// AllowEvents ReplayPointer in onButtonPress).
func (w *WM) setClickGrab(c *client, on bool) {
	if on == c.clickGrab {
		return
	}
	c.clickGrab = on
	if on {
		xproto.GrabButton(w.X, false, c.win, xproto.EventMaskButtonPress, xproto.GrabModeSync, xproto.GrabModeAsync,
			xproto.WindowNone, xproto.CursorNone, xproto.ButtonIndexAny, xproto.ModMaskAny)
	} else {
		xproto.UngrabButton(w.X, xproto.ButtonIndexAny, c.win, xproto.ModMaskAny)
	}
}

// -- input --

func (w *WM) onButtonPress(e xproto.ButtonPressEvent) {
	if e.Event != w.root {
		// The click grab of a window without the focus: focus it, then
		// let the click through. Always released, whatever the window:
		// a sync grab left frozen would freeze the pointer.
		defer xproto.AllowEvents(w.X, xproto.AllowReplayPointer, e.Time)
		if c := w.clients[e.Event]; c != nil {
			w.activate(c)
		}
		return
	}
	// Alt+button on the root's grab: the window under the pointer is the
	// root's child (no frames: the client itself).
	c := w.clients[e.Child]
	if c == nil || w.drag != nil || c.fullscreen {
		return
	}
	w.activate(c)
	switch e.Detail {
	case xproto.ButtonIndex1:
		w.drag = &drag{win: c.win, startX: int(e.RootX), startY: int(e.RootY), start: c.geom}
	case xproto.ButtonIndex3:
		w.drag = &drag{win: c.win, startX: int(e.RootX), startY: int(e.RootY), start: c.geom, resize: true}
	}
	if w.drag != nil && (c.maxV || c.maxH) {
		// Dragging a maximized window unmaximizes it where it is.
		c.maxV, c.maxH = false, false
		w.setCard32(c.win, w.a.netWMState, xproto.AtomAtom)
	}
}

func (w *WM) onMotion(x, y int) {
	d := w.drag
	if d == nil {
		return
	}
	c := w.clients[d.win]
	if c == nil {
		w.endDrag()
		return
	}
	dx, dy := x-d.startX, y-d.startY
	var r Rect
	if d.edgeResize {
		r = ResizeEdges(d.start, d.edges, dx, dy, c.hints, w.screen)
	} else {
		r = Drag(d.start, dx, dy, d.resize, c.hints, w.screen)
	}
	if r != c.geom {
		w.setGeom(c, r)
	}
}

func (w *WM) endDrag() {
	if w.drag == nil {
		return
	}
	if w.drag.pointerGrab {
		xproto.UngrabPointer(w.X, xproto.TimeCurrentTime)
	}
	w.drag = nil
}

// _NET_WM_MOVERESIZE directions (EWMH).
const (
	mrSizeTopLeft     = 0
	mrSizeLeft        = 7
	mrMove            = 8
	mrSizeKeyboard    = 9
	mrMoveKeyboard    = 10
	mrCancel          = 11
	mrSizeTop         = 1
	mrSizeTopRight    = 2
	mrSizeRight       = 3
	mrSizeBottomRight = 4
	mrSizeBottom      = 5
	mrSizeBottomLeft  = 6
)

var moveResizeEdges = map[uint32]Edge{
	mrSizeTopLeft: {Left: true, Top: true}, mrSizeTop: {Top: true}, mrSizeTopRight: {Top: true, Right: true},
	mrSizeRight: {Right: true}, mrSizeBottomRight: {Right: true, Bottom: true}, mrSizeBottom: {Bottom: true},
	mrSizeBottomLeft: {Bottom: true, Left: true}, mrSizeLeft: {Left: true},
}

// moveResize starts a move or resize a client asked for (GTK 3 does when
// the user drags its client-side title bar or edges), with the button
// still held; it ends when the button is released.
func (w *WM) moveResize(c *client, x, y int, dir uint32) {
	if dir == mrCancel {
		w.endDrag()
		return
	}
	edges, isResize := moveResizeEdges[dir]
	if dir != mrMove && !isResize {
		return // keyboard moves and resizes are not offered
	}
	if w.drag != nil || c.fullscreen {
		return
	}
	g, err := xproto.GrabPointer(w.X, false, w.root,
		xproto.EventMaskButtonRelease|xproto.EventMaskPointerMotion,
		xproto.GrabModeAsync, xproto.GrabModeAsync, xproto.WindowNone, xproto.CursorNone, xproto.TimeCurrentTime).Reply()
	if err != nil || g.Status != xproto.GrabStatusSuccess {
		return
	}
	// The button may be up already (the request raced the release): then
	// there is nothing to drag.
	p, err := xproto.QueryPointer(w.X, w.root).Reply()
	if err != nil || p.Mask&(xproto.KeyButMaskButton1|xproto.KeyButMaskButton2|xproto.KeyButMaskButton3) == 0 {
		xproto.UngrabPointer(w.X, xproto.TimeCurrentTime)
		return
	}
	c.maxV, c.maxH = false, false
	w.drag = &drag{win: c.win, startX: int(p.RootX), startY: int(p.RootY), start: c.geom,
		edges: edges, edgeResize: isResize, pointerGrab: true}
}

// -- properties and messages --

func (w *WM) onProperty(e xproto.PropertyNotifyEvent) {
	c := w.clients[e.Window]
	if c == nil {
		return
	}
	switch e.Atom {
	case xproto.AtomWmNormalHints:
		w.readHints(c)
		if !(c.fullscreen || c.maxV || c.maxH) {
			r := c.geom
			r.W, r.H = FitSize(r.W, r.H, c.hints, w.screen)
			if r = KeepOnScreen(r, w.screen); r != c.geom {
				w.setGeom(c, r)
			}
		}
	case xproto.AtomWmHints:
		w.readHints(c)
	case w.a.wmProtocols:
		w.readProtocols(c)
	case xproto.AtomWmTransientFor:
		c.transientFor, _ = w.readTransientFor(c.win)
	}
}

func (w *WM) onClientMessage(e xproto.ClientMessageEvent) {
	if e.Format != 32 || len(e.Data.Data32) < 5 {
		return
	}
	d := e.Data.Data32
	if e.Type == w.a.netRequestFrameExtents {
		w.setCard32(e.Window, w.a.netFrameExtents, xproto.AtomCardinal, 0, 0, 0, 0)
		return
	}
	c := w.clients[e.Window]
	if c == nil {
		return
	}
	switch e.Type {
	case w.a.netActiveWindow:
		// Every client of this display is the one application: it may
		// raise its own windows.
		w.activate(c)
	case w.a.netWMState:
		w.changeState(c, d[0], xproto.Atom(d[1]), xproto.Atom(d[2]))
	case w.a.netWMMoveResize:
		w.moveResize(c, int(int32(d[0])), int(int32(d[1])), d[2])
	case w.a.netCloseWindow:
		if c.deleteWindow {
			w.sendProtocol(c.win, w.a.wmDeleteWindow)
		}
	}
}

// changeState applies a _NET_WM_STATE request: action 0 removes, 1 adds,
// 2 toggles, for up to two states.
func (w *WM) changeState(c *client, action uint32, s1, s2 xproto.Atom) {
	if action > 2 {
		return
	}
	was := c.fullscreen || c.maxV || c.maxH
	set := func(v *bool) {
		switch action {
		case 0:
			*v = false
		case 1:
			*v = true
		case 2:
			*v = !*v
		}
	}
	changed := false
	for _, s := range []xproto.Atom{s1, s2} {
		switch {
		case s == 0:
		case s == w.a.netWMStateFullscreen:
			set(&c.fullscreen)
			changed = true
		case s == w.a.netWMStateMaximizedVert:
			set(&c.maxV)
			changed = true
		case s == w.a.netWMStateMaximizedHorz:
			set(&c.maxH)
			changed = true
		}
	}
	if !changed {
		return
	}
	if !was {
		c.saved = c.geom
	}
	w.applyState(c)
}

// sendProtocol sends a WM_PROTOCOLS client message (WM_TAKE_FOCUS,
// WM_DELETE_WINDOW).
func (w *WM) sendProtocol(win xproto.Window, proto xproto.Atom) {
	ev := xproto.ClientMessageEvent{Format: 32, Window: win, Type: w.a.wmProtocols,
		Data: xproto.ClientMessageDataUnionData32New([]uint32{uint32(proto), uint32(xproto.TimeCurrentTime), 0, 0, 0})}
	xproto.SendEvent(w.X, false, win, xproto.EventMaskNoEvent, string(ev.Bytes()))
}

// readHints reads WM_NORMAL_HINTS and WM_HINTS.
func (w *WM) readHints(c *client) {
	c.hints = ParseNormalHints(w.getCard32(c.win, xproto.AtomWmNormalHints, normalHintsLen))
	c.input = ParseWMHints(w.getCard32(c.win, xproto.AtomWmHints, wmHintsLen))
}

func (w *WM) readProtocols(c *client) {
	c.takeFocus, c.deleteWindow = false, false
	for _, p := range w.getAtoms(c.win, w.a.wmProtocols) {
		switch p {
		case w.a.wmTakeFocus:
			c.takeFocus = true
		case w.a.wmDeleteWindow:
			c.deleteWindow = true
		}
	}
}

// readTransientFor is WM_TRANSIENT_FOR when it names another managed
// window and following it does not come back to win (0 otherwise);
// declared says whether the window has the property at all.
func (w *WM) readTransientFor(win xproto.Window) (parent xproto.Window, declared bool) {
	v := w.getCard32(win, xproto.AtomWmTransientFor, 1)
	if len(v) != 1 {
		return 0, false
	}
	p := xproto.Window(v[0])
	for i, t := 0, p; i < maxTransientDepth; i++ {
		tc := w.clients[t]
		if t == win {
			return 0, true // a cycle
		}
		if tc == nil {
			break
		}
		t = tc.transientFor
	}
	if _, ok := w.clients[p]; !ok {
		return 0, true
	}
	return p, true
}

// getCard32 reads up to max format-32 values of a property (any type).
func (w *WM) getCard32(win xproto.Window, prop xproto.Atom, max int) []uint32 {
	r, err := xproto.GetProperty(w.X, false, win, prop, xproto.GetPropertyTypeAny, 0, uint32(max)).Reply()
	if err != nil || r.Format != 32 {
		return nil
	}
	return bytesToCard32(r.Value, max)
}

func (w *WM) getAtoms(win xproto.Window, prop xproto.Atom) []xproto.Atom {
	v := w.getCard32(win, prop, atomListLen)
	out := make([]xproto.Atom, len(v))
	for i, a := range v {
		out[i] = xproto.Atom(a)
	}
	return out
}

func (w *WM) setCard32(win xproto.Window, prop, typ xproto.Atom, vals ...uint32) {
	b := make([]byte, 4*len(vals))
	for i, v := range vals {
		xgb.Put32(b[4*i:], v)
	}
	xproto.ChangeProperty(w.X, xproto.PropModeReplace, win, prop, typ, 32, uint32(len(vals)), b)
}

func (w *WM) updateClientList() {
	vals := make([]uint32, len(w.order))
	for i, win := range w.order {
		vals[i] = uint32(win)
	}
	w.setCard32(w.root, w.a.netClientList, xproto.AtomWindow, vals...)
}
