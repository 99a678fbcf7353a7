package clipboard

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jezek/xgb/xproto"
)

func domain(id string, x *xserver) Domain {
	return Domain{ID: id, Name: "sandbox " + id, Display: x.disp, Copy: PolicyAllow, Paste: PolicyAllow}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestCopyPasteOnce: A's text reaches B only through Copy then Paste, and
// Airlock's clipboard is wiped after that one paste.
func TestCopyPasteOnce(t *testing.T) {
	a, b, c := startX(t), startX(t), startX(t)
	a.set(t, "clipboard", "UTF8_STRING", []byte("from A"))
	cb := New(quiet(), Options{})
	defer cb.Close()
	if _, err := cb.Paste(domain("b", b)); !errors.Is(err, ErrEmpty) {
		t.Errorf("paste before any copy: %v", err)
	}
	if got, err := b.get(t, "clipboard", "UTF8_STRING"); err == nil {
		t.Errorf("B reads %q before any paste", got)
	}
	info, err := cb.Copy(domain("a", a))
	if err != nil || info.Kind != KindText || info.Size != 6 {
		t.Fatalf("copy: %+v %v", info, err)
	}
	if _, err := b.get(t, "clipboard", "UTF8_STRING"); err == nil {
		t.Error("B reads something after the copy alone")
	}
	if _, err := cb.Paste(domain("b", b)); err != nil {
		t.Fatal(err)
	}
	if got, err := b.get(t, "clipboard", "UTF8_STRING"); err != nil || string(got) != "from A" {
		t.Errorf("B reads %q, %v", got, err)
	}
	if _, ok := cb.Show(); ok {
		t.Error("still held after one paste")
	}
	if _, err := cb.Paste(domain("c", c)); !errors.Is(err, ErrEmpty) {
		t.Errorf("second paste: %v", err)
	}
}

func TestPolicyAndCaps(t *testing.T) {
	a, b := startX(t), startX(t)
	a.set(t, "clipboard", "UTF8_STRING", validText(4096))
	cb := New(quiet(), Options{})
	defer cb.Close()
	src := domain("a", a)
	src.Copy = PolicyNone
	if _, err := cb.Copy(src); !errors.Is(err, ErrPolicy) {
		t.Errorf("copy with none: %v", err)
	}
	src.Copy = PolicyAsk
	if _, err := cb.Copy(src); !errors.Is(err, ErrAsk) {
		t.Errorf("copy with ask: %v", err)
	}
	if _, err := cb.Copy(domain("a", a)); err != nil {
		t.Fatal(err)
	}
	dst := domain("b", b)
	dst.Paste = PolicyNone
	if _, err := cb.Paste(dst); !errors.Is(err, ErrPolicy) {
		t.Errorf("paste with none: %v", err)
	}
	dst = domain("b", b)
	dst.MaxText = 1000
	if _, err := cb.Paste(dst); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "cap of 1000") {
		t.Errorf("paste over the destination's cap: %v", err)
	}
	if _, err := b.get(t, "clipboard", "UTF8_STRING"); err == nil {
		t.Error("B reads something after refused pastes")
	}
	if _, ok := cb.Show(); !ok {
		t.Error("a refused paste wiped the copy")
	}
}

func TestWipedAfterTimeout(t *testing.T) {
	a := startX(t)
	a.set(t, "clipboard", "UTF8_STRING", []byte("short-lived"))
	cb := New(quiet(), Options{Timeout: 300 * time.Millisecond})
	defer cb.Close()
	if _, err := cb.Copy(domain("a", a)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, ok := cb.Show(); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("never wiped")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFloodDoesNotSlowOthers: a client of A's display that owns and
// re-owns CLIPBOARD and floods A's broker window with events slows only
// transfers with A; a copy from C goes through meanwhile.
func TestFloodDoesNotSlowOthers(t *testing.T) {
	a, c := startX(t), startX(t)
	c.set(t, "clipboard", "UTF8_STRING", []byte("from C"))
	cb := New(quiet(), Options{})
	defer cb.Close()
	// A's hostile client: owns CLIPBOARD, never answers, and sends a
	// stream of bogus SelectionNotify and property changes to every
	// window on its display.
	conn, err := a.disp.dial()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	at, _ := intern(conn)
	win, _ := window(conn)
	xproto.SetSelectionOwner(conn, win, at.clipboard, xproto.TimeCurrentTime)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		root := xproto.Setup(conn).Roots[0].Root
		for {
			select {
			case <-stop:
				return
			default:
			}
			tree, err := xproto.QueryTree(conn, root).Reply()
			if err != nil {
				return
			}
			for _, w := range tree.Children {
				n := xproto.SelectionNotifyEvent{Requestor: w, Selection: at.clipboard, Target: at.utf8, Property: at.prop}
				for i := 0; i < 50; i++ {
					xproto.SendEvent(conn, false, w, 0, string(n.Bytes()))
					xproto.ChangeProperty(conn, xproto.PropModeReplace, w, at.prop, at.utf8, 8, 4, []byte("junk"))
				}
			}
		}
	}()
	done := make(chan error, 1)
	go func() { _, err := cb.Copy(domain("a", a)); done <- err }()
	// While A's copy is stalled, C's copy completes.
	start := time.Now()
	info, err := cb.Copy(domain("c", c))
	if err != nil || info.Source != "sandbox c" {
		t.Fatalf("copy from C during A's flood: %+v %v", info, err)
	}
	took := time.Since(start)
	if err := <-done; err == nil {
		t.Error("copy from the flooding, silent A succeeded")
	}
	t.Logf("copy from C took %v during A's flood", took)
	got, _ := cb.Show()
	if got.Source != "sandbox c" || !bytes.Equal([]byte(got.Kind), []byte(KindText)) {
		t.Errorf("Airlock's clipboard holds %+v", got)
	}
}

// TestKeepAfterPaste: a source whose profile keeps its copies can be pasted
// twice; the timeout still wipes it.
func TestKeepAfterPaste(t *testing.T) {
	a, b, c := startX(t), startX(t), startX(t)
	a.set(t, "clipboard", "UTF8_STRING", []byte("kept"))
	cb := New(quiet(), Options{})
	defer cb.Close()
	src := domain("a", a)
	src.Keep = true
	if _, err := cb.Copy(src); err != nil {
		t.Fatal(err)
	}
	for id, x := range map[string]*xserver{"b": b, "c": c} {
		if _, err := cb.Paste(domain(id, x)); err != nil {
			t.Fatal(err)
		}
		if got, err := x.get(t, "clipboard", "UTF8_STRING"); err != nil || string(got) != "kept" {
			t.Errorf("reads %q, %v", got, err)
		}
	}
	if _, ok := cb.Show(); !ok {
		t.Error("a kept copy was wiped by a paste")
	}
}
