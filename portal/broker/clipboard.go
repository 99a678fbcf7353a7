package broker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"

	"airlock/chooser-ui/protocol"
	"airlock/po/i18n"
	"airlock/portal/clipboard"
	"airlock/portal/control"
	"airlock/portal/notification"
)

// clipboardOptions are Airlock's clipboard settings. AIRLOCK_CLIPBOARD_TIMEOUT
// (a Go duration, "60s") shortens or lengthens how long a copy is kept; the
// tests use it.
func (b *Broker) clipboardOptions() clipboard.Options {
	o := clipboard.Options{Confirm: b.confirmClipboard}
	if v := os.Getenv("AIRLOCK_CLIPBOARD_TIMEOUT"); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d > 0 && d <= 24*time.Hour {
			o.Timeout = d
		}
	}
	return o
}

// clipDomain resolves a clipboard domain: a registered sandbox by id, or
// the host display ($DISPLAY of the broker's session). A sandbox is
// reached only through the display its launcher registered (AttachDisplay),
// never through anything the sandbox names.
func (b *Broker) clipDomain(key string) (clipboard.Domain, *dbus.Error) {
	if key == control.ClipboardDomainHost {
		if os.Getenv("DISPLAY") == "" {
			return clipboard.Domain{}, failed("the broker has no host display (DISPLAY is not set)")
		}
		// The host session is the user's own: the user's action on the
		// command line is the consent in both directions.
		return clipboard.Domain{ID: clipboard.HostID, Name: "host", Copy: clipboard.PolicyAllow, Paste: clipboard.PolicyAllow}, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	sb, ok := b.sandboxes[key]
	if !ok {
		return clipboard.Domain{}, failed("no sandbox %s", key)
	}
	return clipboard.Domain{
		ID: sb.ID, Name: sb.DisplayName,
		Display: clipboard.Display{Socket: sb.XSocket, Cookie: sb.XCookie},
		Copy:    sb.ClipCopy, Paste: sb.ClipPaste,
		MaxText: sb.ClipMaxText, MaxImg: sb.ClipMaxImage, Keep: sb.ClipKeep,
	}, nil
}

func clipError(err error) *dbus.Error {
	if errors.Is(err, clipboard.ErrPolicy) || errors.Is(err, clipboard.ErrAsk) || errors.Is(err, clipboard.ErrRefused) {
		return accessDenied("%v", err)
	}
	return failed("%v", err)
}

func (o controlObject) ClipboardCopy(sender dbus.Sender, domain string) (string, uint64, *dbus.Error) {
	b := o.b
	if !b.callerOK(sender) {
		return "", 0, accessDenied("caller is not uid %d", b.uid)
	}
	d, derr := b.clipDomain(domain)
	if derr != nil {
		return "", 0, derr
	}
	info, err := b.clip.Copy(d)
	if err != nil {
		return "", 0, clipError(err)
	}
	return info.Kind, uint64(info.Size), nil
}

func (o controlObject) ClipboardPaste(sender dbus.Sender, domain string) (string, uint64, string, *dbus.Error) {
	b := o.b
	if !b.callerOK(sender) {
		return "", 0, "", accessDenied("caller is not uid %d", b.uid)
	}
	d, derr := b.clipDomain(domain)
	if derr != nil {
		return "", 0, "", derr
	}
	info, err := b.clip.Paste(d)
	if err != nil {
		return "", 0, "", clipError(err)
	}
	return info.Kind, uint64(info.Size), info.Source, nil
}

func (o controlObject) ClipboardShow(sender dbus.Sender) (string, uint64, string, *dbus.Error) {
	b := o.b
	if !b.callerOK(sender) {
		return "", 0, "", accessDenied("caller is not uid %d", b.uid)
	}
	info, ok := b.clip.Show()
	if !ok {
		return "", 0, "", nil
	}
	return info.Kind, uint64(info.Size), info.Source, nil
}

func (o controlObject) ClipboardClear(sender dbus.Sender) *dbus.Error {
	b := o.b
	if !b.callerOK(sender) {
		return accessDenied("caller is not uid %d", b.uid)
	}
	b.clip.Clear()
	return nil
}

// clipboardKeys reads AIRLOCK_CLIPBOARD_KEYS ("COPY,PASTE", for example
// "ctrl+shift+c,ctrl+shift+v", the default; "none" grabs nothing).
func clipboardKeys() (copyKey, pasteKey clipboard.Key, on bool, err error) {
	v := os.Getenv("AIRLOCK_CLIPBOARD_KEYS")
	if v == "none" {
		return copyKey, pasteKey, false, nil
	}
	if v == "" {
		v = clipboard.DefaultCopyKey + "," + clipboard.DefaultPasteKey
	}
	c, p, ok := strings.Cut(v, ",")
	if !ok {
		return copyKey, pasteKey, false, fmt.Errorf("AIRLOCK_CLIPBOARD_KEYS=%q is not COPY,PASTE", v)
	}
	if copyKey, err = clipboard.ParseKey(c); err != nil {
		return
	}
	if pasteKey, err = clipboard.ParseKey(p); err != nil {
		return
	}
	return copyKey, pasteKey, true, nil
}

// StartClipboardKeys grabs the copy and paste keys on the host display
// ($DISPLAY): pressed while a sandbox's nested display has the focus, they
// copy from or paste into that sandbox; over any other window, the host.
func (b *Broker) StartClipboardKeys() {
	if os.Getenv("DISPLAY") == "" {
		return
	}
	ck, pk, on, err := clipboardKeys()
	if err != nil {
		b.log.Warn("no clipboard keys", "err", err)
		return
	}
	if !on {
		return
	}
	keys, err := clipboard.GrabKeys(clipboard.Display{}, ck, pk)
	if err != nil {
		b.log.Warn("no clipboard keys", "err", err)
		return
	}
	b.log.Info("clipboard keys grabbed on the host display")
	go func() {
		err := keys.Run(func(p clipboard.Press) { go b.keyPress(p) })
		b.log.Info("clipboard keys released", "err", err)
	}()
}

// domainOfPid is the sandbox whose nested server has host pid pid, or the
// host.
func (b *Broker) domainOfPid(pid uint32) string {
	if pid == 0 {
		return control.ClipboardDomainHost
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, sb := range b.sandboxes {
		if sb.XPid == pid && sb.XSocket != "" {
			return id
		}
	}
	return control.ClipboardDomainHost
}

func (b *Broker) keyPress(p clipboard.Press) {
	key := b.domainOfPid(p.Pid)
	d, derr := b.clipDomain(key)
	if derr != nil {
		b.log.Info("clipboard key: no domain", "domain", key, "err", derr)
		return
	}
	var info clipboard.Info
	var err error
	if p.Action == clipboard.ActionCopy {
		info, err = b.clip.Copy(d)
	} else {
		info, err = b.clip.Paste(d)
	}
	var summary, body string
	switch {
	case err != nil && p.Action == clipboard.ActionCopy:
		summary, body = i18n.T("Nothing copied from %s", d.Name), err.Error()
	case err != nil:
		summary, body = i18n.T("Nothing pasted into %s", d.Name), err.Error()
	case p.Action == clipboard.ActionCopy:
		summary = i18n.T("Copied %s from %s", describe(info), d.Name)
		body = i18n.T("Press %s in another window to paste it there.", "Ctrl+Shift+V")
	default:
		summary = i18n.T("Pasted %s from %s into %s", describe(info), info.Source, d.Name)
	}
	b.notifyClipboard(summary, body)
}

func describe(i clipboard.Info) string {
	if i.Kind == clipboard.KindImage {
		return i18n.T("an image of %s", humanSize(i.Size))
	}
	return i18n.T("%s of text", humanSize(i.Size))
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}

// notifyClipboard tells the user what moved: a notice Airlock draws on the
// host display (airlock-chooser), and the host's notification server when
// there is one; the audit log has it anyway.
func (b *Broker) notifyClipboard(summary, body string) {
	b.log.Info("clipboard notification", "summary", summary, "body", body)
	b.notice("", summary, body)
}

// notice shows Airlock's own words (never a sandbox's text) in a notice
// window airlock-chooser draws on the host display, titled title (the
// clipboard's title when ""), and sends them to the host's notification
// server when there is one. The caller logs them.
func (b *Broker) notice(title, summary, body string) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		req := protocol.Request{Mode: protocol.ModeNotice, SandboxName: "Airlock", Notice: &protocol.Notice{Title: title, Summary: summary, Body: body}}
		if _, err := b.dialog(ctx, req); err != nil {
			b.log.Debug("no notice on screen", "summary", summary, "err", err)
		}
	}()
	if b.notes == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := b.notes.Notify(ctx, notification.Notify{AppName: "Airlock", Summary: notification.PlainText(summary, 200), Body: notification.Escape(body, 400), Timeout: 4000}, notification.Events{}); err != nil {
		b.log.Debug("no host notification", "summary", summary, "err", err)
	}
}

// confirmClipboard shows Airlock's question for a crossing a profile says
// "ask" about, in airlock-chooser on the host display. It waits at most a
// minute; no answer is a no.
func (b *Broker) confirmClipboard(q clipboard.Question) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 70*time.Second)
	defer cancel()
	src, dst := q.Source, q.Destination
	if dst == clipboard.ClipboardName {
		dst = i18n.T("Airlock's clipboard")
	}
	icon := ""
	b.mu.Lock()
	if sb := b.sandboxes[q.Sandbox.ID]; sb != nil {
		icon = sb.Icon
	}
	b.mu.Unlock()
	req := protocol.Request{Mode: protocol.ModeClipboard, SandboxName: q.Sandbox.Name, SandboxIcon: icon, TimeoutSeconds: 60,
		Clipboard: &protocol.Clipboard{Source: src, Destination: dst, Kind: q.Kind, Size: q.Size}}
	if err := protocol.Validate(&req); err != nil {
		return false, err
	}
	resp, err := b.dialog(ctx, req)
	if err != nil {
		return false, err
	}
	return resp.Response == protocol.ResponseSuccess && resp.Answer == protocol.AnswerAllow, nil
}
