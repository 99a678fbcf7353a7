package docstore

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/hanwen/go-fuse/v2/fs"
	"golang.org/x/sys/unix"
)

// New files beside a granted file (issue 9, "silent data loss").
//
// An app may create any name in <docid>/ of a writable file grant. The store
// cannot tell at creation whether the file is the temporary of an atomic save
// (renamed over the granted name: GIO's g_file_replace, Qt's QSaveFile,
// LibreOffice), a lock file (removed by the app, or worthless after it ends),
// or a new document (Save As to another name in the same folder, typed into
// the app's own dialog). Deleting the third kind when the grant ends lost the
// user's work while the app said "saved". So:
//
//   - every new name lives on the host under a hidden name the store chose
//     (.airlock-<docid>-<random>), as before, and under the app's name inside;
//   - renamed over the granted name, it is the granted file: no question;
//   - removed by the app: gone, no question (the app's own temporary);
//   - named like a lock file (lockName): never reaches the host, no question,
//     removed when the grant ends;
//   - otherwise, once it is released (last close, then settleDelay without a
//     rename: QSaveFile closes before it renames) or at the latest when the
//     grant ends, the store hands a NewFile to the broker, which asks the user
//     in Airlock's own dialog. Keep renames it to its name in the host folder
//     without replacing anything (renameat2 RENAME_NOREPLACE, "name (2).ext"
//     when taken), and it stays visible inside; Discard removes it.
//   - Nothing is ever deleted without the user's word: with no dialog (no
//     handler, the store closing, the broker's dialog failing or timing out)
//     the file is kept as on Keep, and the choice is logged.
//   - A kept file is never hidden on the host: leading dots are dropped from
//     its host name. A sandbox must not be able to plant ~/.xsessionrc or
//     ~/.profile (run at the next login) beside a document granted from the
//     home folder, whether through a question the user did not read, one
//     answered by a stray Return (Keep is the default), or no answer.
//
// A sandbox cannot flood the user with questions: at most maxTemps unresolved
// new files per grant, further creates fail with EDQUOT (logged once).

// settleDelay is how long a released new file must stay unrenamed before it
// is asked about. QSaveFile and others close the temporary before renaming it
// over the target, and FUSE delivers RELEASE asynchronously.
var settleDelay = 2 * time.Second

// fileState is the state of a docFile other than the granted file.
type fileState int

const (
	fileGranted fileState = iota // the granted file (g.target)
	fileNew                      // created by the app, hidden on the host, no question yet
	fileAsking                   // a NewFile is out: the user's answer applies
	fileKept                     // kept by the user: on the host under its own name
)

// lockName reports the names of lock and swap files that editors create
// beside a document while it is open. They never reach the host and the user
// is never asked about them: they mean nothing outside the running app.
func lockName(name string) bool {
	switch {
	case strings.HasPrefix(name, ".~lock.") && strings.HasSuffix(name, "#"): // LibreOffice
		return true
	case strings.HasPrefix(name, ".#"): // emacs
		return true
	case strings.HasPrefix(name, "~$"): // Microsoft Office, also written by LibreOffice
		return true
	case strings.HasPrefix(name, ".") && len(name) > 5 && name[len(name)-4:len(name)-1] == ".sw" &&
		name[len(name)-1] >= 'a' && name[len(name)-1] <= 'z': // vim swap files: .NAME.swp, .swo, .swx
		return true
	}
	return false
}

// validNewName accepts the names an app may create beside a granted file.
// The name may become a host file name (Keep) and is shown in Airlock's
// dialog, so beyond what the kernel enforces (no '/', no NUL): valid UTF-8, no
// control characters, not "." or "..", at most 255 bytes, and not the store's
// own hidden prefix.
func validNewName(name string) bool {
	if !validName(name) || !utf8.ValidString(name) || strings.HasPrefix(name, hiddenPrefix) {
		return false
	}
	for _, r := range name {
		if r < 0x20 || r >= 0x7f && r < 0xa0 {
			return false
		}
	}
	return true
}

