// Package print serves org.freedesktop.portal.Print (version 2) on a
// sandbox's bus. PreparePrint shows Airlock's print dialog (airlock-chooser's
// print mode: GTK's print dialog in the trusted UI process, never in the
// broker) and answers the settings, the page setup and a token; Print hands
// the application's PDF over a descriptor. The broker copies it, checks it
// is a PDF under the cap, sanitises it per profile in a throwaway sandbox
// (print_sanitize: rewrite, rasterize or none) and submits it to CUPS with
// the printer and options the user chose, the job named after the sandbox.
// One audit line per job.
package print

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"

	"airlock/chooser-ui/protocol"
	"airlock/po/i18n"
	"airlock/portal/busserver"
	"airlock/portal/desktop"
	"airlock/portal/ratelimit"
)

// Interface and Version served: xdg-desktop-portal's Print, version 2
// (accept_label). Print-to-file (version 3) is not offered: the dialog lists
// CUPS' printers only.
const (
	Interface = "org.freedesktop.portal.Print"
	Version   = 2
)

// Limits per sandbox.
const (
	maxWaiting    = 4
	dialogTimeout = 10 * time.Minute
	dialogBurst   = 4
	dialogEvery   = 3 * time.Second
	// tokenLife is how long a PreparePrint's choice can be used, as
	// xdg-desktop-portal-gtk keeps it (300 s).
	tokenLife = 5 * time.Minute
	maxTokens = 8
)

// PortalXML is the interface's introspection data.
const PortalXML = `  <interface name="org.freedesktop.portal.Print">
    <method name="PreparePrint">
      <arg type="s" name="parent_window" direction="in"/>
      <arg type="s" name="title" direction="in"/>
      <arg type="a{sv}" name="settings" direction="in"/>
      <arg type="a{sv}" name="page_setup" direction="in"/>
      <arg type="a{sv}" name="options" direction="in"/>
      <arg type="o" name="handle" direction="out"/>
    </method>
    <method name="Print">
      <arg type="s" name="parent_window" direction="in"/>
      <arg type="s" name="title" direction="in"/>
      <arg type="h" name="fd" direction="in"/>
      <arg type="a{sv}" name="options" direction="in"/>
      <arg type="o" name="handle" direction="out"/>
    </method>
    <property name="version" type="u" access="read"/>
  </interface>`

// Dialog shows one airlock-chooser dialog (filechooser.Dialog).
type Dialog func(ctx context.Context, req protocol.Request) (protocol.Response, error)

// Sandbox is what the portal knows of its sandbox, from its profile.
type Sandbox struct {
	ID, Name, Icon string
	Color          string // "#rrggbb" or "": the profile's, on the dialog's header
	Allowed        bool   // the profile's print key
	Sanitize       string // SanitizeRewrite, SanitizeRasterize or SanitizeNone
}

// Config is the machinery a portal uses; zero fields get the defaults.
type Config struct {
	Dialog    Dialog
	Sanitizer Sanitizer
	CUPS      Submitter
	MaxBytes  int64  // DefaultMaxBytes when 0
	TmpDir    string // scratch files; os.TempDir() when ""
	// Notice tells the user, on the host, that a job they confirmed was
	// not printed (Airlock's words; nil: the log only). GTK's portal
	// client does not wait for Print's response, so the application
	// cannot say it.
	Notice func(summary, body string)
}

// Portal is the Print portal of one sandbox.
type Portal struct {
	d   *desktop.Desktop
	sb  Sandbox
	cfg Config
	log *slog.Logger

	// turn lets one dialog at a time be on screen for this sandbox.
	turn sync.Mutex
	// jobs sends one job at a time to the sanitiser and CUPS.
	jobs sync.Mutex
	// mu guards the fields below.
	mu      sync.Mutex
	waiting int
	bucket  ratelimit.Bucket
	tokens  map[uint32]prepared
}

// prepared is a PreparePrint's choice, kept for the Print that follows.
type prepared struct {
	choice  protocol.PrintResult
	expires time.Time
}

