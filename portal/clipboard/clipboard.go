// Package clipboard is Airlock's global clipboard, modelled on Qubes OS':
// every sandbox with a nested display and the host session are domains, each
// with its own X CLIPBOARD; Airlock keeps one clipboard of its own, and
// content moves only when the user copies a domain's CLIPBOARD into it and
// pastes it into another domain. The broker reaches each domain's selections
// as an X client of that domain's display (x11.go), which the sandbox cannot
// see or impersonate. What crosses is typed (UTF-8 text, PNG re-encoded by
// Airlock: content.go), capped, logged without content, and wiped after one
// paste and after a timeout.
package clipboard

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Policies per direction (the profile's clipboard_copy and clipboard_paste).
const (
	PolicyAllow = "allow"
	PolicyAsk   = "ask"
	PolicyNone  = "none"
)

// HostID names the host session's domain.
const HostID = "host"

// DefaultTimeout is how long Airlock's clipboard keeps a copy.
const DefaultTimeout = 60 * time.Second

// Domain is one side of a crossing.
type Domain struct {
	ID, Name        string
	Display         Display
	Copy, Paste     string // policies
	MaxText, MaxImg int64  // 0: the defaults
	// Keep: a copy from this domain is not wiped by a paste, only by the
	// timeout or Clear.
	Keep bool
}

func (d Domain) caps() (int64, int64) {
	t, i := int64(DefaultMaxText), int64(DefaultMaxImage)
	if d.MaxText > 0 && d.MaxText < t {
		t = d.MaxText
	}
	if d.MaxImg > 0 && d.MaxImg < i {
		i = d.MaxImg
	}
	return t, i
}

// Errors a crossing can end with.
var (
	ErrPolicy   = errors.New("refused by the profile")
	ErrAsk      = errors.New("needs a confirmation, and none can be shown")
	ErrRefused  = errors.New("refused by the user")
	ErrEmpty    = errors.New("Airlock's clipboard is empty")
	ErrBusy     = errors.New("another clipboard transfer with this domain is under way")
	ErrNoDisply = errors.New("has no display Airlock can reach (only display = \"xephyr\" sandboxes and the host)")
)

// Info describes Airlock's clipboard without its content.
type Info struct {
	Kind   string
	Size   int64
	Source string // the domain's name
	Copied time.Time
}

// Options configure a Clipboard.
type Options struct {
	// Timeout wipes a copy that long after it was made (0: DefaultTimeout).
	Timeout time.Duration
	// KeepAfterPaste keeps the copy after it was pasted (default: wiped
	// after one paste).
	KeepAfterPaste bool
	// Confirm asks the user about one crossing where a policy says "ask"
	// (a dialog Airlock draws); nil refuses those crossings.
	Confirm func(Question) (bool, error)
}

// Question is what a confirmation names: both sides, the kind and the
// size, never the content. Sandbox is the domain whose policy asks.
type Question struct {
	Source, Destination string
	Kind                string
	Size                int64
	Sandbox             Domain
}

// ClipboardName is the destination of a copy in a question.
var ClipboardName = "Airlock's clipboard"

// Clipboard is Airlock's one global clipboard.
type Clipboard struct {
	log  *slog.Logger
	opts Options

	// mu guards the fields below. It is never held during an X transfer:
	// a slow domain must not hold up another's crossing.
	mu      sync.Mutex
	content *Content
	info    Info
	keep    bool // the copy's source asked to keep it after a paste
	wipe    *time.Timer
	gen     uint64            // bumps at every new copy, so that an old timer wipes nothing
	owners  map[string]*Owner // the offers Airlock made, per destination domain
	busy    map[string]bool   // domains with a transfer under way
}

// New returns an empty clipboard.
func New(log *slog.Logger, opts Options) *Clipboard {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	return &Clipboard{log: log, opts: opts, owners: map[string]*Owner{}, busy: map[string]bool{}}
}

// claim gives a domain its one transfer slot: a sandbox that stalls or
// floods its own display slows only its own crossings, never another
// domain's.
func (c *Clipboard) claim(id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.busy[id] {
		return ErrBusy
	}
	c.busy[id] = true
	return nil
}

func (c *Clipboard) release(id string) {
	c.mu.Lock()
	delete(c.busy, id)
	c.mu.Unlock()
}

// Copy reads src's CLIPBOARD into Airlock's clipboard.
func (c *Clipboard) Copy(src Domain) (Info, error) {
	switch src.Copy {
	case PolicyAllow:
	case PolicyAsk:
		if c.opts.Confirm == nil {
			return Info{}, fmt.Errorf("copying from %s %w", src.Name, ErrAsk)
		}
	default:
		return Info{}, fmt.Errorf("copying from %s is %w", src.Name, ErrPolicy)
	}
	if src.Display.Socket == "" && src.ID != HostID {
		return Info{}, fmt.Errorf("%s %w", src.Name, ErrNoDisply)
	}
	if err := c.claim(src.ID); err != nil {
		return Info{}, err
	}
	defer c.release(src.ID)
	maxText, maxImage := src.caps()
	content, err := Read(src.Display, maxText, maxImage)
	if err != nil {
		c.log.Info("clipboard copy refused", "source", src.Name, "source_id", src.ID, "err", err)
		return Info{}, err
	}
	if src.Copy == PolicyAsk {
		// Asked once the content is read: the question names its kind
		// and size.
		if err := c.confirm(Question{Source: src.Name, Destination: ClipboardName, Kind: content.Kind, Size: content.Size(), Sandbox: src}); err != nil {
			return Info{}, err
		}
	}
	info := Info{Kind: content.Kind, Size: content.Size(), Source: src.Name, Copied: time.Now()}
	c.mu.Lock()
	c.content, c.info, c.keep = content, info, src.Keep
	c.gen++
	gen := c.gen
	if c.wipe != nil {
		c.wipe.Stop()
	}
	c.wipe = time.AfterFunc(c.opts.Timeout, func() { c.expire(gen) })
	c.mu.Unlock()
	// Audit: who, what kind, how much; never the content.
	c.log.Info("clipboard copied", "source", src.Name, "source_id", src.ID, "type", info.Kind, "size", info.Size)
	return info, nil
}

func (c *Clipboard) expire(gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen || c.content == nil {
		return
	}
	c.content, c.info = nil, Info{}
	c.log.Info("clipboard wiped", "reason", "timeout")
}

// Paste offers Airlock's clipboard on dst's CLIPBOARD, where the
// application's own paste finds it.
func (c *Clipboard) Paste(dst Domain) (Info, error) {
	switch dst.Paste {
	case PolicyAllow:
	case PolicyAsk:
		if c.opts.Confirm == nil {
			return Info{}, fmt.Errorf("pasting into %s %w", dst.Name, ErrAsk)
		}
	default:
		return Info{}, fmt.Errorf("pasting into %s is %w", dst.Name, ErrPolicy)
	}
	if dst.Display.Socket == "" && dst.ID != HostID {
		return Info{}, fmt.Errorf("%s %w", dst.Name, ErrNoDisply)
	}
	c.mu.Lock()
	content, info, gen := c.content, c.info, c.gen
	c.mu.Unlock()
	if content == nil {
		return Info{}, ErrEmpty
	}
	maxText, maxImage := dst.caps()
	max := maxText
	if content.Kind == KindImage {
		max = maxImage
	}
	if content.Size() > max {
		return Info{}, &TooLargeError{Kind: content.Kind, Size: content.Size(), Max: max}
	}
	if err := c.claim(dst.ID); err != nil {
		return Info{}, err
	}
	defer c.release(dst.ID)
	if dst.Paste == PolicyAsk {
		if err := c.confirm(Question{Source: info.Source, Destination: dst.Name, Kind: content.Kind, Size: content.Size(), Sandbox: dst}); err != nil {
			return Info{}, err
		}
	}
	o, err := Own(dst.Display, content, func(msg string, args ...any) {
		c.log.Info(msg, append(args, "destination", dst.Name, "destination_id", dst.ID)...)
	})
	if err != nil {
		return Info{}, err
	}
	c.mu.Lock()
	if old := c.owners[dst.ID]; old != nil {
		old.Close()
	}
	c.owners[dst.ID] = o
	if !c.opts.KeepAfterPaste && !c.keep && c.gen == gen && c.content != nil {
		// Wiped after one paste: a second destination needs a second
		// copy, so one user action moves content once.
		c.content, c.info = nil, Info{}
		if c.wipe != nil {
			c.wipe.Stop()
		}
	}
	c.mu.Unlock()
	go func() {
		<-o.Done()
		c.mu.Lock()
		if c.owners[dst.ID] == o {
			delete(c.owners, dst.ID)
		}
		c.mu.Unlock()
	}()
	c.log.Info("clipboard crossed", "source", info.Source, "destination", dst.Name, "destination_id", dst.ID, "type", info.Kind, "size", info.Size)
	return info, nil
}

// Show describes Airlock's clipboard; ok is false when it is empty.
func (c *Clipboard) Show() (Info, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.info, c.content != nil
}

// Clear wipes Airlock's clipboard.
func (c *Clipboard) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	had := c.content != nil
	c.content, c.info = nil, Info{}
	c.gen++
	if c.wipe != nil {
		c.wipe.Stop()
	}
	if had {
		c.log.Info("clipboard wiped", "reason", "cleared")
	}
}

// Forget drops what Airlock offers on a domain that ended. A copy made from
// it stays in Airlock's clipboard.
func (c *Clipboard) Forget(id string) {
	c.mu.Lock()
	o := c.owners[id]
	delete(c.owners, id)
	c.mu.Unlock()
	if o != nil {
		o.Close()
	}
}

// Close ends every offer.
func (c *Clipboard) Close() {
	c.mu.Lock()
	os := c.owners
	c.owners = map[string]*Owner{}
	c.mu.Unlock()
	for _, o := range os {
		o.Close()
	}
}

// confirm asks the user; anything but a yes refuses.
func (c *Clipboard) confirm(q Question) error {
	ok, err := c.opts.Confirm(q)
	if err != nil {
		return fmt.Errorf("cannot ask: %w", err)
	}
	if !ok {
		c.log.Info("clipboard crossing refused by the user", "source", q.Source, "destination", q.Destination, "type", q.Kind, "size", q.Size)
		return ErrRefused
	}
	return nil
}