// NewFile is a file a sandboxed app created beside a granted file, released
// without being renamed over it, that waits on the host under a hidden name
// for the user's answer. Exactly one of Keep, Discard or KeepUnasked takes
// effect; later calls return ErrAnswered.
type NewFile struct {
	Sandbox string // sandbox id
	Label   Label  // how Airlock names that sandbox
	DocID   string
	Name    string // the app's name for it: validated (validNewName), still UNTRUSTED for display
	Beside  string // the granted file's name
	Folder  string // the host folder both are in
	Size    int64

	s      *newFiles
	g      *served
	f      *docFile
	hidden string // its host name while it waits
	// dirfd is a descriptor of Folder of its own: the answer may come after
	// the grant ended and closed g.dirfd.
	dirfd int

	// moot is closed when the app itself resolved the file while the user
	// was being asked (renamed it over the granted file, removed or replaced
	// it): the question can be withdrawn.
	moot chan struct{}

	mu   sync.Mutex
	done bool // guarded by mu
}

// Moot is closed when the question no longer needs an answer because the app
// renamed the file over the granted one, removed or replaced it.
func (n *NewFile) Moot() <-chan struct{} { return n.moot }

// ErrAnswered is returned when a NewFile was already kept or discarded.
var ErrAnswered = errors.New("the new file was already kept or discarded")

// ErrGone is returned when the app itself replaced, renamed over the granted
// file or removed a new file while the user was being asked.
var ErrGone = errors.New("the app replaced or removed the file meanwhile")

// newFiles is the store's registry of unanswered NewFiles.
type newFiles struct {
	mu sync.Mutex
	// handler, closed and out are guarded by mu.
	handler func(*NewFile)
	closed  bool
	out     map[*NewFile]bool
}

// OnNewFile sets the function that asks the user about new files. It is
// called on a goroutine of its own and must end with Keep, Discard or
// KeepUnasked. Without one, new files are kept unasked (and logged).
func (s *Store) OnNewFile(f func(*NewFile)) {
	s.saves.mu.Lock()
	s.saves.handler = f
	s.saves.mu.Unlock()
}

// ask hands n to the handler, or keeps it unasked.
func (s *Store) ask(n *NewFile) {
	s.saves.mu.Lock()
	h := s.saves.handler
	if s.saves.closed || h == nil {
		s.saves.mu.Unlock()
		reason := "no dialog to ask the user"
		if s.saves.closed {
			reason = "the document store is closing"
		}
		n.KeepUnasked(reason)
		return
	}
	s.saves.out[n] = true
	s.saves.mu.Unlock()
	s.log.Info("asking whether to keep a new file", "sandbox", n.Sandbox, "doc", n.DocID, "name", n.Name, "size", n.Size)
	go h(n)
}

// closeNewFiles keeps every file still waiting for an answer: the broker is
// going away and cannot ask any more.
func (s *Store) closeNewFiles() {
	s.saves.mu.Lock()
	s.saves.closed = true
	var out []*NewFile
	for n := range s.saves.out {
		out = append(out, n)
	}
	s.saves.mu.Unlock()
	for _, n := range out {
		n.KeepUnasked("the document store is closing")
	}
}

