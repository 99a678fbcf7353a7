// Package openuri serves org.freedesktop.portal.OpenURI on a sandbox bus: a
// sandboxed application may ask to open a web or mail link, or a file the
// user granted it, in a host application. Nothing opens without the user's
// Yes in a dialog Airlock draws (airlock-chooser's open-uri mode), and only
// for a profile whose open_uri is "ask"; "none" refuses every request.
//
// Why a question every time: the host application runs outside the
// sandbox. A link handed to it is data leaving the sandbox (a URL can carry
// anything the application read) and input to a program with the user's
// files; a document handed to a host viewer is the classic route out of a
// sandbox through a parser bug.
package openuri

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"

	"airlock/chooser-ui/protocol"
	"airlock/portal/busserver"
	"airlock/portal/desktop"
	"airlock/portal/grant"
	"airlock/portal/ratelimit"
)

// Interface and Version of the portal served (xdg-desktop-portal's
// org.freedesktop.portal.OpenURI, version 4).
const (
	Interface = "org.freedesktop.portal.OpenURI"
	Version   = 4
)

// Policies of a profile's open_uri key.
const (
	PolicyAsk  = "ask"
	PolicyNone = "none"
)

// Limits: one question on screen per sandbox, a few waiting; an unanswered
// question ends as "not opened".
const (
	maxWaiting    = 4
	dialogTimeout = 5 * time.Minute
	// A token bucket as the file chooser's (filechooser/limit.go): a
	// sandbox that asks and asks again would have the user click through a
	// storm of questions, and accept one unread.
	dialogBurst = 4
	dialogEvery = 3 * time.Second
)

// PortalXML is the interface's introspection data.
const PortalXML = `  <interface name="org.freedesktop.portal.OpenURI">
    <method name="OpenURI">
      <arg type="s" name="parent_window" direction="in"/>
      <arg type="s" name="uri" direction="in"/>
      <arg type="a{sv}" name="options" direction="in"/>
      <arg type="o" name="handle" direction="out"/>
    </method>
    <method name="OpenFile">
      <arg type="s" name="parent_window" direction="in"/>
      <arg type="h" name="fd" direction="in"/>
      <arg type="a{sv}" name="options" direction="in"/>
      <arg type="o" name="handle" direction="out"/>
    </method>
    <method name="OpenDirectory">
      <arg type="s" name="parent_window" direction="in"/>
      <arg type="h" name="fd" direction="in"/>
      <arg type="a{sv}" name="options" direction="in"/>
      <arg type="o" name="handle" direction="out"/>
    </method>
    <property name="version" type="u" access="read"/>
  </interface>`

// Dialog shows one airlock-chooser dialog (filechooser.Dialog).
type Dialog func(ctx context.Context, req protocol.Request) (protocol.Response, error)

// Grants finds the grant a descriptor is open on (grants.Registry.ByFD).
type Grants interface {
	ByFD(sandbox string, fd int) (grant.Grant, bool)
}

// Opener opens a link or a host path in the user's host application.
type Opener func(target string) error

// Sandbox is what the portal knows of its sandbox.
type Sandbox struct {
	ID, Name, Icon string
	Color          string // "#rrggbb" or "": the profile's, on the question
	Policy         string // PolicyAsk or PolicyNone (anything else: none)
}

// Portal is the OpenURI portal of one sandbox.
type Portal struct {
	d      *desktop.Desktop
	sb     Sandbox
	reg    Grants
	dialog Dialog
	open   Opener
	log    *slog.Logger

	// turn lets one question at a time be on screen for this sandbox.
	turn sync.Mutex
	// mu guards the fields below.
	mu      sync.Mutex
	waiting int
	bucket  ratelimit.Bucket
}

