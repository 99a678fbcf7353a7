// Package filechooser serves org.freedesktop.portal.FileChooser (version 4)
// on a sandbox's bus. The application asks; Airlock's own chooser, a separate
// GTK process on the host display, shows the user what the sandbox is; the
// files the user picks are granted to that sandbox alone, and the application
// receives file:// URIs of their paths inside the sandbox.
package filechooser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"

	"airlock/chooser-ui/protocol"
	"airlock/po/i18n"
	"airlock/portal/busserver"
	"airlock/portal/desktop"
	"airlock/portal/grant"
	"airlock/portal/grants"
)

// Interface and version.
const (
	Interface = "org.freedesktop.portal.FileChooser"
	Version   = 4
)

// Grants is the grant registry (*grants.Registry) as the portal uses it:
// named here, by its user, so that the portal's unit tests can stand in for
// it without a FUSE mount.
type Grants interface {
	// Grant resolves the user's pick once and makes it visible in the
	// sandbox (portal/grants).
	Grant(sandbox, hostPath string, mode grants.Mode, writable bool) (grant.Grant, error)
	// Resolve maps a path inside the sandbox back to a granted host path.
	Resolve(sandbox, insidePath string) (hostPath string, dir, ok bool)
}

// Dialog shows the trusted chooser and returns the user's answer.
type Dialog func(ctx context.Context, req protocol.Request) (protocol.Response, error)

// Sandbox is what the portal knows of the sandbox a bus belongs to.
type Sandbox struct {
	ID, Profile       string
	DisplayName, Icon string
	ReadOnlyDefault   bool
	Color             string // "#rrggbb" or "": the profile's, on the dialog's header
}

// Portal is the FileChooser of one sandbox bus.
type Portal struct {
	sb      Sandbox
	desk    *desktop.Desktop
	grants  Grants
	dialog  Dialog
	folders *Folders
	log     *slog.Logger
	timeout time.Duration
	home    string
	places  protocol.Places
	// gate shows this sandbox's choosers one at a time, rate-limited.
	gate *dialogGate
}

// Install adds the FileChooser to a sandbox's desktop portal.
func Install(d *desktop.Desktop, sb Sandbox, g Grants, dialog Dialog, folders *Folders, log *slog.Logger) *Portal {
	home, _ := os.UserHomeDir()
	p := &Portal{sb: sb, desk: d, grants: g, dialog: dialog, folders: folders, timeout: 10 * time.Minute, home: home,
		places: protocol.PlacesFromEnv(), gate: newDialogGate(),
		log: portalLog(log, sb)}
	methods := map[string]busserver.Handler{
		"OpenFile":  func(c *busserver.Call) ([]any, error) { return p.handle(c, "OpenFile") },
		"SaveFile":  func(c *busserver.Call) ([]any, error) { return p.handle(c, "SaveFile") },
		"SaveFiles": func(c *busserver.Call) ([]any, error) { return p.handle(c, "SaveFiles") },
	}
	d.AddInterface(Interface, Version, methods, introspectXML)
	return p
}

// portalLog names the sandbox on every line the portal logs.
func portalLog(log *slog.Logger, sb Sandbox) *slog.Logger {
	return log.With("sandbox", sb.DisplayName, "sandbox_id", sb.ID, "portal", "FileChooser")
}

// SetTimeout changes how long a dialog may stay open (tests).
func (p *Portal) SetTimeout(d time.Duration) { p.timeout = d }

func (p *Portal) handle(c *busserver.Call, method string) ([]any, error) {
	if len(c.Body) != 3 {
		return nil, invalid("%s takes (ssa{sv})", method)
	}
	// parent_window is ignored: it names a window on the sandbox's own
	// display, which the host display does not know.
	title, ok1 := c.Body[1].(string)
	opts, ok2 := c.Body[2].(map[string]dbus.Variant)
	if _, ok0 := c.Body[0].(string); !ok0 || !ok1 || !ok2 {
		return nil, invalid("%s takes (ssa{sv})", method)
	}
	if len(title) > maxStringBytes {
		return nil, invalid("title is too long")
	}
	po, derr := parseOptions(opts, method)
	if derr != nil {
		p.log.Info("refused request", "method", method, "caller", c.Sender, "reason", derr.Body)
		return nil, derr
	}
	req, err := p.desk.NewRequestFor(c, opts)
	if err != nil {
		return nil, err
	}
	turn, first, ended, gerr := p.gate.admit()
	if gerr != nil {
		// Answered, not refused as a D-Bus error: the application sees a
		// failed dialog, as after a chooser that could not start.
		if first {
			// p.log names the sandbox (display name and id).
			p.log.Warn("file chooser refused: "+gerr.Error(), "method", method)
		}
		go req.Respond(desktop.ResponseOther, emptyResults())
		return []any{req.Path}, nil
	}
	if ended > 0 {
		p.log.Warn("file chooser requests were refused", "refused", ended)
	}
	creq := p.chooserRequest(method, title, po)
	p.log.Info("file chooser requested", "method", method, "caller", c.Sender, "request", req.Path)
	go p.run(req, method, po, creq, turn)
	return []any{req.Path}, nil
}