// question turns f, a new file of g, into a NewFile: f.state becomes
// fileAsking. g.mu must be held for writing and g.dirfd be open.
func (g *served) question(f *docFile) (*NewFile, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(g.dirfd, f.hostName, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil, err
	}
	fd, err := unix.FcntlInt(uintptr(g.dirfd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f.state = fileAsking
	f.asking = &NewFile{
		Sandbox: g.Sandbox, Label: g.label, DocID: g.DocID, Name: f.name, Beside: g.name, Folder: g.watchDir, Size: st.Size,
		s: &g.store.saves, g: g, f: f, hidden: f.hostName, dirfd: fd, moot: make(chan struct{}),
	}
	return f.asking, nil
}

// resolvedByApp withdraws f's question, if one is out, after the app renamed
// f over another file or removed it. g.mu must be held for writing.
func (f *docFile) resolvedByApp() {
	if f.asking != nil {
		close(f.asking.moot)
		f.asking = nil
	}
}

// released is called when a handle of f is closed.
func (f *docFile) released() {
	g := f.g
	g.mu.Lock()
	defer g.mu.Unlock()
	f.opens--
	if f.opens > 0 || f.state != fileNew || g.revoked.Load() {
		return
	}
	if f.timer != nil {
		f.timer.Stop()
	}
	f.timer = time.AfterFunc(settleDelay, func() { g.settled(f) })
}

// settled asks about f if it is still a released, unrenamed new file.
func (g *served) settled(f *docFile) {
	g.mu.Lock()
	f.timer = nil
	if g.revoked.Load() || f.opens > 0 || f.state != fileNew || f.hostName == "" || g.temps[f.name] != f || lockName(f.name) {
		g.mu.Unlock()
		return
	}
	n, err := g.question(f)
	g.mu.Unlock()
	if err != nil {
		// Left hidden on the host; asked again when the grant ends.
		g.store.log.Warn("cannot ask about a new file yet", "sandbox", g.Sandbox, "doc", g.DocID, "err", err)
		return
	}
	g.store.ask(n)
}

// finish marks n answered; n.mu must be held.
func (n *NewFile) finish() {
	n.done = true
	unix.Close(n.dirfd)
	n.dirfd = -1
	n.s.mu.Lock()
	delete(n.s.out, n)
	n.s.mu.Unlock()
}

// Keep puts the file into the host folder under its own name without
// leading dots (HostName), or the first free "name (N).ext" (never replacing
// a file), on the user's word, and returns its host path. It stays visible
// inside, under the app's name, while the grant lasts.
func (n *NewFile) Keep() (string, error) { return n.keep(n.HostName(), true) }

// HostName is the name Keep gives the file on the host unless it is taken:
// the app's name without leading dots.
func (n *NewFile) HostName() string {
	name := strings.TrimLeft(n.Name, ".")
	if name == "" {
		name = "file"
	}
	return name
}

// KeepUnasked keeps the file, as Keep does, without the user's word (no
// dialog could be shown, or it went unanswered), and logs why.
func (n *NewFile) KeepUnasked(reason string) (string, error) {
	p, err := n.keep(n.HostName(), false)
	log := n.g.store.log
	switch {
	case err == nil:
		log.Warn("kept a new file without asking the user", "reason", reason, "sandbox", n.Sandbox, "doc", n.DocID, "path", p)
	case !errors.Is(err, ErrAnswered) && !errors.Is(err, ErrGone):
		log.Error("cannot keep a new file; it stays hidden", "reason", reason, "sandbox", n.Sandbox, "path", filepath.Join(n.Folder, n.hidden), "err", err)
	}
	return p, err
}

func (n *NewFile) keep(name string, asked bool) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.done {
		return "", ErrAnswered
	}
	g := n.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if n.f.hostName != n.hidden || n.f.state != fileAsking {
		n.finish()
		return "", ErrGone
	}
	// IMPORTANT: host operations on the store's hidden name, relative to the
	// folder's descriptor, never following a symlink. No execute bits: a
	// sandbox must not be able to drop a runnable file (a trusted .desktop
	// launcher on the Desktop) by having the user keep a document.
	if err := dropExec(n.dirfd, n.hidden); err != nil {
		return "", fmt.Errorf("cannot keep new file %q: %w", n.Name, err)
	}
	final, err := placeNoReplace(n.dirfd, n.hidden, name)
	if err != nil {
		// Not finished: the file stays hidden, and a later answer (or the
		// store closing) can try again.
		return "", fmt.Errorf("cannot keep new file %q in %q: %w", n.Name, n.Folder, err)
	}
	n.f.hostName = final
	n.f.state = fileKept
	n.f.asking = nil
	n.finish()
	g.store.log.Info("kept a new file", "asked", asked, "sandbox", n.Sandbox, "doc", n.DocID, "path", filepath.Join(n.Folder, final))
	return filepath.Join(n.Folder, final), nil
}

// Discard removes the file, on the user's word.
func (n *NewFile) Discard() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.done {
		return ErrAnswered
	}
	g := n.g
	g.mu.Lock()
	if n.f.hostName != n.hidden || n.f.state != fileAsking {
		g.mu.Unlock()
		n.finish()
		return ErrGone
	}
	if err := unix.Unlinkat(n.dirfd, n.hidden, 0); err != nil && err != unix.ENOENT {
		g.mu.Unlock()
		return fmt.Errorf("cannot discard new file %q: %w", n.Name, err)
	}
	n.f.hostName = ""
	n.f.asking = nil
	var forget *fs.Inode
	if !g.revoked.Load() && g.temps[n.f.name] == n.f {
		delete(g.temps, n.f.name)
		forget = n.f.EmbeddedInode()
	}
	g.mu.Unlock()
	n.finish()
	if forget != nil {
		forget.ForgetPersistent()
	}
	g.store.log.Info("discarded a new file", "sandbox", n.Sandbox, "doc", n.DocID, "name", n.Name)
	return nil
}

