package print

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Sanitisers (a profile's print_sanitize).
const (
	// SanitizeRewrite: the PDF is rewritten page by page into a new
	// document (qpdf --empty --pages), which leaves the document's Info
	// dictionary, XMP metadata, outlines, forms, attachments and scripts
	// behind.
	SanitizeRewrite = "rewrite"
	// SanitizeRasterize: every page becomes an image (Ghostscript's
	// pdfimage24 device, 150 dpi); no text, font or vector object of the
	// application reaches CUPS.
	SanitizeRasterize = "rasterize"
	// SanitizeNone: the application's PDF goes to CUPS as it is (header
	// and size checked only).
	SanitizeNone = "none"
)

// RasterDPI is the rasterizer's resolution.
const RasterDPI = 150

// maxOutput bounds what a sanitiser may produce: a rasterized page is far
// larger than its text.
const maxOutput = 2 << 30

// sanitizeTimeout bounds one sanitiser run.
const sanitizeTimeout = 5 * time.Minute

// Both parsers run inside a throwaway Airlock sandbox: no network, no
// display, no bus, no file of the user, a private /tmp. qpdf and
// Ghostscript parse the hostile document there, never in the broker and
// never on the host (Ghostscript alone had CVE-2023-36664 and
// CVE-2024-29510 on crafted input). The script reads the document on
// stdin and writes the page count, a newline and the new PDF on stdout.
var scripts = map[string]string{
	SanitizeRewrite: `set -e
cat > /tmp/in.pdf
qpdf --warning-exit-0 --no-original-object-ids --empty --pages /tmp/in.pdf 1-z -- /tmp/out.pdf >&2
qpdf --show-npages /tmp/out.pdf
cat /tmp/out.pdf`,
	SanitizeRasterize: `set -e
cat > /tmp/in.pdf
gs -q -dSAFER -dBATCH -dNOPAUSE -dPDFSTOPONERROR -sDEVICE=pdfimage24 -r` + strconv.Itoa(RasterDPI) + ` -sOutputFile=/tmp/out.pdf /tmp/in.pdf >&2
qpdf --show-npages /tmp/out.pdf
cat /tmp/out.pdf`,
}

// sanitizerProfile is the throwaway sandbox's profile, written by the
// broker (a user's own "default" profile could loosen it).
const sanitizerProfile = `# Written by airlock-portal: the throwaway sandbox that rewrites or
# rasterizes a document before it is printed. Do not edit.
display_name = "Airlock print sanitiser"
net = "none"
sound = "none"
display = "none"
bus_names = []
open_uri = "none"
clipboard_copy = "none"
clipboard_paste = "none"
grants = "revocable"
print = false
`

// Sanitizer turns a checked PDF into the one CUPS gets.
type Sanitizer interface {
	// Sanitize reads in and returns the new document (at offset 0) and
	// its page count.
	Sanitize(ctx context.Context, mode string, in *os.File, tmpDir string) (*os.File, int, error)
}

// LauncherSanitizer runs the installed airlock launcher (never its Go
// packages: the broker does not build sandboxes itself) with the
// sanitiser's own profile.
type LauncherSanitizer struct {
	Launcher string // the airlock binary
	Dir      string // a private folder for the profile

	once    sync.Once
	profile string
	err     error
}

// LauncherBinary finds the airlock launcher: $AIRLOCK_LAUNCHER, beside the
// running binary, then PATH.
func LauncherBinary() (string, error) {
	if p := os.Getenv("AIRLOCK_LAUNCHER"); p != "" {
		return p, nil
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "airlock")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	p, err := exec.LookPath("airlock")
	if err != nil {
		return "", errors.New("the airlock launcher is not installed")
	}
	return p, nil
}

func (s *LauncherSanitizer) profilePath() (string, error) {
	s.once.Do(func() {
		dir := s.Dir
		if dir == "" {
			dir = filepath.Join(os.TempDir(), fmt.Sprintf("airlock-print-%d", os.Getuid()))
		}
		if s.err = os.MkdirAll(dir, 0o700); s.err != nil {
			return
		}
		p := filepath.Join(dir, "print-sanitizer.toml")
		tmp := p + ".tmp"
		if s.err = os.WriteFile(tmp, []byte(sanitizerProfile), 0o600); s.err != nil {
			return
		}
		if s.err = os.Rename(tmp, p); s.err == nil {
			s.profile = p
		}
	})
	return s.profile, s.err
}

// Sanitize runs the mode's script in a throwaway sandbox.
func (s *LauncherSanitizer) Sanitize(ctx context.Context, mode string, in *os.File, tmpDir string) (*os.File, int, error) {
	script, ok := scripts[mode]
	if !ok {
		return nil, 0, fmt.Errorf("unknown sanitiser %q", mode)
	}
	prof, err := s.profilePath()
	if err != nil {
		return nil, 0, fmt.Errorf("cannot write the sanitiser's profile: %w", err)
	}
	out, err := tempFile(tmpDir)
	if err != nil {
		return nil, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, sanitizeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.Launcher, "run", "--profile", prof, "--net", "none", "--display", "none", "--sound", "none",
		"--name", "print-sanitizer", "--", "/bin/sh", "-c", script)
	cmd.Env = sanitizerEnv()
	cmd.Dir = "/"
	cmd.Stdin = in
	pr, pw, err := os.Pipe()
	if err != nil {
		out.Close()
		return nil, 0, err
	}
	cmd.Stdout = pw
	var stderr bytes.Buffer
	cmd.Stderr = &limitedBuffer{b: &stderr, n: 16 << 10}
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		out.Close()
		return nil, 0, fmt.Errorf("cannot start the sanitiser: %w", err)
	}
	pw.Close()
	pages, n, copyErr := readSanitized(pr, out)
	pr.Close()
	waitErr := cmd.Wait()
	switch {
	case ctx.Err() != nil:
		out.Close()
		return nil, 0, fmt.Errorf("the sanitiser took too long: %w", ctx.Err())
	case waitErr != nil:
		out.Close()
		return nil, 0, fmt.Errorf("the document could not be %s: %v: %s", pastTense(mode), waitErr, lastLine(stderr.String()))
	case copyErr != nil:
		out.Close()
		return nil, 0, copyErr
	case pages <= 0 || n == 0:
		out.Close()
		return nil, 0, fmt.Errorf("the document has no page once %s", pastTense(mode))
	}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		out.Close()
		return nil, 0, err
	}
	return out, pages, nil
}