// Install serves the portal on d's bus. open nil: HostOpener.
func Install(d *desktop.Desktop, sb Sandbox, reg Grants, dialog Dialog, open Opener, log *slog.Logger) *Portal {
	if open == nil {
		open = HostOpener(log)
	}
	p := &Portal{d: d, sb: sb, reg: reg, dialog: dialog, open: open, log: log.With("sandbox", sb.Name, "sandbox_id", sb.ID), bucket: ratelimit.New(dialogBurst, dialogEvery)}
	d.AddInterface(Interface, Version, map[string]busserver.Handler{
		"OpenURI":       p.openURI,
		"OpenFile":      func(c *busserver.Call) ([]any, error) { return p.openFD(c, false) },
		"OpenDirectory": func(c *busserver.Call) ([]any, error) { return p.openFD(c, true) },
	}, PortalXML)
	return p
}

func portalErr(name, msg string) error { return &dbus.Error{Name: name, Body: []any{msg}} }

func (p *Portal) allowed() error {
	if p.sb.Policy != PolicyAsk {
		return portalErr(desktop.ErrNotAllowed, "this sandbox's profile does not let it open links or files in host applications (open_uri = \"none\")")
	}
	return nil
}

func (p *Portal) openURI(c *busserver.Call) ([]any, error) {
	if len(c.Body) != 3 {
		return nil, portalErr(desktop.ErrInvalidArgument, "OpenURI takes (ssa{sv})")
	}
	_, ok1 := c.Body[0].(string)
	uri, ok2 := c.Body[1].(string)
	opts, ok3 := c.Body[2].(map[string]dbus.Variant)
	if !ok1 || !ok2 || !ok3 {
		return nil, portalErr(desktop.ErrInvalidArgument, "OpenURI takes (ssa{sv})")
	}
	if err := p.allowed(); err != nil {
		p.log.Info("open link refused by the profile")
		return nil, err
	}
	scheme, err := protocol.CheckURI(uri)
	if err != nil {
		// Logged without the link: it is the sandbox's data.
		p.log.Info("open link refused", "err", err)
		return nil, portalErr(desktop.ErrNotAllowed, "cannot open this link: "+err.Error())
	}
	return p.ask(c, opts, protocol.OpenURI{URI: uri}, uri, "scheme", scheme)
}

func (p *Portal) openFD(c *busserver.Call, dir bool) ([]any, error) {
	method := "OpenFile"
	if dir {
		method = "OpenDirectory"
	}
	if len(c.Body) != 3 {
		return nil, portalErr(desktop.ErrInvalidArgument, method+" takes (sha{sv})")
	}
	_, ok1 := c.Body[0].(string)
	h, ok2 := c.Body[1].(dbus.UnixFD)
	opts, ok3 := c.Body[2].(map[string]dbus.Variant)
	if !ok1 || !ok2 || !ok3 {
		return nil, portalErr(desktop.ErrInvalidArgument, method+" takes (sha{sv})")
	}
	f, err := c.TakeFD(h, "open-file")
	if err != nil {
		return nil, portalErr(desktop.ErrInvalidArgument, err.Error())
	}
	defer f.Close()
	if err := p.allowed(); err != nil {
		p.log.Info("open file refused by the profile")
		return nil, err
	}
	// Only the descriptor of a file the user granted: the sandbox's own
	// files (its home, /tmp) and the system's are not the user's to open on
	// the host, and a path it names is never looked at.
	g, ok := p.reg.ByFD(p.sb.ID, int(f.Fd()))
	if !ok {
		p.log.Info("open file refused: not a file this sandbox was granted", "method", method)
		return nil, portalErr("org.freedesktop.DBus.Error.AccessDenied", "only a file you were granted can be opened in a host application")
	}
	target := g.HostPath
	o := protocol.OpenURI{Path: g.HostPath}
	if dir {
		target = filepath.Dir(g.HostPath)
		o = protocol.OpenURI{Path: target, Directory: true}
	}
	return p.ask(c, opts, o, target, "path", target)
}

