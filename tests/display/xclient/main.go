// Command xclient is a hostile X client for tests/display: run inside a
// sandbox on its nested display, it does what a compromised application
// could do to the window manager (absurd WM_NORMAL_HINTS, a megabyte of
// WM_NAME, garbage lists, transient cycles, floods of requests, more
// windows than the WM tracks), then maps a plain window and reports where
// the WM put it, and where every mapped window is ("WIN id x y w h").
package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

var X *xgb.Conn

func atom(name string) xproto.Atom {
	r, err := xproto.InternAtom(X, false, uint16(len(name)), name).Reply()
	if err != nil {
		fail("intern %s: %v", name, err)
	}
	return r.Atom
}

func fail(f string, a ...any) {
	fmt.Printf("FAIL "+f+"\n", a...)
	os.Exit(1)
}

func window(root xproto.Window, x, y int16, w, h uint16) xproto.Window {
	id, err := xproto.NewWindowId(X)
	if err != nil {
		fail("window id: %v", err)
	}
	if err := xproto.CreateWindowChecked(X, 0, id, root, x, y, w, h, 0, xproto.WindowClassInputOutput, 0,
		xproto.CwEventMask, []uint32{xproto.EventMaskStructureNotify}).Check(); err != nil {
		fail("create window: %v", err)
	}
	return id
}

func card32(vals ...uint32) []byte {
	b := make([]byte, 4*len(vals))
	for i, v := range vals {
		xgb.Put32(b[4*i:], v)
	}
	return b
}

func set32(win xproto.Window, prop, typ xproto.Atom, vals ...uint32) {
	xproto.ChangeProperty(X, xproto.PropModeReplace, win, prop, typ, 32, uint32(len(vals)), card32(vals...))
}

// bigProperty sets a property of n bytes of garbage text, in chunks (a
// request is at most 256 KiB without BIG-REQUESTS).
func bigProperty(win xproto.Window, prop, typ xproto.Atom, n int) {
	chunk := []byte(strings.Repeat("\xff\xfe<script>%n%s\x00\u202e", 1<<12))
	mode := byte(xproto.PropModeReplace)
	for done := 0; done < n; {
		c := chunk[:min(len(chunk), n-done, 200000)]
		xproto.ChangeProperty(X, mode, win, prop, typ, 8, uint32(len(c)), c)
		mode = xproto.PropModeAppend
		done += len(c)
	}
}

func clientMessage(win xproto.Window, typ xproto.Atom, d ...uint32) {
	d = append(d, 0, 0, 0, 0, 0)[:5]
	ev := xproto.ClientMessageEvent{Format: 32, Window: win, Type: typ, Data: xproto.ClientMessageDataUnionData32New(d)}
	xproto.SendEvent(X, false, root, xproto.EventMaskSubstructureRedirect|xproto.EventMaskSubstructureNotify, string(ev.Bytes()))
}

var root xproto.Window

func sync() { xproto.GetInputFocus(X).Reply() }