// readSanitized parses the script's output: the page count on the first
// line, then the PDF, copied to out (at most maxOutput bytes).
func readSanitized(r io.Reader, out *os.File) (int, int64, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	line, err := br.ReadString('\n')
	if err != nil {
		io.Copy(io.Discard, br)
		return 0, 0, errors.New("the sanitiser answered nothing")
	}
	pages, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pages < 0 {
		io.Copy(io.Discard, br)
		return 0, 0, fmt.Errorf("the sanitiser answered a bad page count %q", strings.TrimSpace(line))
	}
	n, err := io.Copy(out, io.LimitReader(br, maxOutput+1))
	if err != nil {
		return 0, 0, err
	}
	if n > maxOutput {
		io.Copy(io.Discard, br)
		return 0, 0, errors.New("the sanitised document is too large")
	}
	return pages, n, nil
}

func pastTense(mode string) string {
	if mode == SanitizeRasterize {
		return "rasterized"
	}
	return "rewritten"
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

// sanitizerEnv is the launcher's environment: the user's session basics
// and nothing that would give the sandbox a bus or a display. Without
// DBUS_SESSION_BUS_ADDRESS the launcher registers with no broker, so the
// sanitiser has no portal either.
func sanitizerEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "USER", "LOGNAME", "XDG_RUNTIME_DIR", "AIRLOCK_DATADIR", "AIRLOCK_LIBDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return append(env, "LANG=C.UTF-8", "LC_ALL=C.UTF-8")
}

type limitedBuffer struct {
	b *bytes.Buffer
	n int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if k := l.n - l.b.Len(); k > 0 {
		if len(p) < k {
			k = len(p)
		}
		l.b.Write(p[:k])
	}
	return len(p), nil
}