// Install serves the portal on d's bus.
func Install(d *desktop.Desktop, sb Sandbox, cfg Config, log *slog.Logger) *Portal {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.CUPS == nil {
		cfg.CUPS = LP{}
	}
	switch sb.Sanitize {
	case SanitizeRewrite, SanitizeRasterize, SanitizeNone:
	default:
		// An unknown word fails closed to the default.
		sb.Sanitize = SanitizeRewrite
	}
	p := &Portal{d: d, sb: sb, cfg: cfg, log: log.With("sandbox", sb.Name, "sandbox_id", sb.ID, "portal", "Print"),
		bucket: ratelimit.New(dialogBurst, dialogEvery), tokens: map[uint32]prepared{}}
	d.AddInterface(Interface, Version, map[string]busserver.Handler{
		"PreparePrint": p.preparePrint,
		"Print":        p.print,
	}, PortalXML)
	return p
}

func portalErr(name, msg string) error { return &dbus.Error{Name: name, Body: []any{msg}} }

func (p *Portal) allowed() error {
	if !p.sb.Allowed {
		return portalErr("org.freedesktop.DBus.Error.AccessDenied", "this sandbox's profile does not let it print (print = false)")
	}
	return nil
}

// admit counts a request that will show a dialog: a few wait, and a
// sandbox that asks again and again is slowed down.
func (p *Portal) admit() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.waiting >= maxWaiting:
		return portalErr("org.freedesktop.DBus.Error.LimitsExceeded", "too many print dialogs waiting: answer them first")
	case !p.bucket.Take(time.Now()):
		return portalErr("org.freedesktop.DBus.Error.LimitsExceeded", "too many print requests in a short time: try again later")
	}
	p.waiting++
	return nil
}

func (p *Portal) done() {
	p.mu.Lock()
	p.waiting--
	p.mu.Unlock()
}

func (p *Portal) preparePrint(c *busserver.Call) ([]any, error) {
	const sig = "PreparePrint takes (ssa{sv}a{sv}a{sv})"
	if len(c.Body) != 5 {
		return nil, portalErr(desktop.ErrInvalidArgument, sig)
	}
	_, ok0 := c.Body[0].(string)
	title, ok1 := c.Body[1].(string)
	settings, ok2 := c.Body[2].(map[string]dbus.Variant)
	setup, ok3 := c.Body[3].(map[string]dbus.Variant)
	opts, ok4 := c.Body[4].(map[string]dbus.Variant)
	if !ok0 || !ok1 || !ok2 || !ok3 || !ok4 {
		return nil, portalErr(desktop.ErrInvalidArgument, sig)
	}
	if err := p.allowed(); err != nil {
		p.log.Info("print refused by the profile", "method", "PreparePrint")
		return nil, err
	}
	job, err := parseHints(title, settings, setup, opts)
	if err != nil {
		p.log.Info("refused print request", "method", "PreparePrint", "err", err)
		return nil, portalErr(desktop.ErrInvalidArgument, err.Error())
	}
	if err := p.admit(); err != nil {
		p.log.Info("print dialog refused", "err", err)
		return nil, err
	}
	r, err := p.d.NewRequestFor(c, opts)
	if err != nil {
		p.done()
		return nil, err
	}
	p.log.Info("print dialog requested", "method", "PreparePrint", "caller", c.Sender, "request", r.Path)
	go func() {
		defer p.done()
		choice, code := p.ask(r, job)
		if code != desktop.ResponseSuccess {
			r.Respond(code, nil)
			return
		}
		token := p.remember(choice)
		r.Respond(desktop.ResponseSuccess, map[string]dbus.Variant{
			"settings":   dbus.MakeVariant(settingsOut(choice.Settings)),
			"page-setup": dbus.MakeVariant(pageSetupOut(choice.PageSetup)),
			"token":      dbus.MakeVariant(token),
		})
	}()
	return []any{r.Path}, nil
}

