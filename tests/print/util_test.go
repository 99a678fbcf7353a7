// Package print_test prints from real applications in real sandboxes
// (a GTK 3 program with Gtk.PrintOperation, evince, and a program that
// calls the Print portal directly with documents of its choosing) through
// Airlock's print dialog, driven with xdotool on the host display, to a
// real cupsd started by the test with a cups-pdf queue; the PDF cups-pdf
// writes is then read with pdftotext, pdfinfo and pdftoppm.
package print_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"airlock/tests/harness"
)

// cups is a private cupsd: its own configuration and spool folders, its
// own socket (no TCP port), one cups-pdf queue writing into out.
type cups struct {
	dir, sock, queue, out string
	cmd                   *exec.Cmd
}

// startCUPS starts cupsd as root (the cups-pdf backend is 0700 root) and
// adds the queue, the server's default printer. cups-pdf reads its output
// folder only from /etc/cups: the queue's own cups-pdf-QUEUE.conf, removed
// at the end.
func startCUPS(t testing.TB) *cups {
	t.Helper()
	harness.NeedBins(t, "cupsd", "lpadmin", "lp", "lpstat", "pdftotext", "pdfinfo", "pdftoppm", "qpdf", "gs")
	if os.Geteuid() != 0 {
		t.Skip("cupsd with a cups-pdf queue needs root")
	}
	if _, err := os.Stat("/usr/lib/cups/backend/cups-pdf"); err != nil {
		t.Fatalf("cups-pdf is not installed (tests/lib.sh installs printer-driver-cups-pdf): %v", err)
	}
	dir, err := os.MkdirTemp("", "airlock-cups-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	var b [4]byte
	rand.Read(b[:])
	c := &cups{dir: dir, sock: filepath.Join(dir, "cups.sock"), queue: "airlocktest" + hex.EncodeToString(b[:]), out: filepath.Join(dir, "out")}
	for _, d := range []string{"conf", "spool", "spool/tmp", "cache", "state", "log", "out"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The filters run as lp: its scratch folders must be its to use.
	lp := exec.Command("chown", "-R", "root:lp", filepath.Join(dir, "spool"), filepath.Join(dir, "cache"), filepath.Join(dir, "state"))
	if out, err := lp.CombinedOutput(); err != nil {
		t.Fatalf("chown: %v %s", err, out)
	}
	os.Chmod(filepath.Join(dir, "spool"), 0o710)
	os.Chmod(filepath.Join(dir, "spool/tmp"), 0o1770)
	os.Chmod(filepath.Join(dir, "cache"), 0o770)
	os.Chmod(filepath.Join(dir, "state"), 0o770)
	os.Chmod(c.out, 0o1777)
	conf := fmt.Sprintf(`LogLevel warn
Listen %s
Browsing No
WebInterface No
<Location />
  Order allow,deny
  Allow all
</Location>
<Policy default>
  <Limit Create-Job Print-Job Print-URI Validate-Job>
    Order deny,allow
  </Limit>
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
`, c.sock)
	files := fmt.Sprintf(`ServerRoot %[1]s/conf
RequestRoot %[1]s/spool
TempDir %[1]s/spool/tmp
CacheDir %[1]s/cache
StateDir %[1]s/state
ErrorLog %[1]s/log/error_log
AccessLog %[1]s/log/access_log
PageLog %[1]s/log/page_log
Printcap %[1]s/printcap
User lp
Group lp
SystemGroup root
`, dir)
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "conf", "cupsd.conf"), conf)
	write(filepath.Join(dir, "conf", "cups-files.conf"), files)
	pdfConf := "/etc/cups/cups-pdf-" + c.queue + ".conf"
	write(pdfConf, fmt.Sprintf("Out %s\nAnonDirName %s\nUserUMask 0022\nGrp lp\n", c.out, c.out))
	t.Cleanup(func() { os.Remove(pdfConf) })

	c.cmd = exec.Command("cupsd", "-f", "-c", filepath.Join(dir, "conf", "cupsd.conf"), "-s", filepath.Join(dir, "conf", "cups-files.conf"))
	c.cmd.Stdout, c.cmd.Stderr = os.Stderr, os.Stderr
	c.cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("cupsd: %v", err)
	}
	t.Cleanup(func() {
		c.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { c.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			c.cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(c.sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cupsd did not create %s", c.sock)
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.admin(t, "lpadmin", "-p", c.queue, "-E", "-v", "cups-pdf:/"+c.queue, "-P", "/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd")
	// Poppler's pdftops rather than Ghostscript's ps2write between the
	// PDF and cups-pdf: ps2write drops the text layer of cairo's subset
	// fonts (every GTK application's), and the tests read the printed
	// text with pdftotext.
	c.admin(t, "lpadmin", "-p", c.queue, "-o", "pdftops-renderer-default=pdftops")
	c.admin(t, "lpadmin", "-d", c.queue)
	return c
}

// admin runs a CUPS client as root against this server.
func (c *cups) admin(t testing.TB, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "CUPS_SERVER="+c.sock)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// jobs lists every job CUPS received for the queue, finished or not.
func (c *cups) jobs(t testing.TB) []string {
	t.Helper()
	out := c.admin(t, "lpstat", "-W", "all", "-o", c.queue)
	var ids []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			ids = append(ids, f[0])
		}
	}
	return ids
}

// output waits for the one PDF cups-pdf writes, complete (its job
// completed), and returns its path.
func (c *cups) output(t testing.TB) string {
	t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for {
		ents, _ := filepath.Glob(filepath.Join(c.out, "*.pdf"))
		if len(ents) > 0 && strings.TrimSpace(c.admin(t, "lpstat", "-W", "not-completed", "-o", c.queue)) == "" {
			if len(ents) != 1 {
				t.Fatalf("cups-pdf wrote %d files, want 1: %v", len(ents), ents)
			}
			return ents[0]
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(c.dir, "log", "error_log"))
			t.Fatalf("cups-pdf wrote nothing in %s\njobs: %v\ncupsd log:\n%s", c.out, c.jobs(t), log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pdfText is pdftotext's reading of a PDF.
func pdfText(t testing.TB, path string) string {
	t.Helper()
	out, err := exec.Command("pdftotext", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext %s: %v", path, err)
	}
	return string(out)
}

// pdfInfo is pdfinfo's reading of a PDF.
func pdfInfo(t testing.TB, path string) string {
	t.Helper()
	out, err := exec.Command("pdfinfo", path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo %s: %v %s", path, err, out)
	}
	return string(out)
}

// inkOnFirstPage counts the dark pixels of the first page rendered at 50
// dpi: a printed page has some, an empty one none.
func inkOnFirstPage(t testing.TB, path string) int {
	t.Helper()
	out, err := exec.Command("pdftoppm", "-r", "50", "-f", "1", "-l", "1", "-gray", "-png", path).Output()
	if err != nil {
		t.Fatalf("pdftoppm %s: %v", path, err)
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("pdftoppm output: %v", err)
	}
	return darkPixels(img)
}

func darkPixels(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, _, _, _ := img.At(x, y).RGBA()
			if r < 0x8000 {
				n++
			}
		}
	}
	return n
}

// makePDF writes a PDF made by Ghostscript from PostScript: one page per
// line of text, and the document information the application chose.
func makePDF(t testing.TB, path string, info map[string]string, lines ...string) {
	t.Helper()
	var ps strings.Builder
	ps.WriteString("[")
	for k, v := range info {
		fmt.Fprintf(&ps, " /%s (%s)", k, v)
	}
	ps.WriteString(" /DOCINFO pdfmark\n")
	for _, l := range lines {
		fmt.Fprintf(&ps, "/Helvetica findfont 20 scalefont setfont 72 700 moveto (%s) show showpage\n", l)
	}
	cmd := exec.Command("gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite", "-o", path, "-")
	cmd.Stdin = strings.NewReader(ps.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gs: %v %s", err, out)
	}
	e := harness.Get(t)
	os.Chown(path, e.UID, e.GID)
	os.Chmod(path, 0o644)
}

func marker(label string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return label + hex.EncodeToString(b)
}
