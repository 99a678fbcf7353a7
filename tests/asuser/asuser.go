// Package asuser re-executes the running binary as an ordinary user, so
// that FUSE tests and benchmarks started as root exercise the unprivileged
// path the broker takes (fusermount3, no CAP_SYS_ADMIN).
package asuser

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"airlock/tests/testuser"
)

// EnvChild is set in the environment of the re-executed binary.
const EnvChild = "AIRLOCK_ASUSER_CHILD"

// User is the ordinary account used by tests.
const User = testuser.Name

// IsChild reports whether this process is the re-executed one.
func IsChild() bool { return os.Getenv(EnvChild) == "1" }

// Run copies the running binary to a world-readable directory and runs it
// as User with args, a private XDG_RUNTIME_DIR (0700, owned by the user) and
// a private TMPDIR. It creates User if needed and returns the exit code.
func Run(args []string) (int, error) {
	u, err := testuser.Ensure()
	if err != nil {
		return 1, err
	}
	uid, gid := u.UID, u.GID

	base, err := os.MkdirTemp("", "airlock-asuser-")
	if err != nil {
		return 1, err
	}
	defer cleanup(base)
	if err := os.Chmod(base, 0o755); err != nil {
		return 1, err
	}
	self, err := os.Executable()
	if err != nil {
		return 1, err
	}
	bin := filepath.Join(base, filepath.Base(self))
	if err := copyFile(self, bin); err != nil {
		return 1, fmt.Errorf("cannot copy test binary: %w", err)
	}
	runtime := filepath.Join(base, "runtime")
	tmp := filepath.Join(base, "tmp")
	for _, d := range []string{runtime, tmp} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return 1, err
		}
		if err := os.Chown(d, uid, gid); err != nil {
			return 1, err
		}
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = tmp
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(filterEnv(os.Environ()),
		EnvChild+"=1", "XDG_RUNTIME_DIR="+runtime, "TMPDIR="+tmp, "HOME="+tmp, "USER="+User)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}},
		Pdeathsig:  syscall.SIGKILL,
	}
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), nil
	}
	if err != nil {
		return 1, err
	}
	return 0, nil
}

func filterEnv(env []string) []string {
	var out []string
	for _, e := range env {
		k, _, _ := strings.Cut(e, "=")
		switch k {
		case "XDG_RUNTIME_DIR", "TMPDIR", "HOME", "USER", "GOCOVERDIR", EnvChild:
			continue
		}
		out = append(out, e)
	}
	return out
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o755)
}

// cleanup detaches mounts a crashed child left under base, then removes it.
func cleanup(base string) {
	if f, err := os.Open("/proc/self/mounts"); err == nil {
		var mps []string
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) > 1 && strings.HasPrefix(fields[1], base+"/") {
				mps = append(mps, fields[1])
			}
		}
		f.Close()
		for i := len(mps) - 1; i >= 0; i-- {
			_ = syscall.Unmount(mps[i], syscall.MNT_DETACH)
		}
	}
	_ = os.RemoveAll(base)
}