func (p *Portal) print(c *busserver.Call) ([]any, error) {
	const sig = "Print takes (ssha{sv})"
	if len(c.Body) != 4 {
		return nil, portalErr(desktop.ErrInvalidArgument, sig)
	}
	_, ok0 := c.Body[0].(string)
	title, ok1 := c.Body[1].(string)
	h, ok2 := c.Body[2].(dbus.UnixFD)
	opts, ok3 := c.Body[3].(map[string]dbus.Variant)
	if !ok0 || !ok1 || !ok2 || !ok3 {
		return nil, portalErr(desktop.ErrInvalidArgument, sig)
	}
	f, err := c.TakeFD(h, "print-document")
	if err != nil {
		return nil, portalErr(desktop.ErrInvalidArgument, err.Error())
	}
	defer f.Close()
	if err := p.allowed(); err != nil {
		p.audit("", 0, 0, "refused: print = false")
		return nil, err
	}
	if len(title) > protocol.MaxStringBytes {
		return nil, portalErr(desktop.ErrInvalidArgument, "title is too long")
	}
	var token uint32
	if v, ok := opts["token"]; ok {
		t, ok := v.Value().(uint32)
		if !ok {
			return nil, portalErr(desktop.ErrInvalidArgument, "token must be a uint32")
		}
		token = t
	}
	// The document is read and checked before anything else: a bad one
	// is refused to the application with the reason, and never reaches a
	// dialog, a parser or CUPS.
	doc, size, err := readDocument(f, p.cfg.MaxBytes, p.cfg.TmpDir)
	if err != nil {
		p.audit("", 0, size, "refused: "+err.Error())
		return nil, portalErr(desktop.ErrInvalidArgument, err.Error())
	}
	choice, haveToken := p.take(token)
	if !haveToken {
		if err := p.admit(); err != nil {
			doc.Close()
			return nil, err
		}
	}
	r, err := p.d.NewRequestFor(c, opts)
	if err != nil {
		doc.Close()
		if !haveToken {
			p.done()
		}
		return nil, err
	}
	jobTitle := protocol.Clean(title, protocol.MaxAppTitle)
	go func() {
		defer doc.Close()
		if !haveToken {
			// Print without PreparePrint (or with a token that is
			// unknown, used or expired): the dialog first.
			var code uint32
			choice, code = p.ask(r, protocol.Print{Title: title})
			p.done()
			if code != desktop.ResponseSuccess {
				p.audit("", 0, size, "cancelled")
				r.Respond(code, nil)
				return
			}
		}
		r.Respond(p.printJob(choice, jobTitle, doc, size), nil)
	}()
	return []any{r.Path}, nil
}

// printJob sanitises the document and submits it; the code answers the
// application.
func (p *Portal) printJob(choice protocol.PrintResult, title string, doc *os.File, size int64) uint32 {
	p.jobs.Lock()
	defer p.jobs.Unlock()
	// Not tied to the request: the user pressed Print, and GTK's portal
	// client does not wait for the Response (it exits once Print
	// returned its handle, which closes the request). The job goes on;
	// the sanitiser and lp have their own time limits.
	ctx := context.Background()
	if err := p.cfg.CUPS.Available(ctx, choice.Printer); err != nil {
		p.audit(choice.Printer, 0, size, "failed: "+err.Error())
		p.notFor(i18n.T("The printer “%s” is not available.", choice.Printer))
		return desktop.ResponseOther
	}
	pages := 0
	if p.sb.Sanitize != SanitizeNone {
		if p.cfg.Sanitizer == nil {
			p.audit(choice.Printer, 0, size, "failed: no sanitiser")
			p.notFor(i18n.T("Airlock cannot make documents safe to print here: its sandbox launcher is missing."))
			return desktop.ResponseOther
		}
		start := time.Now()
		out, n, err := p.cfg.Sanitizer.Sanitize(ctx, p.sb.Sanitize, doc, p.cfg.TmpDir)
		if err != nil {
			p.audit(choice.Printer, 0, size, "refused: "+err.Error())
			p.notFor(i18n.T("Airlock could not read the document safely: it is damaged, or not the PDF it claims to be."))
			return desktop.ResponseOther
		}
		defer out.Close()
		p.log.Debug("document sanitised", "sanitizer", p.sb.Sanitize, "pages", n, "after", time.Since(start))
		doc, pages = out, n
	}
	name := p.sb.Name + ": " + title
	if title == "" {
		name = p.sb.Name
	}
	id, err := p.cfg.CUPS.Submit(ctx, Job{Printer: choice.Printer, Title: name, Options: lpOptions(&choice), Doc: doc})
	if err != nil {
		p.audit(choice.Printer, pages, size, "failed: "+err.Error())
		p.notFor(i18n.T("CUPS did not take the job for “%s”.", choice.Printer))
		return desktop.ResponseOther
	}
	p.audit(choice.Printer, pages, size, "submitted", "job", id)
	return desktop.ResponseSuccess
}

