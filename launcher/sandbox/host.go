package sandbox

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// RandomHex returns n random bytes as hex.
func RandomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux 3.17+
	}
	return hex.EncodeToString(b)
}

// randomUUID returns a version 4 UUID, the shape of boot_id.
func randomUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// Account is the calling user as the sandbox presents it.
type Account struct {
	UID, GID int
	Name     string
	Home     string
}

// CurrentAccount reads the caller's name and home from /etc/passwd (without
// cgo's getpwuid), falling back to $USER and $HOME.
func CurrentAccount() Account {
	a := Account{UID: os.Getuid(), GID: os.Getgid(), Name: os.Getenv("USER"), Home: os.Getenv("HOME")}
	f, err := os.Open("/etc/passwd")
	if err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			p := strings.Split(sc.Text(), ":")
			if len(p) >= 6 && p[2] == strconv.Itoa(a.UID) {
				a.Name = p[0]
				if a.Home == "" {
					a.Home = p[5]
				}
				break
			}
		}
	}
	if a.Name == "" {
		a.Name = "user"
	}
	if a.Home == "" || !filepath.IsAbs(a.Home) {
		a.Home = "/home/" + a.Name
	}
	return a
}

// RuntimeDir is the caller's $XDG_RUNTIME_DIR, or a private folder in /tmp
// when the session has none.
func RuntimeDir() (string, error) {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) {
		return d, nil
	}
	d := filepath.Join(os.TempDir(), fmt.Sprintf("airlock-%d", os.Getuid()))
	if err := os.MkdirAll(d, 0o700); err != nil {
		return "", err
	}
	st, err := os.Lstat(d)
	if err != nil {
		return "", err
	}
	// Someone else's folder in /tmp could be a trap: insist on our own.
	if !st.IsDir() || st.Mode().Perm() != 0o700 || fileUID(st) != os.Getuid() {
		return "", fmt.Errorf("%s is not a private folder of uid %d", d, os.Getuid())
	}
	return d, nil
}
