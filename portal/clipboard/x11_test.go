package clipboard

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jezek/xgb/xproto"
)

// xserver is a real Xvfb with a cookie of its own, as a nested display is.
type xserver struct {
	num  string
	disp Display
	auth string
}

func startX(t *testing.T) *xserver {
	t.Helper()
	if _, err := exec.LookPath("Xvfb"); err != nil {
		t.Skip("Xvfb is not installed")
	}
	dir := t.TempDir()
	cookie := make([]byte, 16)
	rand.Read(cookie)
	auth := filepath.Join(dir, "auth")
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint16(0xffff))
	for _, f := range [][]byte{nil, nil, []byte("MIT-MAGIC-COOKIE-1"), cookie} {
		binary.Write(&b, binary.BigEndian, uint16(len(f)))
		b.Write(f)
	}
	if err := os.WriteFile(auth, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	r, w, _ := os.Pipe()
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-auth", auth, "-nolisten", "tcp", "-noreset", "-screen", "0", "320x240x24")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("Xvfb did not start: %v", err)
	}
	num := strings.TrimSpace(line)
	return &xserver{num: num, auth: auth, disp: Display{Socket: "/tmp/.X11-unix/X" + num, Cookie: cookie}}
}

func (x *xserver) xclip(t *testing.T, stdin []byte, args ...string) *exec.Cmd {
	t.Helper()
	if _, err := exec.LookPath("xclip"); err != nil {
		t.Skip("xclip is not installed")
	}
	cmd := exec.Command("xclip", args...)
	cmd.Env = []string{"DISPLAY=:" + x.num, "XAUTHORITY=" + x.auth}
	cmd.Stdin = bytes.NewReader(stdin)
	return cmd
}

// set makes xclip own the display's selection with data of type typ; xclip
// stays in the background serving it.
func (x *xserver) set(t *testing.T, sel, typ string, data []byte) {
	t.Helper()
	cmd := x.xclip(t, data, "-selection", sel, "-t", typ, "-i", "-quiet")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// Wait until it owns the selection (a condition, not a sleep).
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if out, err := x.xclip(t, nil, "-selection", sel, "-t", "TARGETS", "-o").Output(); err == nil && strings.Contains(string(out), typ) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("xclip did not take the selection")
}

func (x *xserver) get(t *testing.T, sel, typ string) ([]byte, error) {
	t.Helper()
	var stderr bytes.Buffer
	cmd := x.xclip(t, nil, "-selection", sel, "-t", typ, "-o")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, errors.New(stderr.String())
	}
	return out, nil
}

func validText(n int) []byte {
	b := []byte(strings.Repeat("0123456789abcdef", n/16+1))[:n]
	return b
}

func TestReadText(t *testing.T) {
	x := startX(t)
	x.set(t, "clipboard", "UTF8_STRING", []byte("grüße aus A"))
	c, err := Read(x.disp, DefaultMaxText, DefaultMaxImage)
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind != KindText || string(c.Data) != "grüße aus A" {
		t.Errorf("got %s %q", c.Kind, c.Data)
	}
}

func TestReadIgnoresPrimary(t *testing.T) {
	x := startX(t)
	x.set(t, "primary", "UTF8_STRING", []byte("only highlighted"))
	if c, err := Read(x.disp, DefaultMaxText, DefaultMaxImage); err == nil {
		t.Errorf("read %q from a display whose CLIPBOARD is empty", c.Data)
	}
}

func TestReadINCRAndCap(t *testing.T) {
	x := startX(t)
	big := validText(900 << 10)
	x.set(t, "clipboard", "UTF8_STRING", big)
	c, err := Read(x.disp, DefaultMaxText, DefaultMaxImage)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c.Data, big) {
		t.Errorf("got %d bytes, want %d", len(c.Data), len(big))
	}
	// The same text over a lower cap: refused, and the error says why.
	_, err = Read(x.disp, 512<<10, DefaultMaxImage)
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Kind != KindText || tl.Max != 512<<10 {
		t.Errorf("got %v, want a TooLargeError for text", err)
	}
}

func TestReadRefusesInvalidUTF8(t *testing.T) {
	x := startX(t)
	x.set(t, "clipboard", "UTF8_STRING", []byte{0xff, 0xfe, 'a'})
	if _, err := Read(x.disp, DefaultMaxText, DefaultMaxImage); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("got %v, want a refusal of invalid UTF-8", err)
	}
}

// jpegWithExif is a JPEG made by Go's encoder with an APP1 Exif segment
// added by hand after SOI.
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
	seg = append(seg, payload...)
	raw := b.Bytes()
	return append(append(append([]byte{}, raw[:2]...), seg...), raw[2:]...)
}

func TestReadJPEGBecomesPNG(t *testing.T) {
	x := startX(t)
	j := jpegWithExif(t)
	if !bytes.Contains(j, []byte("SECRET-GPS")) {
		t.Fatal("the test JPEG has no Exif")
	}
	x.set(t, "clipboard", "image/jpeg", j)
	c, err := Read(x.disp, DefaultMaxText, DefaultMaxImage)
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind != KindImage || bytes.Contains(c.Data, []byte("SECRET")) || bytes.Contains(c.Data, []byte("Exif")) {
		t.Errorf("got %s of %d bytes with metadata", c.Kind, len(c.Data))
	}
	img, err := png.Decode(bytes.NewReader(c.Data))
	if err != nil || img.Bounds().Dx() != 40 || img.Bounds().Dy() != 30 {
		t.Errorf("not the picture as PNG: %v", err)
	}
}

func TestOwnServesTextAndINCR(t *testing.T) {
	x := startX(t)
	for _, data := range [][]byte{[]byte("hello B"), validText(900 << 10)} {
		o, err := Own(x.disp, &Content{Kind: KindText, Data: data}, func(string, ...any) {})
		if err != nil {
			t.Fatal(err)
		}
		got, err := x.get(t, "clipboard", "UTF8_STRING")
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("xclip read %d bytes (%v), want %d", len(got), err, len(data))
		}
		targets, _ := x.get(t, "clipboard", "TARGETS")
		if strings.Contains(string(targets), "image/png") || !strings.Contains(string(targets), "UTF8_STRING") {
			t.Errorf("TARGETS: %s", targets)
		}
		if _, err := x.get(t, "primary", "UTF8_STRING"); err == nil {
			t.Error("PRIMARY has content")
		}
		o.Close()
		<-o.Done()
	}
}

// A hostile owner that takes CLIPBOARD and never answers: Read gives up
// within its deadline instead of hanging the broker.
func TestReadSilentOwner(t *testing.T) {
	x := startX(t)
	c, err := x.disp.dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a, _ := intern(c)
	win, _ := window(c)
	xproto.SetSelectionOwner(c, win, a.clipboard, xproto.TimeCurrentTime)
	xproto.GetInputFocus(c).Reply()
	start := time.Now()
	_, err = Read(x.disp, DefaultMaxText, DefaultMaxImage)
	if err == nil || !strings.Contains(err.Error(), "does not answer") {
		t.Errorf("got %v, want the owner's silence", err)
	}
	if d := time.Since(start); d > transferTimeout {
		t.Errorf("gave up after %v", d)
	}
}
