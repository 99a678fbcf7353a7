package print

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// DefaultMaxBytes is the cap on a document to print: 200 MiB.
const DefaultMaxBytes = 200 << 20

// Reasons a document is refused before anything parses it.
var (
	ErrNotPDF   = errors.New("the document is not a PDF")
	ErrTooLarge = errors.New("the document is too large to print")
	ErrNotFile  = errors.New("the document must be passed as a regular file")
)

// readDocument copies the application's document into a file of the
// broker's own (unnamed, 0600), from offset 0, at most max bytes: what is
// checked, sanitised and printed is then a copy the sandbox cannot change
// any more (it keeps its descriptor and could rewrite the file between the
// check and CUPS' read). The application's descriptor is only read: fstat
// first (a pipe or a socket could feed forever; a regular file has a size
// to refuse at once), then pread, never a path.
func readDocument(src *os.File, max int64, tmpDir string) (*os.File, int64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(src.Fd()), &st); err != nil {
		return nil, 0, fmt.Errorf("cannot stat the document: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, 0, ErrNotFile
	}
	if st.Size > max {
		return nil, st.Size, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, st.Size, max)
	}
	dst, err := tempFile(tmpDir)
	if err != nil {
		return nil, 0, err
	}
	// The file can grow after fstat: read at most max+1 bytes and refuse
	// if there were more.
	n, err := io.Copy(dst, io.NewSectionReader(src, 0, max+1))
	if err != nil {
		dst.Close()
		return nil, 0, fmt.Errorf("cannot read the document: %w", err)
	}
	if n > max {
		dst.Close()
		return nil, n, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	if err := checkPDF(dst, n); err != nil {
		dst.Close()
		return nil, n, err
	}
	if _, err := dst.Seek(0, io.SeekStart); err != nil {
		dst.Close()
		return nil, n, err
	}
	return dst, n, nil
}

// checkPDF looks at the bytes only, without parsing: a PDF header at the
// start ("%PDF-1.x" or "%PDF-2.0", where cairo and every GTK application
// put it, stricter than the 1024 bytes readers tolerate) and an end-of-file
// marker in the last 1024 bytes. Anything else never reaches a parser,
// ours or CUPS' (whose filters have been remote-code-execution targets,
// CVE-2024-47176 and its chain, CVE-2023-24805).
func checkPDF(f *os.File, size int64) error {
	head := make([]byte, 8)
	if size < 16 {
		return fmt.Errorf("%w: only %d bytes", ErrNotPDF, size)
	}
	if _, err := f.ReadAt(head, 0); err != nil {
		return err
	}
	if !bytes.HasPrefix(head, []byte("%PDF-")) || !(head[5] == '1' || head[5] == '2') || head[6] != '.' || head[7] < '0' || head[7] > '9' {
		return fmt.Errorf("%w: no PDF header", ErrNotPDF)
	}
	tail := int64(1024)
	if size < tail {
		tail = size
	}
	buf := make([]byte, tail)
	if _, err := f.ReadAt(buf, size-tail); err != nil {
		return err
	}
	if !bytes.Contains(buf, []byte("%%EOF")) {
		return fmt.Errorf("%w: no end-of-file marker (truncated?)", ErrNotPDF)
	}
	return nil
}

// tempFile is an unnamed file in dir (O_TMPFILE), or a named one removed
// at once where the file system has no O_TMPFILE.
func tempFile(dir string) (*os.File, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err == nil {
		return os.NewFile(uintptr(fd), "print-document"), nil
	}
	f, err := os.CreateTemp(dir, "airlock-print-*")
	if err != nil {
		return nil, fmt.Errorf("cannot create a scratch file: %w", err)
	}
	os.Remove(f.Name())
	return f, nil
}