// ask returns the request handle and asks the user on a goroutine; only
// their Yes opens target.
func (p *Portal) ask(c *busserver.Call, opts map[string]dbus.Variant, o protocol.OpenURI, target string, logKV ...any) ([]any, error) {
	p.mu.Lock()
	switch {
	case p.waiting >= maxWaiting:
		p.mu.Unlock()
		return nil, portalErr("org.freedesktop.DBus.Error.LimitsExceeded", "too many questions waiting: answer them first")
	case !p.bucket.Take(time.Now()):
		p.mu.Unlock()
		p.log.Info("open request refused: too many in a short time")
		return nil, portalErr("org.freedesktop.DBus.Error.LimitsExceeded", "too many requests to open in a short time: try again later")
	}
	p.waiting++
	p.mu.Unlock()
	r, err := p.d.NewRequestFor(c, opts)
	if err != nil {
		p.done()
		return nil, err
	}
	req := protocol.Request{
		Mode: protocol.ModeOpenURI, SandboxName: p.sb.Name, SandboxIcon: p.sb.Icon, SandboxColor: p.sb.Color,
		TimeoutSeconds: int(dialogTimeout / time.Second), OpenURI: &o,
	}
	go func() {
		defer p.done()
		code := p.question(r, req)
		if code == desktop.ResponseSuccess {
			if err := p.open(target); err != nil {
				p.log.Warn("cannot open in a host application", append(logKV, "err", err)...)
				code = desktop.ResponseOther
			} else {
				p.log.Info("opened in a host application on the user's word", logKV...)
			}
		}
		r.Respond(code, nil)
	}()
	return []any{r.Path}, nil
}

func (p *Portal) done() {
	p.mu.Lock()
	p.waiting--
	p.mu.Unlock()
}

// question shows the dialog when the sandbox's earlier ones are answered;
// the request closed by the application withdraws it.
func (p *Portal) question(r *desktop.Request, req protocol.Request) uint32 {
	p.turn.Lock()
	defer p.turn.Unlock()
	select {
	case <-r.Closed():
		// Withdrawn by the application while earlier questions were up.
		return desktop.ResponseCancelled
	default:
	}
	if err := protocol.Validate(&req); err != nil {
		p.log.Warn("cannot ask to open", "err", err)
		return desktop.ResponseOther
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-r.Closed():
			cancel()
		case <-ctx.Done():
		}
	}()
	resp, err := p.dialog(ctx, req)
	switch {
	case err != nil:
		p.log.Warn("cannot ask to open", "err", err)
		return desktop.ResponseOther
	case resp.Response == protocol.ResponseSuccess && resp.Answer == protocol.AnswerOpen:
		return desktop.ResponseSuccess
	case resp.Response == protocol.ResponseOther:
		p.log.Info("open question not answered", "err", resp.Error)
		return desktop.ResponseOther
	default:
		p.log.Info("the user did not open it")
		return desktop.ResponseCancelled
	}
}

// HostOpener opens with xdg-open, or GIO's gio open where xdg-utils is
// missing, as the broker's user, detached: the broker does not wait for
// the application. target is a link CheckURI passed (it starts with its
// scheme) or an absolute path: never an option to the opener.
func HostOpener(log *slog.Logger) Opener {
	return func(target string) error {
		if target == "" || target[0] == '-' {
			return errors.New("refusing to open a target that reads as an option")
		}
		var cmd *exec.Cmd
		if p, err := exec.LookPath("xdg-open"); err == nil {
			cmd = exec.Command(p, target)
		} else if p, err := exec.LookPath("gio"); err == nil {
			cmd = exec.Command(p, "open", target)
		} else {
			return errors.New("neither xdg-open nor gio is installed")
		}
		cmd.Env = os.Environ()
		cmd.Stdin = nil
		cmd.Stdout, cmd.Stderr = nil, nil
		if err := cmd.Start(); err != nil {
			return err
		}
		go func() {
			if err := cmd.Wait(); err != nil {
				log.Warn("host opener failed", "opener", cmd.Path, "err", err)
			}
		}()
		return nil
	}
}