func main() {
	var err error
	if X, err = xgb.NewConn(); err != nil {
		fail("connect: %v", err)
	}
	// Events and errors are drained, unread: xgb stops reading replies
	// when its event channel is full.
	go func() {
		for {
			if ev, err := X.WaitForEvent(); ev == nil && err == nil {
				return
			}
		}
	}()
	scr := xproto.Setup(X).DefaultScreen(X)
	root = scr.Root
	fmt.Printf("SCREEN %d %d\n", scr.WidthInPixels, scr.HeightInPixels)
	// The window manager first: it starts beside the application.
	check := atom("_NET_SUPPORTING_WM_CHECK")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		r, err := xproto.GetProperty(X, false, root, check, xproto.AtomWindow, 0, 1).Reply()
		if err == nil && r.ValueLen == 1 {
			fmt.Printf("WM %#x\n", xgb.Get32(r.Value))
			break
		}
		if time.Now().After(deadline) {
			fail("no window manager")
		}
	}
	name, netName, utf8 := atom("WM_NAME"), atom("_NET_WM_NAME"), atom("UTF8_STRING")
	protocols, transient := atom("WM_PROTOCOLS"), xproto.Atom(xproto.AtomWmTransientFor)
	wmType, wmState, moveResize, active := atom("_NET_WM_WINDOW_TYPE"), atom("_NET_WM_STATE"), atom("_NET_WM_MOVERESIZE"), atom("_NET_ACTIVE_WINDOW")
	fullscreen := atom("_NET_WM_STATE_FULLSCREEN")

	// A megabyte of WM_NAME and of _NET_WM_NAME, absurd size hints.
	a := window(root, -30000, 30000, 32767, 32767)
	bigProperty(a, name, xproto.AtomString, 1<<20)
	bigProperty(a, netName, utf8, 1<<20)
	set32(a, xproto.AtomWmNormalHints, xproto.AtomWmSizeHints, 0xffffffff, 0x7fffffff, 0x80000000, 0xffffffff, 0,
		0x7fffffff, 0x7fffffff, 1, 1, 0, 0, 0xffffffff, 0, 0, 0, 0x7fffffff, 0x80000000, 99)
	xproto.MapWindow(X, a)
	// Odd-length hints, WM_HINTS as bytes, protocols and types of garbage,
	// transient for itself.
	b := window(root, 0, 0, 100, 100)
	xproto.ChangeProperty(X, xproto.PropModeReplace, b, xproto.AtomWmNormalHints, xproto.AtomWmSizeHints, 32, 3, card32(0xffffffff, 5, 7))
	xproto.ChangeProperty(X, xproto.PropModeReplace, b, xproto.AtomWmHints, xproto.AtomWmHints, 8, 5, []byte{1, 2, 3, 4, 5})
	junk := make([]uint32, 50000)
	for i := range junk {
		junk[i] = uint32(i*2654435761) | 1
	}
	set32(b, protocols, xproto.AtomAtom, junk...)
	set32(b, wmType, xproto.AtomAtom, junk...)
	set32(b, transient, xproto.AtomWindow, uint32(b))
	xproto.MapWindow(X, b)
	// A transient cycle.
	c, d := window(root, 10, 10, 200, 200), window(root, 20, 20, 200, 200)
	set32(c, transient, xproto.AtomWindow, uint32(d))
	set32(d, transient, xproto.AtomWindow, uint32(c))
	xproto.MapWindow(X, c)
	xproto.MapWindow(X, d)
	set32(c, transient, xproto.AtomWindow, uint32(d))
	// Client messages with garbage.
	clientMessage(a, wmState, 7, 0xdeadbeef, 0xffffffff)
	clientMessage(a, moveResize, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff)
	clientMessage(a, moveResize, 100, 100, 4, 1) // no button is down
	clientMessage(0x7fffffff, active, 1)
	for i := 0; i < 101; i++ {
		clientMessage(b, wmState, 2, uint32(fullscreen))
	}
	// A flood of configure requests to anywhere, of any size.
	for i := 0; i < 3000; i++ {
		v := uint32(i * 7919)
		xproto.ConfigureWindow(X, []xproto.Window{a, b, c, d}[i%4],
			xproto.ConfigWindowX|xproto.ConfigWindowY|xproto.ConfigWindowWidth|xproto.ConfigWindowHeight|xproto.ConfigWindowBorderWidth,
			[]uint32{uint32(int32(int16(v))), uint32(int32(int16(v >> 3))), v%32767 + 1, (v>>5)%32767 + 1, v % 300})
	}
	// Hints that change after mapping: a minimum larger than any screen.
	set32(c, xproto.AtomWmNormalHints, xproto.AtomWmSizeHints, 1<<4, 0, 0, 0, 0, 30000, 30000)
	// More windows than the WM tracks, mapped, half of them destroyed.
	var many []xproto.Window
	for i := 0; i < 700; i++ {
		w := window(root, int16(i), int16(i), 50, 50)
		set32(w, xproto.AtomWmNormalHints, xproto.AtomWmSizeHints, 0xffffffff, 1, 2, 3, 4, 5, 6, 7, 8)
		xproto.MapWindow(X, w)
		many = append(many, w)
	}
	sync()
	for i, w := range many {
		if i%2 == 0 {
			xproto.DestroyWindow(X, w)
		}
	}
	for i, w := range many {
		if i%2 == 1 && i > 100 {
			xproto.UnmapWindow(X, w)
		}
	}
	xproto.DestroyWindow(X, d)
	sync()
	fmt.Println("HOSTILE-DONE")

	// The probe: a plain window, mapped after all of the above. The WM
	// handles requests in order: once the probe is placed, everything
	// before it was handled.
	p := window(root, 0, 0, 300, 200)
	xproto.MapWindow(X, p)
	deadline := time.Now().Add(30 * time.Second)
	for {
		g, err := xproto.GetGeometry(X, xproto.Drawable(p)).Reply()
		st, _ := xproto.GetProperty(X, false, p, atom("WM_STATE"), xproto.GetPropertyTypeAny, 0, 2).Reply()
		if err == nil && st != nil && st.ValueLen > 0 && (g.X != 0 || g.Y != 0) {
			fmt.Printf("PROBE %d %d %d %d\n", g.X, g.Y, g.Width, g.Height)
			break
		}
		if time.Now().After(deadline) {
			fmt.Println("PROBE none")
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	tree, err := xproto.QueryTree(X, root).Reply()
	if err != nil {
		fail("query tree: %v", err)
	}
	for _, w := range tree.Children {
		attr, err := xproto.GetWindowAttributes(X, w).Reply()
		if err != nil || attr.MapState != xproto.MapStateViewable || attr.OverrideRedirect {
			continue
		}
		g, err := xproto.GetGeometry(X, xproto.Drawable(w)).Reply()
		if err != nil {
			continue
		}
		fmt.Printf("WIN %#x %d %d %d %d %d\n", w, g.X, g.Y, g.Width, g.Height, g.BorderWidth)
	}
	fmt.Println("END")
}
