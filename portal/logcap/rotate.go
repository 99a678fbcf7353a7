package logcap

import (
	"fmt"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// RotatingFile is the broker's log file, capped: when a write would take it
// past Max bytes, the file is renamed to PATH.1 (replacing the previous
// one) and a new one is started. So the log never takes more than twice
// Max on disk.
type RotatingFile struct {
	path string
	max  int64
	// stdio: the file is also the process's stdout and stderr (the
	// launcher starts the broker that way), so that what the runtime writes
	// there (a panic's trace) lands in the current file, not in a rotated
	// one that nothing caps.
	stdio bool

	// mu guards the fields below.
	mu   sync.Mutex
	f    *os.File
	size int64
}

// OpenRotating opens (appending) or creates path.
func OpenRotating(path string, max int64, stdio bool) (*RotatingFile, error) {
	r := &RotatingFile{path: path, max: max, stdio: stdio}
	if err := r.open(os.O_APPEND); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *RotatingFile) open(flag int) error {
	f, err := os.OpenFile(r.path, os.O_CREATE|os.O_WRONLY|syscall.O_CLOEXEC|flag, 0o600)
	if err != nil {
		return fmt.Errorf("cannot open log file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("cannot stat log file: %w", err)
	}
	if r.stdio {
		for _, fd := range []int{1, 2} {
			unix.Dup3(int(f.Fd()), fd, 0)
		}
	}
	r.f, r.size = f, st.Size()
	return nil
}

// Write writes p, rotating first if p would take the file past the cap. A
// single write larger than the cap is cut to it.
func (r *RotatingFile) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(p)
	if int64(len(p)) > r.max {
		p = p[:r.max]
	}
	if r.size+int64(len(p)) > r.max {
		if err := r.rotate(); err != nil {
			return 0, err
		}
	}
	w, err := r.f.Write(p)
	r.size += int64(w)
	if err != nil {
		return w, err
	}
	return n, nil
}

func (r *RotatingFile) rotate() error {
	// Another broker (one started with --replace) may share the file and
	// have rotated it already: then only reopen.
	var cur, ours syscall.Stat_t
	if syscall.Stat(r.path, &cur) == nil && syscall.Fstat(int(r.f.Fd()), &ours) == nil &&
		cur.Ino == ours.Ino && cur.Dev == ours.Dev {
		if err := os.Rename(r.path, r.path+".1"); err != nil {
			return fmt.Errorf("cannot rotate log file: %w", err)
		}
	}
	old := r.f
	if err := r.open(os.O_APPEND); err != nil {
		return err
	}
	old.Close()
	return nil
}

// Close closes the file.
func (r *RotatingFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.f.Close()
}
