package clipboard

import (
	"testing"

	"github.com/jezek/xgb/xproto"
)

func TestParseKey(t *testing.T) {
	for _, c := range []struct {
		in   string
		mods uint16
		sym  xproto.Keysym
		bad  bool
	}{
		{in: "ctrl+shift+c", mods: xproto.ModMaskControl | xproto.ModMaskShift, sym: 'c'},
		{in: "Ctrl+Shift+V", mods: xproto.ModMaskControl | xproto.ModMaskShift, sym: 'v'},
		{in: "super+alt+1", mods: xproto.ModMask4 | xproto.ModMask1, sym: '1'},
		{in: "c", bad: true},
		{in: "shift+c", bad: true},
		{in: "ctrl+hyper+c", bad: true},
		{in: "ctrl+F1", bad: true},
		{in: "ctrl+", bad: true},
	} {
		k, err := ParseKey(c.in)
		if c.bad {
			if err == nil {
				t.Errorf("%q: accepted as %+v", c.in, k)
			}
			continue
		}
		if err != nil || k.Mods != c.mods || k.Sym != c.sym {
			t.Errorf("%q: got %+v, %v", c.in, k, err)
		}
	}
}