// dropExec clears the execute bits of the regular file name in dirfd.
func dropExec(dirfd int, name string) error {
	fd, err := unix.Openat(dirfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return syscall.EPERM
	}
	if st.Mode&0o111 == 0 {
		return nil
	}
	return unix.Chmod("/proc/self/fd/"+itoa(fd), st.Mode&0o666)
}

// maxVariants bounds the "name (N).ext" tried before giving up.
const maxVariants = 1000

// placeNoReplace renames from to name in dirfd, or to the first free variant
// "stem (N).ext", never replacing an existing entry, and returns the name it
// got.
func placeNoReplace(dirfd int, from, name string) (string, error) {
	for i := 1; i <= maxVariants; i++ {
		cand := variant(name, i)
		err := unix.Renameat2(dirfd, from, dirfd, cand, unix.RENAME_NOREPLACE)
		if err == unix.EINVAL || err == unix.ENOSYS {
			// A file system without RENAME_NOREPLACE: link(2) never
			// replaces either.
			if err = unix.Linkat(dirfd, from, dirfd, cand, 0); err == nil {
				unix.Unlinkat(dirfd, from, 0)
			}
		}
		switch err {
		case nil:
			return cand, nil
		case unix.EEXIST, unix.ENOTEMPTY:
			continue
		default:
			return "", err
		}
	}
	return "", syscall.EEXIST
}

// variant is name for i == 1, else "stem (i).ext", cut to 255 bytes.
func variant(name string, i int) string {
	if i == 1 {
		return name
	}
	stem, ext := name, ""
	if dot := strings.LastIndexByte(name, '.'); dot > 0 && len(name)-dot <= 16 {
		stem, ext = name[:dot], name[dot:]
	}
	suffix := " (" + strconv.Itoa(i) + ")" + ext
	for len(stem)+len(suffix) > 255 {
		_, size := utf8.DecodeLastRuneInString(stem)
		if size == 0 {
			break
		}
		stem = stem[:len(stem)-size]
	}
	return stem + suffix
}

// roomForNew refuses a new file when the grant already holds maxTemps
// unresolved ones: a sandbox cannot flood the user with questions (nor the
// folder with hidden files). g.mu must be held for writing.
func (g *served) roomForNew() syscall.Errno {
	n := 0
	for _, t := range g.temps {
		if t.state != fileKept {
			n++
		}
	}
	if n < maxTemps {
		return 0
	}
	if !g.refusedNew {
		g.refusedNew = true
		g.store.log.Warn("refusing new files beside a granted file: too many unresolved", "sandbox", g.Sandbox, "doc", g.DocID, "limit", maxTemps)
	}
	return syscall.EDQUOT
}
