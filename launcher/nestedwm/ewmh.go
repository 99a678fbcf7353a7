package nestedwm

import (
	"fmt"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// Name is what the window manager calls itself (_NET_WM_NAME of its check
// window, EWMH "Root Window Properties").
const Name = "airlock-wm"

// atoms are the atoms this window manager uses, interned once at start.
type atoms struct {
	utf8String              xproto.Atom
	wmProtocols             xproto.Atom
	wmTakeFocus             xproto.Atom
	wmDeleteWindow          xproto.Atom
	wmState                 xproto.Atom
	netSupported            xproto.Atom
	netSupportingWMCheck    xproto.Atom
	netWMName               xproto.Atom
	netClientList           xproto.Atom
	netActiveWindow         xproto.Atom
	netNumberOfDesktops     xproto.Atom
	netCurrentDesktop       xproto.Atom
	netDesktopGeometry      xproto.Atom
	netDesktopViewport      xproto.Atom
	netWorkarea             xproto.Atom
	netWMDesktop            xproto.Atom
	netFrameExtents         xproto.Atom
	netRequestFrameExtents  xproto.Atom
	netCloseWindow          xproto.Atom
	netWMMoveResize         xproto.Atom
	netWMState              xproto.Atom
	netWMStateFullscreen    xproto.Atom
	netWMStateMaximizedVert xproto.Atom
	netWMStateMaximizedHorz xproto.Atom
	netWMWindowType         xproto.Atom
	typeNormal              xproto.Atom
	typeDialog              xproto.Atom
	typeUtility             xproto.Atom
	typeToolbar             xproto.Atom
	typeSplash              xproto.Atom
	typeMenu                xproto.Atom
	typeDropdownMenu        xproto.Atom
	typePopupMenu           xproto.Atom
	typeTooltip             xproto.Atom
	typeNotification        xproto.Atom
	typeCombo               xproto.Atom
	typeDND                 xproto.Atom
	typeDock                xproto.Atom
	typeDesktop             xproto.Atom
}

// atomDef is one atom: where it goes, its name, and whether _NET_SUPPORTED
// lists it (what is implemented, nothing more).
type atomDef struct {
	p         *xproto.Atom
	name      string
	supported bool
}

func (a *atoms) table() []atomDef {
	return []atomDef{
		{&a.utf8String, "UTF8_STRING", false},
		{&a.wmProtocols, "WM_PROTOCOLS", false},
		{&a.wmTakeFocus, "WM_TAKE_FOCUS", false},
		{&a.wmDeleteWindow, "WM_DELETE_WINDOW", false},
		{&a.wmState, "WM_STATE", false},
		{&a.netSupported, "_NET_SUPPORTED", false},
		{&a.netSupportingWMCheck, "_NET_SUPPORTING_WM_CHECK", true},
		{&a.netWMName, "_NET_WM_NAME", true},
		{&a.netClientList, "_NET_CLIENT_LIST", true},
		{&a.netActiveWindow, "_NET_ACTIVE_WINDOW", true},
		{&a.netNumberOfDesktops, "_NET_NUMBER_OF_DESKTOPS", true},
		{&a.netCurrentDesktop, "_NET_CURRENT_DESKTOP", true},
		{&a.netDesktopGeometry, "_NET_DESKTOP_GEOMETRY", true},
		{&a.netDesktopViewport, "_NET_DESKTOP_VIEWPORT", true},
		{&a.netWorkarea, "_NET_WORKAREA", true},
		{&a.netWMDesktop, "_NET_WM_DESKTOP", true},
		{&a.netFrameExtents, "_NET_FRAME_EXTENTS", true},
		{&a.netRequestFrameExtents, "_NET_REQUEST_FRAME_EXTENTS", true},
		{&a.netCloseWindow, "_NET_CLOSE_WINDOW", true},
		{&a.netWMMoveResize, "_NET_WM_MOVERESIZE", true},
		{&a.netWMState, "_NET_WM_STATE", true},
		{&a.netWMStateFullscreen, "_NET_WM_STATE_FULLSCREEN", true},
		{&a.netWMStateMaximizedVert, "_NET_WM_STATE_MAXIMIZED_VERT", true},
		{&a.netWMStateMaximizedHorz, "_NET_WM_STATE_MAXIMIZED_HORZ", true},
		{&a.netWMWindowType, "_NET_WM_WINDOW_TYPE", true},
		{&a.typeNormal, "_NET_WM_WINDOW_TYPE_NORMAL", true},
		{&a.typeDialog, "_NET_WM_WINDOW_TYPE_DIALOG", true},
		{&a.typeUtility, "_NET_WM_WINDOW_TYPE_UTILITY", true},
		{&a.typeToolbar, "_NET_WM_WINDOW_TYPE_TOOLBAR", true},
		{&a.typeSplash, "_NET_WM_WINDOW_TYPE_SPLASH", true},
		{&a.typeMenu, "_NET_WM_WINDOW_TYPE_MENU", true},
		{&a.typeDropdownMenu, "_NET_WM_WINDOW_TYPE_DROPDOWN_MENU", true},
		{&a.typePopupMenu, "_NET_WM_WINDOW_TYPE_POPUP_MENU", true},
		{&a.typeTooltip, "_NET_WM_WINDOW_TYPE_TOOLTIP", true},
		{&a.typeNotification, "_NET_WM_WINDOW_TYPE_NOTIFICATION", true},
		{&a.typeCombo, "_NET_WM_WINDOW_TYPE_COMBO", true},
		{&a.typeDND, "_NET_WM_WINDOW_TYPE_DND", true},
		{&a.typeDock, "_NET_WM_WINDOW_TYPE_DOCK", true},
		{&a.typeDesktop, "_NET_WM_WINDOW_TYPE_DESKTOP", true},
	}
}

// internAtoms interns every atom, pipelined: one round trip in all.
func internAtoms(X *xgb.Conn) (atoms, error) {
	var a atoms
	t := a.table()
	cookies := make([]xproto.InternAtomCookie, len(t))
	for i, d := range t {
		cookies[i] = xproto.InternAtom(X, false, uint16(len(d.name)), d.name)
	}
	for i, c := range cookies {
		r, err := c.Reply()
		if err != nil {
			return a, fmt.Errorf("%s: %w", t[i].name, err)
		}
		*t[i].p = r.Atom
	}
	return a, nil
}

// supportedList is _NET_SUPPORTED.
func (a *atoms) supportedList() []uint32 {
	var out []uint32
	for _, d := range a.table() {
		if d.supported {
			out = append(out, uint32(*d.p))
		}
	}
	return out
}

// setupEWMH creates the check window and sets the root's EWMH properties.
func (w *WM) setupEWMH() error {
	X := w.X
	id, err := xproto.NewWindowId(X)
	if err != nil {
		return err
	}
	w.check = id
	// An input-only window off the screen, never mapped, that nothing
	// else may manage (override-redirect).
	xproto.CreateWindow(X, 0, id, w.root, -1, -1, 1, 1, 0, xproto.WindowClassInputOnly,
		0, xproto.CwOverrideRedirect, []uint32{1})
	w.setCard32(id, w.a.netSupportingWMCheck, xproto.AtomWindow, uint32(id))
	xproto.ChangeProperty(X, xproto.PropModeReplace, id, w.a.netWMName, w.a.utf8String, 8, uint32(len(Name)), []byte(Name))
	w.setCard32(w.root, w.a.netSupportingWMCheck, xproto.AtomWindow, uint32(id))
	w.setCard32(w.root, w.a.netSupported, xproto.AtomAtom, w.a.supportedList()...)
	w.setCard32(w.root, w.a.netNumberOfDesktops, xproto.AtomCardinal, 1)
	w.setCard32(w.root, w.a.netCurrentDesktop, xproto.AtomCardinal, 0)
	w.setCard32(w.root, w.a.netDesktopViewport, xproto.AtomCardinal, 0, 0)
	w.setCard32(w.root, w.a.netActiveWindow, xproto.AtomWindow, 0)
	w.setScreenProps()
	w.updateClientList()
	return nil
}

// setScreenProps sets what depends on the screen's size.
func (w *WM) setScreenProps() {
	w.setCard32(w.root, w.a.netDesktopGeometry, xproto.AtomCardinal, uint32(w.screen.W), uint32(w.screen.H))
	w.setCard32(w.root, w.a.netWorkarea, xproto.AtomCardinal, 0, 0, uint32(w.screen.W), uint32(w.screen.H))
}