// chooserRequest builds the trusted chooser's request. The sandbox's name
// and icon come from its profile, through the launcher: never from the app.
func (p *Portal) chooserRequest(method, title string, po *parsed) protocol.Request {
	r := protocol.Request{
		SandboxName:     p.sb.DisplayName,
		SandboxIcon:     p.sb.Icon,
		SandboxColor:    p.sb.Color,
		AppTitle:        protocol.Clean(title, protocol.MaxAppTitle),
		AcceptLabel:     protocol.Clean(po.acceptLabel, protocol.MaxAcceptLabel),
		Filters:         po.filters,
		CurrentFilter:   po.currentFilter,
		Choices:         po.choices,
		TimeoutSeconds:  int(p.timeout / time.Second),
		ReadOnlyDefault: p.sb.ReadOnlyDefault,
	}
	switch method {
	case "OpenFile":
		r.Mode = protocol.ModeOpen
		r.Multiple, r.Directory = po.multiple, po.directory
		r.ShowReadOnly = true
	case "SaveFile":
		r.Mode = protocol.ModeSave
		r.CurrentName = po.currentName
	case "SaveFiles":
		r.Mode = protocol.ModeSaveFiles
		r.Files = po.files
	}
	r.CurrentFolder = p.hostFolder(po.currentFolder)
	if po.currentFile != "" {
		// Only a file this sandbox was granted maps to a host path; any
		// other path the application names means nothing on the host.
		if hp, dir, ok := p.grants.Resolve(p.sb.ID, po.currentFile); ok && !dir {
			r.CurrentFile = hp
			if r.CurrentFolder == "" {
				r.CurrentFolder = filepath.Dir(hp)
			}
			if r.CurrentName == "" {
				r.CurrentName = filepath.Base(hp)
			}
		} else {
			// Qt 5.15 names the file to save only this way, as a path in
			// the sandbox's own home (QXdgDesktopPortalFileDialog sends
			// current_file and no current_name). That path means nothing
			// on the host and is never shown or used; its last element is
			// what the user typed or the app suggested, so it becomes the
			// suggested name once it passes the same check as current_name.
			p.log.Info("ignored current_file outside the sandbox's grants", "path", po.currentFile)
			if r.CurrentName == "" && method == "SaveFile" {
				r.CurrentName = suggestedName(po.currentFile)
			}
		}
	}
	if r.CurrentFolder == "" {
		r.CurrentFolder = p.folders.Get(p.sb.Profile, p.home)
	}
	return r
}

// suggestedName is the base name of a sandbox path, or "" when that is not
// a plain file name (checkName: no slash, no control character, not . or
// .., valid UTF-8, at most NAME_MAX bytes).
func suggestedName(inside string) string {
	if strings.HasSuffix(inside, "/") {
		return ""
	}
	n := inside[strings.LastIndexByte(inside, '/')+1:]
	if checkName("current_file", n) != nil {
		return ""
	}
	return n
}

// hostFolder maps current_folder (a path inside the sandbox) to a host folder
// the sandbox already holds; anything else is neutralised to "".
func (p *Portal) hostFolder(inside string) string {
	if inside == "" {
		return ""
	}
	hp, dir, ok := p.grants.Resolve(p.sb.ID, inside)
	if !ok {
		p.log.Info("ignored current_folder outside the sandbox's grants", "path", inside)
		return ""
	}
	if !dir {
		return filepath.Dir(hp)
	}
	return hp
}

