package clipboard

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/res"
	"github.com/jezek/xgb/xproto"
)

// Key is one key combination: modifiers and a keysym.
type Key struct {
	Mods uint16
	Sym  xproto.Keysym
}

// Default keys, as in Qubes OS.
const (
	DefaultCopyKey  = "ctrl+shift+c"
	DefaultPasteKey = "ctrl+shift+v"
)

// ParseKey reads "ctrl+shift+c": modifiers ctrl, shift, alt (mod1), super
// (mod4), then one letter or digit.
func ParseKey(s string) (Key, error) {
	parts := strings.Split(strings.ToLower(strings.TrimSpace(s)), "+")
	var k Key
	for _, p := range parts[:len(parts)-1] {
		switch p {
		case "ctrl", "control":
			k.Mods |= xproto.ModMaskControl
		case "shift":
			k.Mods |= xproto.ModMaskShift
		case "alt", "mod1":
			k.Mods |= xproto.ModMask1
		case "super", "mod4":
			k.Mods |= xproto.ModMask4
		default:
			return Key{}, fmt.Errorf("unknown modifier %q in %q", p, s)
		}
	}
	last := parts[len(parts)-1]
	if len(last) != 1 || !(last[0] >= 'a' && last[0] <= 'z' || last[0] >= '0' && last[0] <= '9') {
		return Key{}, fmt.Errorf("key %q in %q is not one letter or digit", last, s)
	}
	if k.Mods&(xproto.ModMaskControl|xproto.ModMask1|xproto.ModMask4) == 0 {
		// A bare letter would take that letter from every application.
		return Key{}, fmt.Errorf("%q needs ctrl, alt or super", s)
	}
	k.Sym = xproto.Keysym(last[0])
	return k, nil
}

// Action is what a key press asks for: copy from, or paste into, the
// domain whose window has the focus.
type Action int

const (
	ActionCopy Action = iota
	ActionPaste
)

// Keys grabs the copy and paste keys on the host display and tells which
// domain's window had the focus when they were pressed.
type Keys struct {
	c     *xgb.Conn
	root  xproto.Window
	codes map[keyCode]Action
}

type keyCode struct {
	code xproto.Keycode
	mods uint16
}

// GrabKeys grabs copy and paste on display d (the host's). The grab is
// the host X server's: no sandbox with a nested display sees those keys,
// and none can press them on the host display, which it cannot reach.
func GrabKeys(d Display, copyKey, pasteKey Key) (*Keys, error) {
	c, err := d.dial()
	if err != nil {
		return nil, fmt.Errorf("cannot reach the host display: %w", err)
	}
	if err := res.Init(c); err != nil {
		c.Close()
		return nil, fmt.Errorf("the host display has no X-Resource extension, which tells whose window has the focus: %w", err)
	}
	setup := xproto.Setup(c)
	k := &Keys{c: c, root: setup.Roots[0].Root, codes: map[keyCode]Action{}}
	n := byte(setup.MaxKeycode - setup.MinKeycode + 1)
	km, err := replyWithin(func() (*xproto.GetKeyboardMappingReply, error) {
		return xproto.GetKeyboardMapping(c, setup.MinKeycode, n).Reply()
	})
	if err != nil {
		c.Close()
		return nil, err
	}
	per := int(km.KeysymsPerKeycode)
	codeOf := func(sym xproto.Keysym) (xproto.Keycode, bool) {
		for i := 0; i < int(n); i++ {
			for j := 0; j < per && i*per+j < len(km.Keysyms); j++ {
				if s := km.Keysyms[i*per+j]; s == sym || (sym >= 'a' && sym <= 'z' && s == sym-32) {
					return setup.MinKeycode + xproto.Keycode(i), true
				}
			}
		}
		return 0, false
	}
	for _, kk := range []struct {
		key Key
		act Action
	}{{copyKey, ActionCopy}, {pasteKey, ActionPaste}} {
		code, ok := codeOf(kk.key.Sym)
		if !ok {
			c.Close()
			return nil, fmt.Errorf("no key on the keyboard makes %q", rune(kk.key.Sym))
		}
		// The same combination with Caps Lock and Num Lock (Mod2) on.
		for _, extra := range []uint16{0, xproto.ModMaskLock, xproto.ModMask2, xproto.ModMaskLock | xproto.ModMask2} {
			mods := kk.key.Mods | extra
			if err := xproto.GrabKeyChecked(c, true, k.root, mods, code, xproto.GrabModeAsync, xproto.GrabModeAsync).Check(); err != nil {
				c.Close()
				return nil, fmt.Errorf("cannot grab %s (another program holds it?): %w", keyName(kk.key), err)
			}
			k.codes[keyCode{code, mods}] = kk.act
		}
	}
	return k, nil
}

