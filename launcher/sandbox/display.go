package sandbox

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"airlock/launcher/profile"
	"airlock/po/i18n"
)

const (
	xauthFamilyWild = 0xffff
	cookieName      = "MIT-MAGIC-COOKIE-1"
)

// xauthEntry is one record of an Xauthority file (libXau's format).
type xauthEntry struct {
	family             uint16
	addr, number, name []byte
	data               []byte
}

func writeXauth(path string, entries []xauthEntry) error {
	var b bytes.Buffer
	for _, e := range entries {
		binary.Write(&b, binary.BigEndian, e.family)
		for _, f := range [][]byte{e.addr, e.number, e.name, e.data} {
			binary.Write(&b, binary.BigEndian, uint16(len(f)))
			b.Write(f)
		}
	}
	return os.WriteFile(path, b.Bytes(), 0o600)
}

func readXauth(path string) ([]xauthEntry, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := bytes.NewReader(raw)
	var out []xauthEntry
	for r.Len() > 0 {
		var e xauthEntry
		if err := binary.Read(r, binary.BigEndian, &e.family); err != nil {
			return nil, err
		}
		for _, f := range []*[]byte{&e.addr, &e.number, &e.name, &e.data} {
			var n uint16
			if err := binary.Read(r, binary.BigEndian, &n); err != nil {
				return nil, err
			}
			*f = make([]byte, n)
			if _, err := r.Read(*f); err != nil && n > 0 {
				return nil, err
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// privateDir makes a 0700 folder for this sandbox's host-side files (cookies)
// and registers its removal.
func (s *Sandbox) privateDir() (string, error) {
	rt, err := RuntimeDir()
	if err != nil {
		return "", err
	}
	d := filepath.Join(rt, "airlock", "run-"+s.plan.ID)
	if err := os.MkdirAll(d, 0o700); err != nil {
		return "", err
	}
	s.cleanup = append(s.cleanup, func() {
		if err := os.RemoveAll(d); err != nil {
			s.log.Warn("cannot remove the sandbox's cookies", "err", err)
		}
	})
	return d, nil
}

// prepareDisplay wires the sandbox's display. The host X socket is bound in
// only for display = x11; otherwise the sandbox has no path to it, and the
// abstract @/tmp/.X11-unix/X* sockets belong to the host's network namespace,
// which the sandbox does not share (and Landlock scopes them when it does).
func (s *Sandbox) prepareDisplay(runtimeIn string) ([]string, error) {
	p := s.opts.Profile
	env := []string{"DISPLAY=:0", "XAUTHORITY=" + runtimeIn + "/Xauthority"}
	switch {
	case p.Display == profile.DisplayNone:
		return nil, nil
	case s.opts.DryRun && p.Display == profile.DisplayXephyr:
		s.bind(OpBind, PlaceholderXephyr, "/tmp/.X11-unix/X0", false)
		s.bind(OpROBind, PlaceholderXephyrAuth, runtimeIn+"/Xauthority", false)
		if n, err := hostDisplay(); err == nil {
			// The nested server's own sandbox, as startXephyr makes it.
			bin, err := exec.LookPath("Xephyr")
			if err != nil {
				bin = "Xephyr"
			}
			hostAuth := ""
			if name, _ := hostCookie(n); name != nil {
				hostAuth = PlaceholderHostCookie
			}
			args, xenv := xephyrCommand(bin, n, nestedDisplay(n), PlaceholderXephyrScreen, i18n.T("%s (Airlock sandbox)", s.plan.Name), hostAuth)
			plan := xephyrPlan(CurrentAccount(), n, PlaceholderXephyrDir, PlaceholderXephyrAuth, hostAuth, args, xenv)
			s.plan.Display = &plan
			if p.WindowManager == profile.WMAirlock {
				wm := wmPlan(CurrentAccount(), PlaceholderXephyr, PlaceholderXephyrAuth, s.plan.Name, p.ColorHex())
				s.plan.WM = &wm
			}
		}
		return env, nil
	case s.opts.DryRun && p.Display == profile.DisplayX11:
		n, err := hostDisplay()
		if err != nil {
			return nil, errors.New(i18n.T("display \"x11\" needs a host X display: %v", err))
		}
		s.bind(OpBind, fmt.Sprintf("/tmp/.X11-unix/X%d", n), "/tmp/.X11-unix/X0", false)
		s.bind(OpROBind, PlaceholderX11Auth, runtimeIn+"/Xauthority", false)
		return env, nil
	case p.Display == profile.DisplayXephyr:
		return s.startXephyr(runtimeIn)
	case p.Display == profile.DisplayX11:
		return s.hostX11(runtimeIn)
	}
	return nil, fmt.Errorf("unknown display mode %q", p.Display)
}

// startXephyr starts a nested X server on the host display, for this sandbox
// alone: its windows, keystrokes and clipboard are its own.
func (s *Sandbox) startXephyr(runtimeIn string) ([]string, error) {
	if _, err := hostDisplay(); err != nil {
		return nil, errors.New(i18n.T("display \"xephyr\" needs a host X display: %v", err))
	}
	bin, err := exec.LookPath("Xephyr")
	if err != nil {
		return nil, errors.New(i18n.T("display \"xephyr\" needs Xephyr (Debian package xserver-xephyr)"))
	}
	dir, err := s.privateDir()
	if err != nil {
		return nil, err
	}
	cookie := make([]byte, 16)
	rand.Read(cookie)
	auth := filepath.Join(dir, "Xauthority")
	// FamilyWild with an empty display number matches any host name and
	// display: the same file serves Xephyr (-auth) and the client inside,
	// where the display is :0 and the host name is neutral.
	if err := writeXauth(auth, []xauthEntry{{family: xauthFamilyWild, name: []byte(cookieName), data: cookie}}); err != nil {
		return nil, err
	}
	n, _ := hostDisplay()
	w, h, err := s.nestedScreen(n)
	if err != nil {
		return nil, err
	}
	// The nested server's own socket appears here (as X<nested>), bound
	// into its sandbox at /tmp/.X11-unix: the host's /tmp/.X11-unix gets
	// nothing, and no other host X server's socket is in reach.
	sockDir := filepath.Join(dir, "x11")
	if err := os.Mkdir(sockDir, 0o700); err != nil {
		return nil, err
	}
	inner := nestedDisplay(n)
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, err
	}
	// Of the user's Xauthority file, only the host display's cookie: the
	// others (other displays, remote hosts) are none of Xephyr's business.
	hostAuth := ""
	if name, data := hostCookie(n); name != nil {
		hostAuth = filepath.Join(realDir, "host-xauthority")
		if err := writeXauth(hostAuth, []xauthEntry{{family: xauthFamilyWild, name: name, data: data}}); err != nil {
			return nil, err
		}
	}
	args, env := xephyrCommand(bin, n, inner, fmt.Sprintf("%dx%d", w, h), i18n.T("%s (Airlock sandbox)", s.plan.Name), hostAuth)
	plan := xephyrPlan(CurrentAccount(), n, filepath.Join(realDir, "x11"), filepath.Join(realDir, "Xauthority"), hostAuth, args, env)
	s.plan.Display = &plan
	r, wr, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	// The nested server parses everything the sandboxed application
	// sends: a sandbox of its own, as for the application (Run).
	cmd, err := stageCommand(XephyrArg0, &plan, syscall.SIGTERM, wr)
	if err != nil {
		wr.Close()
		r.Close()
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		wr.Close()
		r.Close()
		return nil, fmt.Errorf("cannot start Xephyr: %w", err)
	}
	wr.Close()
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	s.cleanup = append(s.cleanup, func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(3 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	numc := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		numc <- strings.TrimSpace(line)
		r.Close()
	}()
	var num string
	select {
	case num = <-numc:
	case <-time.After(15 * time.Second):
	}
	if got, err := strconv.Atoi(num); err != nil || got != inner {
		return nil, fmt.Errorf("cannot start Xephyr: %s", strings.TrimSpace(stderr.String()))
	}
	sock := filepath.Join(realDir, "x11", fmt.Sprintf("X%d", inner))
	s.bind(OpBind, sock, "/tmp/.X11-unix/X0", false)
	s.bind(OpROBind, auth, runtimeIn+"/Xauthority", false)
	s.log.Info("nested display started", "xephyr_pid", cmd.Process.Pid, "width", w, "height", h)
	if s.opts.Broker != nil {
		// The broker reads and sets this display's clipboard as an X
		// client of its own, on the host side of the socket: the
		// sandbox's clipboard crosses only through it (portal/clipboard).
		if err := s.opts.Broker.AttachDisplay(s.plan.ID, sock, cookie, cmd.Process.Pid); err != nil {
			s.log.Warn("the sandbox's clipboard stays its own: the broker cannot reach its display", "err", err)
		}
	}
	if s.opts.Profile.WindowManager == profile.WMAirlock {
		s.startWM(sock, auth)
	}
	return []string{"DISPLAY=:0", "XAUTHORITY=" + runtimeIn + "/Xauthority"}, nil
}

// xephyrCommand is the nested server's command line and its whole
// environment: host display n, its own display inner (in its namespaces),
// screen WIDTHxHEIGHT, the window's title, and the file holding the host
// display's cookie ("" for none).
func xephyrCommand(bin string, n, inner int, screen, title, hostAuth string) (args, env []string) {
	args = []string{bin, fmt.Sprintf(":%d", inner), "-displayfd", strconv.Itoa(xephyrDisplayFD), "-auth", xephyrAuthIn,
		"-nolisten", "tcp", "-title", title,
		// Never larger than the host screen, and no RandR: RandR 1.0
		// lets any client inside resize the nested screen, and so its
		// window on the host, to any size of Xephyr's built-in list (up
		// to 1600x1200) whatever the host screen and with or without
		// -resizeable. -resizeable only follows the host window, which
		// the user's window manager sizes.
		"-screen", screen, "-extension", "RANDR", "-resizeable", "-no-host-grab", "-noreset"}
	// A clean environment: the host display, its cookie and what the
	// server needs, nothing else of the user's session.
	env = []string{"PATH=/usr/bin:/bin", fmt.Sprintf("DISPLAY=:%d", n),
		// MIT-SHM between Xephyr and the host server cannot work across
		// IPC namespaces, and Xephyr's probe could be answered by an
		// unrelated host segment of the same id: plain XPutImage.
		"XEPHYR_NO_SHM=1"}
	if hostAuth != "" {
		env = append(env, "XAUTHORITY="+xephyrHostAuth)
	}
	if v, ok := os.LookupEnv("LANG"); ok {
		env = append(env, "LANG="+v)
	}
	return args, env
}

// nestedScreen is the profile's xephyr_screen, capped to the host screen:
// the nested server's window never covers more than the host display.
func (s *Sandbox) nestedScreen(n int) (int, int, error) {
	var w, h int
	if _, err := fmt.Sscanf(s.opts.Profile.XephyrRes, "%dx%d", &w, &h); err != nil {
		return 0, 0, fmt.Errorf("xephyr_screen %q is not WIDTHxHEIGHT", s.opts.Profile.XephyrRes)
	}
	scr := 0
	if _, after, ok := strings.Cut(os.Getenv("DISPLAY"), "."); ok {
		scr, _ = strconv.Atoi(after)
	}
	hw, hh, err := hostScreenSize(n, scr)
	if err != nil {
		return 0, 0, errors.New(i18n.T("display \"xephyr\" cannot read the host screen's size: %v", err))
	}
	return min(w, hw), min(h, hh), nil
}

// hostX11 shares the host X server with an untrusted SECURITY cookie: the
// application cannot read other clients' windows or inject events through
// XTEST, but still shares the display. Weak, and documented as such.
func (s *Sandbox) hostX11(runtimeIn string) ([]string, error) {
	n, err := hostDisplay()
	if err != nil {
		return nil, errors.New(i18n.T("display \"x11\" needs a host X display: %v", err))
	}
	xauth, err := exec.LookPath("xauth")
	if err != nil {
		return nil, errors.New(i18n.T("display \"x11\" needs xauth (Debian package xauth)"))
	}
	dir, err := s.privateDir()
	if err != nil {
		return nil, err
	}
	auth := filepath.Join(dir, "Xauthority")
	out, err := exec.Command(xauth, "-q", "-f", auth, "generate", os.Getenv("DISPLAY"), ".", "untrusted", "timeout", "0").CombinedOutput()
	if err != nil {
		// Never fall back to the trusted cookie.
		return nil, fmt.Errorf("cannot get an untrusted X cookie (does the X server have the SECURITY extension?): %s", strings.TrimSpace(string(out)))
	}
	entries, err := readXauth(auth)
	if err != nil || len(entries) == 0 {
		return nil, fmt.Errorf("cannot read the untrusted X cookie: %v", err)
	}
	for i := range entries {
		entries[i].family = xauthFamilyWild
		entries[i].addr = nil
		entries[i].number = nil
	}
	if err := writeXauth(auth, entries[:1]); err != nil {
		return nil, err
	}
	s.bind(OpBind, fmt.Sprintf("/tmp/.X11-unix/X%d", n), "/tmp/.X11-unix/X0", false)
	s.bind(OpROBind, auth, runtimeIn+"/Xauthority", false)
	return []string{"DISPLAY=:0", "XAUTHORITY=" + runtimeIn + "/Xauthority"}, nil
}

// stageCommand is the re-execution of airlock as the confining stage of a
// helper of the nested display (Xephyr, its window manager), which parse
// what the application sends: all seven namespaces of their own, the user's
// ids mapped to themselves, and only the capabilities the stage needs to
// build its root (mounts, pivot_root, the host name) and drop the bounding
// set (CAP_SETPCAP), all gone before it serves. extra become descriptors 3
// and up; plan reaches the stage in its environment.
func stageCommand(arg0 string, plan *Plan, deathSig syscall.Signal, extra ...*os.File) (*exec.Cmd, error) {
	planJSON, err := json.Marshal(plan)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("/proc/self/exe")
	cmd.Args = []string{arg0}
	cmd.ExtraFiles = extra
	cmd.Env = []string{envPlan + "=" + string(planJSON)}
	acct := CurrentAccount()
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWIPC |
			syscall.CLONE_NEWUTS | syscall.CLONE_NEWNET | syscall.CLONE_NEWCGROUP,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: acct.UID, HostID: acct.UID, Size: 1}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: acct.GID, HostID: acct.GID, Size: 1}},
		GidMappingsEnableSetgroups: false,
		AmbientCaps:                []uintptr{unix.CAP_SYS_ADMIN, unix.CAP_SETPCAP},
		Pdeathsig:                  deathSig,
		Setpgid:                    true,
	}
	return cmd, nil
}
