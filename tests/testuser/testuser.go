// Package testuser creates the one ordinary account that every test starts
// sandboxes and FUSE servers as when the tests run as root (as CI does). It
// is the only place that creates it, in one way: with a home folder, because
// the broker and the chooser it starts work in the user's home. Test
// binaries run in parallel, so creation is serialised with a lock file and a
// concurrent creation by another binary is not an error.
package testuser

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"
)

// Name is the test account.
const Name = "airlock-test"

// lockFile serialises useradd between test binaries (useradd's own lock on
// /etc/passwd fails at once instead of waiting).
const lockFile = "/run/lock/airlock-testuser.lock"

// Account is the test user's ids and home.
type Account struct {
	Name     string
	UID, GID int
	Home     string
}

// Ensure returns the test account, creating it (with its home) when missing.
// A user of that name without a usable home, left by an older run, gets one.
func Ensure() (Account, error) {
	lk, err := os.OpenFile(lockFile, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return Account{}, fmt.Errorf("test user lock %s: %w", lockFile, err)
	}
	defer lk.Close()
	if err := syscall.Flock(int(lk.Fd()), syscall.LOCK_EX); err != nil {
		return Account{}, fmt.Errorf("test user lock %s: %w", lockFile, err)
	}
	u, err := user.Lookup(Name)
	if err != nil {
		out, err := exec.Command("useradd", "--create-home", "--shell", "/bin/sh", Name).CombinedOutput()
		if err != nil {
			return Account{}, fmt.Errorf("useradd %s: %v: %s", Name, err, out)
		}
		if u, err = user.Lookup(Name); err != nil {
			return Account{}, err
		}
	}
	a := Account{Name: u.Username, Home: u.HomeDir}
	a.UID, _ = strconv.Atoi(u.Uid)
	a.GID, _ = strconv.Atoi(u.Gid)
	if st, err := os.Stat(a.Home); err != nil || !st.IsDir() {
		if err := os.MkdirAll(a.Home, 0o755); err != nil {
			return Account{}, fmt.Errorf("home of %s: %w", Name, err)
		}
		if err := os.Chown(a.Home, a.UID, a.GID); err != nil {
			return Account{}, fmt.Errorf("home of %s: %w", Name, err)
		}
	}
	return a, nil
}
