package sandbox

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// hostScreenSize asks the host X server (display n, screen scr) for its
// root window's size: the X11 connection set-up reply carries it, so one
// exchange is enough and the launcher needs no X library. The nested
// server's screen is capped to it (startXephyr).
func hostScreenSize(n, scr int) (w, h int, err error) {
	c, err := net.DialTimeout("unix", fmt.Sprintf("/tmp/.X11-unix/X%d", n), 5*time.Second)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	name, data := hostCookie(n)
	// Connection set-up, little endian (X11 protocol, "Connection Setup").
	var b bytes.Buffer
	b.Write([]byte{'l', 0})
	binary.Write(&b, binary.LittleEndian, [5]uint16{11, 0, uint16(len(name)), uint16(len(data)), 0})
	b.Write(pad4(name))
	b.Write(pad4(data))
	if _, err := c.Write(b.Bytes()); err != nil {
		return 0, 0, err
	}
	var head [8]byte
	if _, err := io.ReadFull(c, head[:]); err != nil {
		return 0, 0, err
	}
	rest := make([]byte, 4*int(binary.LittleEndian.Uint16(head[6:])))
	if _, err := io.ReadFull(c, rest); err != nil {
		return 0, 0, err
	}
	if head[0] != 1 {
		reason := rest
		if head[0] == 0 && int(head[1]) <= len(rest) {
			reason = rest[:head[1]]
		}
		return 0, 0, fmt.Errorf("the X server refused the connection: %q", reason)
	}
	return parseSetupScreen(rest, scr)
}

// parseSetupScreen reads screen scr's width and height from the additional
// data of a successful set-up reply (little endian).
func parseSetupScreen(d []byte, scr int) (int, int, error) {
	bad := errors.New("short X connection set-up reply")
	if len(d) < 32 {
		return 0, 0, bad
	}
	vendor := int(binary.LittleEndian.Uint16(d[16:]))
	nScreens, nFormats := int(d[20]), int(d[21])
	if scr >= nScreens {
		return 0, 0, fmt.Errorf("the X server has no screen %d", scr)
	}
	off := 32 + (vendor+3)&^3 + 8*nFormats
	for i := 0; ; i++ {
		// SCREEN: 40 bytes, then its depths.
		if off+40 > len(d) {
			return 0, 0, bad
		}
		if i == scr {
			return int(binary.LittleEndian.Uint16(d[off+20:])), int(binary.LittleEndian.Uint16(d[off+22:])), nil
		}
		nDepths := int(d[off+39])
		off += 40
		for j := 0; j < nDepths; j++ {
			if off+8 > len(d) {
				return 0, 0, bad
			}
			off += 8 + 24*int(binary.LittleEndian.Uint16(d[off+2:]))
		}
	}
}

// hostCookie finds the MIT-MAGIC-COOKIE-1 for local display n in the user's
// Xauthority file (none: an X server without access control).
func hostCookie(n int) (name, data []byte) {
	path := hostXauthority()
	if path == "" {
		return nil, nil
	}
	entries, err := readXauth(path)
	if err != nil {
		return nil, nil
	}
	host, _ := os.Hostname()
	num := strconv.Itoa(n)
	for _, e := range entries {
		if string(e.name) != cookieName || (len(e.number) > 0 && string(e.number) != num) {
			continue
		}
		const familyLocal = 256
		if e.family == xauthFamilyWild || e.family == familyLocal && string(e.addr) == host {
			return e.name, e.data
		}
	}
	return nil, nil
}

// hostXauthority is the user's Xauthority file: $XAUTHORITY, or
// ~/.Xauthority ("" when neither exists).
func hostXauthority() string {
	p := os.Getenv("XAUTHORITY")
	if p == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		p = filepath.Join(home, ".Xauthority")
	}
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

func pad4(b []byte) []byte {
	return append(append([]byte(nil), b...), make([]byte, (4-len(b)%4)%4)...)
}
