package sandbox

import (
	"io"
	"log/slog"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// stdio decides what the sandbox gets as descriptors 0, 1 and 2 (issue 8,
// item 6).
//
// A terminal, a pipe or a socket is handed in as it is: none of them names
// a host file. Anything else, above all a regular file (`airlock run ... >>
// ~/app.log`), but also a directory or a device, is not: through
// /proc/self/fd/1, a magic link that the kernel follows to the open file
// itself whatever the sandbox's mounts, the application could read the
// link (the host path: readlink says /home/user/app.log) and reopen the file
// with other flags, reading what was in it before or writing anywhere in
// it. Such a descriptor stays in the launcher, and the sandbox gets a pipe
// instead (readlink says pipe:[N]) that the launcher pumps to it (1 and 2)
// or fills from it (0).
//
// The cost: a pumped stdin is read ahead of the application, so a regular
// file's offset ends past what the application consumed; output is copied
// once more. When kcmp(2) is missing (no CONFIG_KCMP), stdout and stderr
// that share one file get a pipe each, and their order may interleave.
//
// Terminals keep passing through: the seccomp filter refuses TIOCSTI and
// TIOCLINUX, and the application runs in a session of its own, without a
// controlling terminal.
type stdio struct {
	// files are the descriptors handed to init as 0, 1 and 2.
	files [3]uintptr
	// child are the pipe ends handed in, closed here once init has them.
	child []*os.File
	// pumps copy between the pipes and the caller's descriptors; ours
	// are their pipe ends.
	pumps []pump
	// outputs counts the running output pumps: Run waits for them, so
	// that all of the application's output is written before airlock
	// exits.
	outputs sync.WaitGroup
	log     *slog.Logger
}

type pump struct {
	ours   *os.File
	output bool
	run    func()
}

// passesThrough says whether fd can be handed to the sandbox as it is.
func passesThrough(fd int) bool {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return true // closed: nothing to hide (init gets none either)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFIFO, unix.S_IFSOCK:
		return true
	case unix.S_IFCHR:
		_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
		return err == nil
	}
	return false
}

// sameFile says whether fds a and b are one open file description (as
// `>> log 2>&1` makes them), so that they share one pipe and the order of
// the application's output and errors is kept.
func sameFile(a, b int) bool {
	pid := os.Getpid()
	r, _, errno := unix.Syscall6(unix.SYS_KCMP, uintptr(pid), uintptr(pid), 0 /* KCMP_FILE */, uintptr(a), uintptr(b), 0)
	return errno == 0 && r == 0
}

// newStdio prepares the sandbox's descriptors 0, 1 and 2.
func newStdio(log *slog.Logger) (*stdio, error) {
	s := &stdio{files: [3]uintptr{0, 1, 2}, log: log}
	if !passesThrough(0) {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		s.files[0] = r.Fd()
		s.child = append(s.child, r)
		s.pumps = append(s.pumps, pump{ours: w, run: func() {
			// Ends at the caller's end of file, or when the application
			// no longer reads (EPIPE: Go ignores SIGPIPE but on 1 and 2).
			io.Copy(w, os.Stdin)
			w.Close()
		}})
	}
	for _, fd := range []int{1, 2} {
		if passesThrough(fd) {
			continue
		}
		if fd == 2 && s.files[1] != 1 && sameFile(1, 2) {
			s.files[2] = s.files[1]
			continue
		}
		r, w, err := os.Pipe()
		if err != nil {
			s.abort()
			return nil, err
		}
		s.files[fd] = w.Fd()
		s.child = append(s.child, w)
		// os.Stdout and os.Stderr themselves: a second *os.File of the
		// same number would close it when collected.
		dst := os.Stdout
		if fd == 2 {
			dst = os.Stderr
		}
		s.pumps = append(s.pumps, pump{ours: r, output: true, run: func() {
			defer s.outputs.Done()
			defer r.Close()
			// Ends when the last writer is gone: init and everything in
			// its pid namespace.
			if _, err := io.Copy(dst, r); err != nil {
				s.log.Warn("cannot pass on the application's output", "fd", fd, "err", err)
				io.Copy(io.Discard, r) // never leave the application blocked
			}
		}})
	}
	return s, nil
}

// started closes the pipe ends that init now holds and starts the pumps.
func (s *stdio) started() {
	for _, f := range s.child {
		f.Close()
	}
	s.child = nil
	for _, p := range s.pumps {
		if p.output {
			s.outputs.Add(1)
		}
		go p.run()
	}
	s.pumps = nil
}

// abort releases the pipes when init could not be started.
func (s *stdio) abort() {
	for _, f := range s.child {
		f.Close()
	}
	for _, p := range s.pumps {
		p.ours.Close()
	}
	s.child, s.pumps = nil, nil
}

// wait returns once the application's output is all written.
func (s *stdio) wait() { s.outputs.Wait() }