// notFor tells the user that the job they confirmed in the dialog was not
// printed, and why (Airlock's words, never the application's title).
func (p *Portal) notFor(why string) {
	summary := i18n.T("%s could not print", p.sb.Name)
	body := why + " " + i18n.T("Nothing was sent to the printer.")
	p.log.Info("print notice", "summary", summary, "body", body)
	if p.cfg.Notice != nil {
		p.cfg.Notice(summary, body)
	}
}

// audit is the one log line per job.
func (p *Portal) audit(printer string, pages int, size int64, result string, kv ...any) {
	args := append([]any{"printer", printer, "pages", pages, "bytes", size, "sanitizer", p.sb.Sanitize, "result", result}, kv...)
	p.log.Info("print job", args...)
}

// ask shows the print dialog when the sandbox's earlier ones are answered.
func (p *Portal) ask(r *desktop.Request, job protocol.Print) (protocol.PrintResult, uint32) {
	p.turn.Lock()
	defer p.turn.Unlock()
	select {
	case <-r.Closed():
		return protocol.PrintResult{}, desktop.ResponseCancelled
	default:
	}
	if p.cfg.Dialog == nil {
		p.log.Warn("no print dialog can be shown")
		return protocol.PrintResult{}, desktop.ResponseOther
	}
	req := protocol.Request{Mode: protocol.ModePrint, SandboxName: p.sb.Name, SandboxIcon: p.sb.Icon,
		SandboxColor: p.sb.Color, TimeoutSeconds: int(dialogTimeout / time.Second), Print: &job}
	if err := protocol.Validate(&req); err != nil {
		p.log.Warn("cannot show the print dialog", "err", err)
		return protocol.PrintResult{}, desktop.ResponseOther
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
	resp, err := p.cfg.Dialog(ctx, req)
	switch {
	case err != nil:
		p.log.Warn("print dialog failed", "err", err)
		return protocol.PrintResult{}, desktop.ResponseOther
	case resp.Response == protocol.ResponseCancelled:
		p.log.Info("print dialog cancelled")
		return protocol.PrintResult{}, desktop.ResponseCancelled
	case resp.Response != protocol.ResponseSuccess || resp.Print == nil:
		p.log.Info("print dialog not answered", "err", resp.Error)
		return protocol.PrintResult{}, desktop.ResponseOther
	}
	c := *resp.Print
	// The chooser is trusted, but what it answers still goes to lp.
	if !protocol.ValidPrinterName(c.Printer) || protocol.ValidateSettings(c.Settings) != nil || protocol.ValidatePageSetup(&c.PageSetup) != nil {
		p.log.Warn("print dialog answered an invalid choice")
		return protocol.PrintResult{}, desktop.ResponseOther
	}
	p.log.Info("print dialog answered", "printer", c.Printer)
	return c, desktop.ResponseSuccess
}

// remember keeps a choice for a later Print and returns its token
// (random, never 0: 0 is "no token").
func (p *Portal) remember(c protocol.PrintResult) uint32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	for t, e := range p.tokens {
		if now.After(e.expires) {
			delete(p.tokens, t)
		}
	}
	for len(p.tokens) >= maxTokens {
		var oldest uint32
		var at time.Time
		for t, e := range p.tokens {
			if oldest == 0 || e.expires.Before(at) {
				oldest, at = t, e.expires
			}
		}
		delete(p.tokens, oldest)
	}
	for {
		var b [4]byte
		rand.Read(b[:])
		t := binary.LittleEndian.Uint32(b[:])
		if _, used := p.tokens[t]; t != 0 && !used {
			p.tokens[t] = prepared{choice: c, expires: now.Add(tokenLife)}
			return t
		}
	}
}

// take uses a token once. Tokens are this sandbox's only: each portal
// holds its own.
func (p *Portal) take(t uint32) (protocol.PrintResult, bool) {
	if t == 0 {
		return protocol.PrintResult{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.tokens[t]
	delete(p.tokens, t)
	if !ok || time.Now().After(e.expires) {
		return protocol.PrintResult{}, false
	}
	return e.choice, true
}