func keyName(k Key) string {
	var parts []string
	for _, m := range []struct {
		mask uint16
		name string
	}{{xproto.ModMaskControl, "ctrl"}, {xproto.ModMaskShift, "shift"}, {xproto.ModMask1, "alt"}, {xproto.ModMask4, "super"}} {
		if k.Mods&m.mask != 0 {
			parts = append(parts, m.name)
		}
	}
	return strings.Join(append(parts, string(rune(k.Sym))), "+")
}

// Press is one grabbed key press: the action and the host pid of the X
// client that made the focused top-level window (0 when unknown).
type Press struct {
	Action Action
	Pid    uint32
	Window xproto.Window
}

// Run delivers key presses until the connection ends.
func (k *Keys) Run(press func(Press)) error {
	for {
		ev, err := k.c.WaitForEvent()
		if ev == nil && err == nil {
			return errors.New("the host display closed the connection")
		}
		kp, ok := ev.(xproto.KeyPressEvent)
		if !ok {
			continue
		}
		act, ok := k.codes[keyCode{kp.Detail, kp.State & (xproto.ModMaskControl | xproto.ModMaskShift | xproto.ModMask1 | xproto.ModMask4 | xproto.ModMaskLock | xproto.ModMask2)}]
		if !ok {
			continue
		}
		win, pid := k.focusedOwner()
		press(Press{Action: act, Window: win, Pid: pid})
	}
}

// Close releases the grabs.
func (k *Keys) Close() { k.c.Close() }

// focusedOwner is the window holding the focus and the pid of the process
// that made it: the focused window itself, or the nearest of its ancestors
// whose maker the server knows (0, 0 for none). Not the child of the root:
// on a desktop whose window manager reparents, that is the manager's frame,
// and a sandbox's Xephyr window inside it would count as the host's.
func (k *Keys) focusedOwner() (xproto.Window, uint32) {
	f, err := replyWithin(func() (*xproto.GetInputFocusReply, error) { return xproto.GetInputFocus(k.c).Reply() })
	if err != nil || f.Focus == xproto.WindowNone || f.Focus == 1 /* PointerRoot */ || f.Focus == k.root {
		return 0, 0
	}
	w := f.Focus
	for i := 0; i < 64 && w != 0 && w != k.root; i++ {
		if pid := k.pidOf(w); pid != 0 {
			return w, pid
		}
		t, err := replyWithin(func() (*xproto.QueryTreeReply, error) { return xproto.QueryTree(k.c, w).Reply() })
		if err != nil {
			return 0, 0
		}
		w = t.Parent
	}
	return 0, 0
}

// pidOf asks the host X server which process made window w. The server
// takes the pid from the connection's SO_PEERCRED, which the kernel fills
// in, not from anything the client says: unlike _NET_WM_PID, WM_CLASS or the
// title, which any client of the host display (a sandbox with display =
// "x11" among them) can set on its own windows to pass for another's.
func (k *Keys) pidOf(w xproto.Window) uint32 {
	if w == 0 {
		return 0
	}
	r, err := replyWithin(func() (*res.QueryClientIdsReply, error) {
		return res.QueryClientIds(k.c, 1, []res.ClientIdSpec{{Client: uint32(w), Mask: res.ClientIdMaskLocalClientPID}}).Reply()
	})
	if err != nil {
		return 0
	}
	for _, id := range r.Ids {
		if id.Spec.Mask&res.ClientIdMaskLocalClientPID != 0 && len(id.Value) == 1 {
			return id.Value[0]
		}
	}
	return 0
}
