package broker

import (
	"errors"
	"os"
	"time"

	"github.com/godbus/dbus/v5"

	"airlock/portal/clipboard"
	"airlock/portal/control"
)

// clipboardOptions are Airlock's clipboard settings. AIRLOCK_CLIPBOARD_TIMEOUT
// (a Go duration, "60s") shortens or lengthens how long a copy is kept; the
// tests use it.
func clipboardOptions() clipboard.Options {
	var o clipboard.Options
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
		MaxText: sb.ClipMaxText, MaxImg: sb.ClipMaxImage,
	}, nil
}

func clipError(err error) *dbus.Error {
	if errors.Is(err, clipboard.ErrPolicy) || errors.Is(err, clipboard.ErrAsk) {
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
