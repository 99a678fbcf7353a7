package clipboard_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"airlock/tests/harness"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestClipboardCrossing: content crosses between sandboxes and the host only
// through `airlock clipboard copy` then `paste`, typed, capped and wiped.
func TestClipboardCrossing(t *testing.T) {
	s := newSession(t, "AIRLOCK_CLIPBOARD_TIMEOUT=20s")
	base := harness.Get(t)
	jpegPath := filepath.Join(base.UserDir(t), "photo.jpg")
	base.WriteUserFile(t, jpegPath, string(jpegWithExif(t)), 0o644)
	askProfile := filepath.Join(base.UserDir(t), "askclip.toml")
	base.WriteUserFile(t, askProfile, "display = \"xephyr\"\nclipboard_copy = \"ask\"\nclipboard_paste = \"ask\"\n", 0o644)
	noneProfile := filepath.Join(base.UserDir(t), "noclip.toml")
	base.WriteUserFile(t, noneProfile, "display = \"xephyr\"\nclipboard_copy = \"none\"\nclipboard_paste = \"none\"\n", 0o644)

	a := s.sandbox(t, "clipa", []string{"--display", "xephyr", "--ro", jpegPath}, jpegPath)
	b := s.sandbox(t, "clipb", []string{"--display", "xephyr"})
	c := s.sandbox(t, "clipc", []string{"--profile", noneProfile})
	for _, x := range []*app{a, b, c} {
		x.ready(t)
	}
	if _, err := s.hostXclip(t, "host-own", "-selection", "clipboard", "-i"); err != nil {
		t.Fatal(err)
	}
	hostClip := func() string {
		out, _ := s.hostXclip(t, "", "-selection", "clipboard", "-t", "UTF8_STRING", "-o")
		return out
	}
	if hostClip() != "host-own" {
		t.Fatal("the host's clipboard was not set")
	}

	t.Run("OnlyAfterCopyAndPaste", func(t *testing.T) {
		a.do(t, "set secret-from-A")
		if got := b.do(t, "get clipboard"); got != "none" {
			t.Fatalf("B reads %q before anything was copied", got)
		}
		out := s.must(t, "clipboard", "copy", "clipa")
		if !strings.Contains(out, "13 bytes of text") {
			t.Errorf("copy says %q", out)
		}
		if show := s.must(t, "clipboard", "show"); !strings.Contains(show, "13 bytes of text from clipa") || strings.Contains(show, "secret") {
			t.Errorf("show says %q", show)
		}
		if got := b.do(t, "get clipboard"); got != "none" {
			t.Fatalf("B reads %q after the copy alone", got)
		}
		s.must(t, "clipboard", "paste", "clipb")
		if got := b.do(t, "get clipboard"); got != "got "+b64("secret-from-A") {
			t.Fatalf("B reads %q after the paste", got)
		}
		if got := hostClip(); got != "host-own" {
			t.Errorf("the host's clipboard changed to %q", got)
		}
		// Wiped after one paste.
		if show := s.must(t, "clipboard", "show"); !strings.Contains(show, "empty") {
			t.Errorf("after one paste, show says %q", show)
		}
		s.refused(t, "empty", "clipboard", "paste", "host")
		if got := hostClip(); got != "host-own" {
			t.Errorf("the host's clipboard changed to %q", got)
		}
		// The audit log names both sides, the type and size, never the
		// content.
		log := s.portalLog()
		if !strings.Contains(log, "clipboard crossed") || !strings.Contains(log, "destination=clipb") || strings.Contains(log, "secret-from-A") {
			t.Errorf("audit log:\n%s", log)
		}
	})

	t.Run("KeyPresses", func(t *testing.T) {
		a.do(t, "set by-the-keys")
		wa, wb := s.xephyrWindow(t, "clipa"), s.xephyrWindow(t, "clipb")
		s.press(t, wa, "ctrl+shift+c")
		s.waitShow(t, "11 bytes of text from clipa")
		if got := b.do(t, "get clipboard"); got == "got "+b64("by-the-keys") {
			t.Fatal("B reads A's text before the paste key")
		}
		// A window on the host display that claims to be B's (its
		// title, WM_CLASS and _NET_WM_PID are B's nested server's): the
		// paste goes to the host, never to B.
		fake := s.fakeWindow(t, "clipb (Airlock sandbox)", s.xephyrPid(t, "clipb"))
		s.press(t, fake, "ctrl+shift+v")
		s.waitShow(t, "empty")
		if got := hostClip(); got != "by-the-keys" {
			t.Errorf("the paste over a forged window went to %q on the host", got)
		}
		if got := b.do(t, "get clipboard"); got == "got "+b64("by-the-keys") {
			t.Error("a forged window received B's paste")
		}
		a.do(t, "set by-the-keys-2")
		s.press(t, wa, "ctrl+shift+c")
		s.waitShow(t, "13 bytes of text from clipa")
		s.press(t, wb, "ctrl+shift+v")
		s.waitShow(t, "empty")
		if got := b.do(t, "get clipboard"); got != "got "+b64("by-the-keys-2") {
			t.Errorf("B reads %q after the keys", got)
		}
		// Airlock draws the notice on the host display.
		s.waitWindow(t, "Airlock clipboard")
		if !strings.Contains(s.portalLog(), "Pasted 13 B of text from clipa into clipb") {
			t.Errorf("no notification in the log:\n%s", s.portalLog())
		}
		// Over the cap with the keys: nothing crosses, and the
		// notification says why.
		a.do(t, fmt.Sprintf("big %d", 2<<20))
		s.press(t, wa, "ctrl+shift+c")
		deadline := time.Now().Add(60 * time.Second)
		for !strings.Contains(s.portalLog(), `summary="Nothing copied from clipa" body="text of`) {
			if time.Now().After(deadline) {
				t.Fatalf("no refusal notification:\n%s", s.portalLog())
			}
			time.Sleep(50 * time.Millisecond)
		}
		if !strings.Contains(s.portalLog(), "over the cap of 1048576 bytes") {
			t.Error("the notification does not say why")
		}
		if show := s.must(t, "clipboard", "show"); !strings.Contains(show, "empty") {
			t.Errorf("after a refused copy, show says %q", show)
		}
	})

	t.Run("ToAndFromHost", func(t *testing.T) {
		a.do(t, "set to-the-host")
		s.must(t, "clipboard", "copy", "clipa")
		s.must(t, "clipboard", "paste", "host")
		if got := hostClip(); got != "to-the-host" {
			t.Errorf("the host reads %q", got)
		}
		if _, err := s.hostXclip(t, "from-the-host", "-selection", "clipboard", "-i"); err != nil {
			t.Fatal(err)
		}
		s.must(t, "clipboard", "copy", "host")
		s.must(t, "clipboard", "paste", "clipb")
		if got := b.do(t, "get clipboard"); got != "got "+b64("from-the-host") {
			t.Errorf("B reads %q", got)
		}
	})

	t.Run("PrimaryNeverCrosses", func(t *testing.T) {
		a.do(t, "primary highlighted-in-A")
		a.do(t, "set copied-in-A")
		s.must(t, "clipboard", "copy", "clipa")
		s.must(t, "clipboard", "paste", "clipb")
		if got := b.do(t, "get clipboard"); got != "got "+b64("copied-in-A") {
			t.Errorf("B's CLIPBOARD reads %q", got)
		}
		if got := b.do(t, "get primary"); got != "none" {
			t.Errorf("B's PRIMARY reads %q", got)
		}
		out, _ := s.hostXclip(t, "", "-selection", "primary", "-o")
		if strings.Contains(out, "highlighted") {
			t.Errorf("the host's PRIMARY reads %q", out)
		}
	})

	t.Run("LargeTextViaINCR", func(t *testing.T) {
		const n = 900 << 10
		a.do(t, fmt.Sprintf("big %d", n))
		s.must(t, "clipboard", "copy", "clipa")
		s.must(t, "clipboard", "paste", "clipb")
		sum := sha256.Sum256(bytes.Repeat([]byte("x"), n))
		if got, want := b.do(t, "sha"), fmt.Sprintf("sha %s %d", hex.EncodeToString(sum[:]), n); got != want {
			t.Errorf("B reads %q, want %q", got, want)
		}
	})

	t.Run("TooLargeRefused", func(t *testing.T) {
		a.do(t, fmt.Sprintf("big %d", 2<<20))
		s.refused(t, "over the cap of 1048576 bytes", "clipboard", "copy", "clipa")
		if show := s.must(t, "clipboard", "show"); !strings.Contains(show, "empty") {
			t.Errorf("after a refused copy, show says %q", show)
		}
	})

	t.Run("JPEGArrivesAsPNGWithoutExif", func(t *testing.T) {
		a.do(t, "jpeg")
		out := s.must(t, "clipboard", "copy", "clipa")
		if !strings.Contains(out, "an image of") {
			t.Errorf("copy says %q", out)
		}
		s.must(t, "clipboard", "paste", "clipb")
		got := b.do(t, "png")
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(got, "png "))
		if err != nil || !strings.HasPrefix(got, "png ") {
			t.Fatalf("B reads %q", got)
		}
		if bytes.Contains(raw, []byte("Exif")) || bytes.Contains(raw, []byte("SECRET")) {
			t.Error("the metadata crossed")
		}
		img, err := png.Decode(bytes.NewReader(raw))
		if err != nil || img.Bounds().Dx() != 40 || img.Bounds().Dy() != 30 {
			t.Errorf("B's image is not the 40x30 picture as PNG: %v", err)
		}
	})

	t.Run("PolicyNone", func(t *testing.T) {
		c.do(t, "set from-C")
		s.refused(t, "refused by the profile", "clipboard", "copy", "clipc")
		a.do(t, "set for-C")
		s.must(t, "clipboard", "copy", "clipa")
		s.refused(t, "refused by the profile", "clipboard", "paste", "clipc")
		if got := c.do(t, "get clipboard"); got != "got "+b64("from-C") {
			t.Errorf("C's clipboard reads %q", got)
		}
		s.must(t, "clipboard", "clear")
	})

	t.Run("PolicyAsk", func(t *testing.T) {
		e := s.sandbox(t, "clipe", []string{"--profile", askProfile})
		e.ready(t)
		e.do(t, "set asked-from-E")
		// Copy: Airlock's question names both sides, the type and the
		// size; Allow lets it through.
		done := s.background(t, "clipboard", "copy", "clipe")
		s.answer(t, "Clipboard: clipe to Airlock's clipboard", "alt+a")
		if r := <-done; r.Code != 0 {
			t.Fatalf("copy allowed in the dialog: %v", r)
		}
		s.waitShow(t, "12 bytes of text from clipe")
		s.must(t, "clipboard", "paste", "clipb")
		if got := b.do(t, "get clipboard"); got != "got "+b64("asked-from-E") {
			t.Errorf("B reads %q", got)
		}
		// Paste: Don't Allow refuses, and E's clipboard stays its own.
		a.do(t, "set not-for-E")
		s.must(t, "clipboard", "copy", "clipa")
		done = s.background(t, "clipboard", "paste", "clipe")
		s.answer(t, "Clipboard: clipa to clipe", "alt+d")
		if r := <-done; r.Code == 0 || !strings.Contains(r.Stderr, "refused by the user") {
			t.Errorf("paste refused in the dialog: %v", r)
		}
		if got := e.do(t, "get clipboard"); got != "got "+b64("asked-from-E") {
			t.Errorf("E reads %q", got)
		}
		s.must(t, "clipboard", "clear")
	})

	t.Run("WipedAfterTimeout", func(t *testing.T) {
		a.do(t, "set expires")
		s.must(t, "clipboard", "copy", "clipa")
		deadline := time.Now().Add(60 * time.Second)
		for !strings.Contains(s.must(t, "clipboard", "show"), "empty") {
			if time.Now().After(deadline) {
				t.Fatal("never wiped")
			}
			time.Sleep(100 * time.Millisecond)
		}
		s.refused(t, "empty", "clipboard", "paste", "clipb")
	})

	t.Run("FloodDoesNotStopOthers", func(t *testing.T) {
		// F's application re-owns its CLIPBOARD and reads it in a loop,
		// also while Airlock owns it after a paste into F.
		f := s.sandbox(t, "clipf", []string{"--display", "xephyr"})
		f.ready(t)
		a.do(t, "set for-F")
		s.must(t, "clipboard", "copy", "clipa")
		s.must(t, "clipboard", "paste", "clipf")
		f.do(t, "flood flooding")
		for i := 0; i < 3; i++ {
			text := fmt.Sprintf("during-the-flood-%d", i)
			a.do(t, "set "+text)
			s.must(t, "clipboard", "copy", "clipa")
			s.must(t, "clipboard", "paste", "clipb")
			if got := b.do(t, "get clipboard"); got != "got "+b64(text) {
				t.Errorf("B reads %q during F's flood", got)
			}
		}
		// F's own copy still works or fails cleanly, and never yields
		// anything but F's text.
		if r := s.airlock(t, "clipboard", "copy", "clipf"); r.Code == 0 {
			s.must(t, "clipboard", "paste", "clipb")
			if got := b.do(t, "get clipboard"); got != "got "+b64("flooding") && got != "none" {
				t.Errorf("B reads %q from F", got)
			}
		}
		f.end(t)
	})

	t.Run("SourceEndingKeepsCopy", func(t *testing.T) {
		d := s.sandbox(t, "clipd", []string{"--display", "xephyr"})
		d.ready(t)
		d.do(t, "set outlives-D")
		s.must(t, "clipboard", "copy", "clipd")
		d.end(t)
		s.must(t, "clipboard", "paste", "clipb")
		if got := b.do(t, "get clipboard"); got != "got "+b64("outlives-D") {
			t.Errorf("B reads %q", got)
		}
	})
	if t.Failed() {
		t.Logf("portal log:\n%s", s.portalLog())
	}
}

// jpegWithExif is a JPEG made by Go's encoder with an APP1 Exif segment
// added by hand right after SOI.
func jpegWithExif(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for y := 0; y < 30; y++ {
		for x := 0; x < 40; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 6), uint8(y * 8), 200, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	payload := append([]byte("Exif\x00\x00"), []byte("MM\x00\x2a\x00\x00\x00\x08SECRET-GPS-48.8584N-2.2945E")...)
	seg := []byte{0xff, 0xe1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	raw := b.Bytes()
	out := append(append(append([]byte{}, raw[:2]...), append(seg, payload...)...), raw[2:]...)
	if !bytes.Contains(out, []byte("SECRET-GPS")) {
		t.Fatal("no Exif in the test JPEG")
	}
	return out
}