// emptyResults is what a cancelled or failed request answers. "uris" is
// always present: GTK 3.24's portal client walks the list without checking
// for its absence, and crashes (as xdg-desktop-portal-gtk always sends it,
// zenity --file-selection segfaulted on Cancel until this was added).
func emptyResults() map[string]dbus.Variant {
	return map[string]dbus.Variant{"uris": dbus.MakeVariant([]string{})}
}

func (p *Portal) run(req *desktop.Request, method string, po *parsed, creq protocol.Request, turn chan struct{}) {
	defer p.gate.leave(turn)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Request.Close from the application ends the dialog; no
		// Response is sent then (the portal API says so).
		select {
		case <-req.Closed():
			cancel()
		case <-ctx.Done():
		}
	}()
	select {
	case <-turn:
	case <-ctx.Done():
		p.log.Info("file chooser closed by the application while waiting", "request", req.Path)
		return
	}
	resp, err := p.dialog(ctx, creq)
	select {
	case <-req.Closed():
		p.log.Info("file chooser closed by the application", "request", req.Path)
		return
	default:
	}
	if err != nil {
		p.log.Warn("file chooser failed", "method", method, "err", err)
		req.Respond(desktop.ResponseOther, emptyResults())
		return
	}
	if resp.Response != protocol.ResponseSuccess {
		p.log.Info("file chooser answered", "method", method, "response", resp.Response, "err", resp.Error)
		code := resp.Response
		if code != protocol.ResponseCancelled {
			code = desktop.ResponseOther
		}
		req.Respond(code, emptyResults())
		return
	}
	results, err := p.grant(method, po, resp)
	if err != nil {
		p.log.Warn("cannot grant the chosen files", "method", method, "err", err)
		req.Respond(desktop.ResponseOther, emptyResults())
		return
	}
	req.Respond(desktop.ResponseSuccess, results)
}

// grant turns the user's choice into grants and the portal's results. The
// paths are the chooser's; the registry resolves and checks each once
// (symbolic links refused, kinds checked). Of several files (OpenFile with
// multiple, SaveFiles), one that cannot be granted is skipped and logged, as
// xdg-desktop-portal does: the others are answered. Only a request of which
// nothing could be granted fails.
func (p *Portal) grant(method string, po *parsed, resp protocol.Response) (map[string]dbus.Variant, error) {
	if len(resp.Paths) == 0 {
		return nil, errors.New("chooser returned no path")
	}
	type pick struct {
		hostPath string
		mode     grants.Mode
		writable bool
	}
	var picks []pick
	switch method {
	case "OpenFile":
		paths := resp.Paths
		if !po.multiple {
			paths = paths[:1]
		}
		for _, hp := range paths {
			picks = append(picks, pick{hp, grants.Open, !resp.ReadOnly})
		}
	case "SaveFile":
		picks = append(picks, pick{resp.Paths[0], grants.Save, true})
	case "SaveFiles":
		// The chooser answers the folder; the names are the application's
		// (checked by parseOptions), each granted in that folder.
		for _, n := range po.files {
			picks = append(picks, pick{filepath.Join(resp.Paths[0], n), grants.Save, true})
		}
	}
	// A write the chooser's risk check flags (a dotfile, autostart, ~/.ssh,
	// ...) needs the user's second, explicit confirmation: the chooser
	// says it got one. Without it nothing at all is granted.
	for _, pk := range picks {
		if pk.writable {
			if err := p.checkRisk(pk.hostPath, resp); err != nil {
				return nil, err
			}
		}
	}
	var uris []string
	var firstErr error
	for _, pk := range picks {
		g, err := p.grants.Grant(p.sb.ID, pk.hostPath, pk.mode, pk.writable)
		if err != nil {
			p.log.Warn("skipped a file that cannot be granted", "method", method, "host_path", pk.hostPath, "err", err)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		uris = append(uris, (&url.URL{Scheme: "file", Path: g.Inside}).String())
		p.log.Info("granted", "host_path", g.HostPath, "inside", g.Inside, "doc", g.DocID, "writable", g.Writable, "dir", g.Dir)
	}
	if len(uris) == 0 {
		return nil, firstErr
	}
	folder := filepath.Clean(resp.Paths[0])
	if method != "SaveFiles" {
		folder = filepath.Dir(folder)
	}
	if err := p.folders.Set(p.sb.Profile, folder); err != nil {
		p.log.Warn("cannot remember the chooser's last folder", "err", err)
	}
	results := map[string]dbus.Variant{"uris": dbus.MakeVariant(uris)}
	// Only the application's own choices go back, never the read-only switch.
	known := map[string]bool{}
	for _, c := range po.choices {
		known[c.ID] = true
	}
	var choices [][]any
	for _, c := range resp.Choices {
		if known[c[0]] {
			choices = append(choices, []any{c[0], c[1]})
		}
	}
	if len(po.choices) > 0 {
		results["choices"] = dbus.MakeVariant(toChoiceStructs(choices))
	}
	if resp.CurrentFilter != nil {
		results["current_filter"] = dbus.MakeVariant(filterStruct(*resp.CurrentFilter))
	}
	return results, nil
}

// checkRisk refuses a save path, or a writable open, that a shell, the session or the desktop
// reads (~/.bash_aliases, ~/.config/autostart/..., *.desktop) unless the
// chooser says the user confirmed it in a dialog that named the risk: the
// broker does not trust that the chooser asked.
func (p *Portal) checkRisk(hostPath string, resp protocol.Response) error {
	if r := p.places.WriteRisk(hostPath); r != protocol.RiskNone && !resp.RiskConfirmed {
		return fmt.Errorf("the user did not confirm writing %q (risk %d)", hostPath, r)
	}
	return nil
}

type choicePair struct{ ID, Value string }

func toChoiceStructs(c [][]any) []choicePair {
	out := make([]choicePair, 0, len(c))
	for _, x := range c {
		out = append(out, choicePair{x[0].(string), x[1].(string)})
	}
	return out
}

type ruleStruct struct {
	Kind  uint32
	Value string
}

type filterOut struct {
	Name  string
	Rules []ruleStruct
}

func filterStruct(f protocol.Filter) filterOut {
	out := filterOut{Name: f.Name}
	for _, p := range f.Patterns {
		out.Rules = append(out.Rules, ruleStruct{uint32(p.Kind), p.Value})
	}
	return out
}

// Folders remembers the last folder used per profile, across runs, in
// $XDG_STATE_HOME/airlock/last-folders.json.
type Folders struct {
	path string
	// mu guards last.
	mu   sync.Mutex
	last map[string]string
}

// NewFolders loads the remembered folders.
func NewFolders() *Folders {
	f := &Folders{last: map[string]string{}}
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		if h, err := os.UserHomeDir(); err == nil {
			dir = filepath.Join(h, ".local", "state")
		}
	}
	if dir != "" {
		f.path = filepath.Join(dir, "airlock", "last-folders.json")
		if b, err := os.ReadFile(f.path); err == nil {
			json.Unmarshal(b, &f.last)
		}
	}
	return f
}

