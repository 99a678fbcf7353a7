package print

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"airlock/chooser-ui/protocol"
)

func docFile(t *testing.T, content string) *os.File {
	t.Helper()
	p := t.TempDir() + "/doc"
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestReadDocument(t *testing.T) {
	good := "%PDF-1.7\n" + strings.Repeat("x", 100) + "\n%%EOF\n"
	for _, c := range []struct {
		name, content string
		max           int64
		want          error
	}{
		{"pdf", good, 1 << 20, nil},
		{"pdf 2.0", "%PDF-2.0\n" + strings.Repeat("x", 100) + "\n%%EOF", 1 << 20, nil},
		{"text", "hello, this is not a PDF at all\n%%EOF", 1 << 20, ErrNotPDF},
		{"header later", "junk\n%PDF-1.7\n" + strings.Repeat("x", 100) + "\n%%EOF", 1 << 20, ErrNotPDF},
		{"truncated", "%PDF-1.7\n" + strings.Repeat("x", 3000), 1 << 20, ErrNotPDF},
		{"tiny", "%PDF-1.7", 1 << 20, ErrNotPDF},
		{"over the cap", good, 50, ErrTooLarge},
		{"empty", "", 1 << 20, ErrNotPDF},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, _, err := readDocument(docFile(t, c.content), c.max, t.TempDir())
			if !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
			if err == nil {
				defer out.Close()
				b := make([]byte, len(c.content)+1)
				n, _ := out.Read(b)
				if string(b[:n]) != c.content {
					t.Errorf("copy holds %q", b[:n])
				}
			}
		})
	}
}

// A pipe has no size to refuse at once and could feed forever.
func TestReadDocumentRefusesPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if _, _, err := readDocument(r, 1<<20, t.TempDir()); !errors.Is(err, ErrNotFile) {
		t.Fatalf("pipe: %v, want ErrNotFile", err)
	}
}

func TestLPOptions(t *testing.T) {
	for _, c := range []struct {
		name string
		r    protocol.PrintResult
		want []string
	}{
		{"a4 duplex grey", protocol.PrintResult{Settings: map[string]string{"duplex": "vertical", "use-color": "false", "n-copies": "3", "page-ranges": "0-1"},
			PageSetup: protocol.PageSetup{Name: "iso_a4", PPDName: "A4"}}, []string{"media=A4", "sides=two-sided-long-edge", "print-color-mode=monochrome"}},
		{"custom paper is the printer's default", protocol.PrintResult{PageSetup: protocol.PageSetup{Name: "custom"}}, nil},
		{"odd media name dropped", protocol.PrintResult{PageSetup: protocol.PageSetup{Name: "a4 -o evil"}}, nil},
		{"pwg name", protocol.PrintResult{PageSetup: protocol.PageSetup{Name: "na_letter"}, Settings: map[string]string{"quality": "draft"}}, []string{"media=na_letter", "print-quality=3"}},
	} {
		if got := lpOptions(&c.r); !slices.Equal(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestParseHints(t *testing.T) {
	job, err := parseHints("Doc", map[string]dbus.Variant{
		"n-copies": dbus.MakeVariant("2"), "printer": dbus.MakeVariant("HostQueue"), "cups-x": dbus.MakeVariant("y"),
		"scale": dbus.MakeVariant(uint32(5)),
	}, map[string]dbus.Variant{"Width": dbus.MakeVariant(210.0), "Height": dbus.MakeVariant(297.0), "Name": dbus.MakeVariant("iso_a4")},
		map[string]dbus.Variant{"modal": dbus.MakeVariant(true), "accept_label": dbus.MakeVariant("_Print")})
	if err != nil {
		t.Fatal(err)
	}
	if len(job.Settings) != 1 || job.Settings["n-copies"] != "2" {
		t.Errorf("settings %v, want only n-copies (unknown keys and non-strings ignored)", job.Settings)
	}
	if job.PageSetup.Width != 210 || job.PageSetup.Name != "iso_a4" {
		t.Errorf("page setup %+v", job.PageSetup)
	}
	for _, bad := range []map[string]dbus.Variant{
		{"Width": dbus.MakeVariant(-1.0)},
		{"Height": dbus.MakeVariant(1e9)},
		{"Orientation": dbus.MakeVariant("sideways")},
	} {
		if _, err := parseHints("", nil, bad, nil); err == nil {
			t.Errorf("page setup %v accepted", bad)
		}
	}
	if _, err := parseHints("", nil, nil, map[string]dbus.Variant{"modal": dbus.MakeVariant("yes")}); err == nil {
		t.Error("modal as a string accepted")
	}
}

// The host's printer and its cups-* options never go back to the sandbox.
func TestSettingsOut(t *testing.T) {
	out := settingsOut(map[string]string{"printer": "Office", "cups-InputSlot": "Tray2", "n-copies": "1"})
	if _, ok := out["printer"]; ok {
		t.Error("printer name sent to the sandbox")
	}
	if _, ok := out["cups-InputSlot"]; ok {
		t.Error("cups option sent to the sandbox")
	}
	if out["output-file-format"].Value() != "pdf" || out["n-copies"].Value() != "1" {
		t.Errorf("settings %v", out)
	}
}

func TestTokens(t *testing.T) {
	p := &Portal{tokens: map[uint32]prepared{}}
	other := &Portal{tokens: map[uint32]prepared{}}
	c := protocol.PrintResult{Printer: "Q"}
	tok := p.remember(c)
	if tok == 0 {
		t.Fatal("token 0")
	}
	if _, ok := other.take(tok); ok {
		t.Error("another sandbox's portal took the token")
	}
	if got, ok := p.take(tok); !ok || got.Printer != "Q" {
		t.Fatalf("take: %v %v", got, ok)
	}
	if _, ok := p.take(tok); ok {
		t.Error("a token was used twice")
	}
	if _, ok := p.take(0); ok {
		t.Error("token 0 taken")
	}
	old := p.remember(c)
	p.tokens[old] = prepared{choice: c, expires: time.Now().Add(-time.Second)}
	if _, ok := p.take(old); ok {
		t.Error("an expired token was taken")
	}
	for i := 0; i < 3*maxTokens; i++ {
		p.remember(c)
	}
	if len(p.tokens) > maxTokens {
		t.Errorf("%d tokens kept, at most %d", len(p.tokens), maxTokens)
	}
}

func TestReadSanitized(t *testing.T) {
	out, err := tempFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	pages, n, err := readSanitized(strings.NewReader("3\n%PDF-1.7 body"), out)
	if err != nil || pages != 3 || n != int64(len("%PDF-1.7 body")) {
		t.Errorf("got %d pages, %d bytes, %v", pages, n, err)
	}
	for _, bad := range []string{"", "x\nbody", "-1\nbody", "no newline"} {
		if _, _, err := readSanitized(strings.NewReader(bad), out); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