// Get returns the profile's last folder if it still exists, else def.
func (f *Folders) Get(profile, def string) string {
	f.mu.Lock()
	d := f.last[profile]
	f.mu.Unlock()
	if st, err := os.Stat(d); d != "" && err == nil && st.IsDir() {
		return d
	}
	return def
}

// Set remembers folder for profile, in memory and on disk; an error says
// the disk copy was not written (the memory one is).
func (f *Folders) Set(profile, folder string) error {
	f.mu.Lock()
	f.last[profile] = folder
	b, err := json.Marshal(f.last)
	f.mu.Unlock()
	if err != nil || f.path == "" {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return err
	}
	tmp := f.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, f.path)
}

// Title is the translated dialog purpose, for logs and tests.
func Title(mode, name string) string {
	switch mode {
	case protocol.ModeSave, protocol.ModeSaveFiles:
		return i18n.T("%s wants to save a file", name)
	}
	return i18n.T("%s wants to open a file", name)
}

const introspectXML = `<interface name="org.freedesktop.portal.FileChooser">
  <method name="OpenFile"><arg type="s" name="parent_window" direction="in"/><arg type="s" name="title" direction="in"/><arg type="a{sv}" name="options" direction="in"/><arg type="o" name="handle" direction="out"/></method>
  <method name="SaveFile"><arg type="s" name="parent_window" direction="in"/><arg type="s" name="title" direction="in"/><arg type="a{sv}" name="options" direction="in"/><arg type="o" name="handle" direction="out"/></method>
  <method name="SaveFiles"><arg type="s" name="parent_window" direction="in"/><arg type="s" name="title" direction="in"/><arg type="a{sv}" name="options" direction="in"/><arg type="o" name="handle" direction="out"/></method>
  <property name="version" type="u" access="read"/>
</interface>`
