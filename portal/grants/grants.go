// Package grants is the one registry of grants: the only code that turns a
// path the user picked into a grant, and the only place a grant is kept. It
// resolves the pick once, to a descriptor (open.go), hands that descriptor to
// the document store (portal/docstore), asks the sandbox's launcher to bind
// read-only files natively, keeps the grants of persistent profiles
// (persist.go), lists and revokes them. The broker's control interface
// (airlock grant/grants/revoke, files named on airlock run) and the
// FileChooser portal both come here.
//
// As in xdg-desktop-portal's document portal, the permission table, the FUSE
// server and the D-Bus API are apart: this package holds the table; the store
// serves what it is given; the broker and the portals speak D-Bus.
package grants

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"airlock/portal/docpath"
	"airlock/portal/docstore"
	"airlock/portal/grant"
)

// Mode says what the user picked.
type Mode int

const (
	// Open: an existing file or folder (OpenFile, airlock grant).
	Open Mode = iota
	// Save: a file to write, writable, that exists as a regular file or
	// does not exist yet (SaveFile, SaveFiles). A new file is created by
	// the application's first write, so a cancelled save leaves nothing.
	Save
)

var (
	// ErrNoStore: the broker runs without a document store (no FUSE).
	ErrNoStore = errors.New("this broker has no document store (is FUSE available?)")
	// ErrResumed: the sandbox's /run/user/UID/doc is bound to the document
	// store of the broker that died (its FUSE connection is gone:
	// ENOTCONN), and only its init could mount this broker's view over it.
	// Rather than grant a file that could never appear inside, refuse, and
	// say what to do.
	ErrResumed = errors.New("cannot grant files to this sandbox: the broker it started with ended, and its document folder with it; restart the sandbox to grant files again")
)

// Binder binds a read-only file grant natively over its entry in the
// sandbox's document folder (the sandbox's launcher, through
// org.airlock.Launcher1.Bind), so that reads run at the host's speed.
type Binder interface {
	Bind(g grant.Grant) error
	Unbind(g grant.Grant) error
}

// Sandbox is what the registry knows of a sandbox.
type Sandbox struct {
	ID, Profile string
	// Label names the sandbox in Airlock's questions about files it saved
	// (docstore.NewFile), which may come after it ended.
	Label docstore.Label
	// Persistent: the profile's grants outlive the sandbox (persist.go).
	Persistent bool
	// Resumed: registered again after the broker serving it died; see
	// ErrResumed. It gets no view and no grants.
	Resumed bool
}

// Registry holds every grant of one broker.
type Registry struct {
	log   *slog.Logger
	uid   int
	store *docstore.Store // nil: nothing can be granted

	// saveMu orders the writes of the persistent grants files, so that an
	// older list never overwrites a newer one.
	saveMu sync.Mutex

	// mu guards sandboxes and everything in it.
	mu        sync.Mutex
	sandboxes map[string]*sandbox

	// changed, when set (SetOnChange, before any sandbox), is told the
	// sandbox whose grants changed: the broker's GrantsChanged signal.
	changed func(sandbox string)
}

// SetOnChange makes the registry call f (outside its lock) with the
// sandbox id whenever a grant is made or revoked, or the sandbox's grants
// end. Call it once, before the registry is used.
func (r *Registry) SetOnChange(f func(sandbox string)) { r.changed = f }

func (r *Registry) notify(sandbox string) {
	if r.changed != nil {
		r.changed(sandbox)
	}
}

// Since says when each grant of sandbox id was made (document id to time).
func (r *Registry) Since(id string) map[string]time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]time.Time{}
	if sb := r.sandboxes[id]; sb != nil {
		for doc, e := range sb.docs {
			out[doc] = e.since
		}
	}
	return out
}

type sandbox struct {
	Sandbox
	binder Binder            // nil until its init runs, or without native grants
	docs   map[string]*entry // by document id
}

// entry is one grant; its Native is set once the launcher bound it.
type entry struct {
	grant.Grant
	since time.Time // when it was made (or restored), for the grant manager
}

// New returns the registry of a broker whose document store is store (nil
// when FUSE is unavailable: then every grant is refused with ErrNoStore).
func New(log *slog.Logger, store *docstore.Store) *Registry {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Registry{log: log, uid: os.Getuid(), store: store, sandboxes: map[string]*sandbox{}}
}

// AddSandbox creates the sandbox's view in the store, restores the grants
// its profile kept, and returns the view's host path for the launcher to
// bind onto /run/user/UID/doc ("" without a store, or for a resumed sandbox).
func (r *Registry) AddSandbox(s Sandbox) (view string, err error) {
	r.mu.Lock()
	if _, dup := r.sandboxes[s.ID]; dup {
		r.mu.Unlock()
		return "", fmt.Errorf("sandbox %s already has grants", s.ID)
	}
	r.sandboxes[s.ID] = &sandbox{Sandbox: s, docs: map[string]*entry{}}
	r.mu.Unlock()
	if r.store == nil || s.Resumed {
		return "", nil
	}
	view, err = r.store.AddSandbox(s.ID, s.Label)
	if err != nil {
		r.mu.Lock()
		delete(r.sandboxes, s.ID)
		r.mu.Unlock()
		return "", fmt.Errorf("cannot create the document view: %w", err)
	}
	if s.Persistent {
		r.restore(s)
	}
	return view, nil
}

// Attach gives the registry the sandbox's Binder once its init runs: from
// then on read-only file grants are bound natively. Grants made before
// (restored ones, files named on airlock run's command line) were bound by
// the launcher itself as it started: they are marked Native, so that Revoke
// removes their binds and says they were native, and Grants lists them so. (Where the launcher's bind
// failed, Unbind fails and is logged; Revoke then warns of a bind that was
// not there, never the other way round.)
func (r *Registry) Attach(id string, b Binder) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sb := r.sandboxes[id]
	if sb == nil {
		return
	}
	sb.binder = b
	for _, e := range sb.docs {
		if !e.Writable && !e.Dir {
			e.Native = true
		}
	}
}

// RemoveSandbox saves the grants a persistent profile keeps and ends every
// grant of the sandbox.
func (r *Registry) RemoveSandbox(id string) {
	r.mu.Lock()
	sb := r.sandboxes[id]
	r.mu.Unlock()
	if sb == nil {
		return
	}
	if !sb.Resumed {
		r.saveLogged(sb)
	}
	r.mu.Lock()
	delete(r.sandboxes, id)
	r.mu.Unlock()
	if r.store != nil && !sb.Resumed {
		r.store.RemoveSandbox(id)
	}
	r.notify(id)
}

// Grant grants hostPath, picked by the user, to the sandbox: resolved once
// to a descriptor, checked to be what mode says, served by the store, bound
// natively where it can be, and saved if the profile keeps its grants.
func (r *Registry) Grant(sandbox, hostPath string, mode Mode, writable bool) (grant.Grant, error) {
	sb, err := r.grantable(sandbox)
	if err != nil {
		return grant.Grant{}, fmt.Errorf("cannot grant %q: %w", hostPath, err)
	}
	p, err := open(hostPath, mode, false)
	if err != nil {
		return grant.Grant{}, err
	}
	g, err := r.add(sb, p, writable || mode == Save, "")
	if err != nil {
		return grant.Grant{}, err
	}
	if mode == Save && !g.Dir {
		// The chooser told the user about the folder a page saved
		// "complete" brings beside it (docstore/companion.go).
		r.store.AllowFolderBeside(sb.ID, g.DocID)
	}
	r.saveLogged(sb)
	return g, nil
}

// grantable returns the sandbox if it can receive grants.
func (r *Registry) grantable(id string) (*sandbox, error) {
	if r.store == nil {
		return nil, ErrNoStore
	}
	r.mu.Lock()
	sb := r.sandboxes[id]
	r.mu.Unlock()
	switch {
	case sb == nil:
		return nil, fmt.Errorf("no sandbox %s", id)
	case sb.Resumed:
		return nil, ErrResumed
	}
	return sb, nil
}

// add serves an opened pick under id (a new one if id is "" or taken) and
// binds it natively if it can be. It owns p.anchor.
func (r *Registry) add(sb *sandbox, p picked, writable bool, id string) (grant.Grant, error) {
	r.mu.Lock()
	if !validDocID(id) || sb.docs[id] != nil {
		id = newDocID(sb.docs)
	}
	g := grant.Grant{Sandbox: sb.ID, DocID: id, HostPath: p.hostPath, Inside: docpath.Inside(r.uid, id, p.name),
		Writable: writable, Dir: p.dir}
	e := &entry{Grant: g, since: time.Now()}
	// Reserved before the store serves it: two grants at once never take
	// the same id. A failed Add takes it back.
	sb.docs[id] = e
	r.mu.Unlock()
	if err := r.store.Add(g, p.anchor); err != nil {
		r.mu.Lock()
		delete(sb.docs, id)
		r.mu.Unlock()
		return grant.Grant{}, fmt.Errorf("cannot grant %q: %w", p.hostPath, err)
	}
	r.mu.Lock()
	b := sb.binder
	r.mu.Unlock()
	if b != nil && !g.Writable && !g.Dir {
		// Writable grants and folders stay in the store, where saves by
		// rename keep working; on any failure the grant still works
		// through the store.
		if err := b.Bind(g); err != nil {
			r.log.Info("native bind refused: the grant goes through the document store", "sandbox_id", sb.ID, "doc", id, "err", err)
		} else {
			r.mu.Lock()
			e.Native = true
			g = e.Grant
			r.mu.Unlock()
		}
	}
	r.notify(sb.ID)
	return g, nil
}

// Revoke ends one grant: gone from the sandbox at once. A grant served by
// the store only is cut entirely: descriptors the application opened before
// fail with EIO, reopening them through /proc/self/fd fails, mapped pages
// are unmapped (docstore.Store.Revoke). A grant that was also bound natively
// (profile grants = "native-irrevocable") loses its path, but a descriptor
// opened before reads the host file itself, and no unmount can take that
// back (a mount stays alive while a file opened through it is open): native
// is true then, and the caller must say so.
func (r *Registry) Revoke(sandbox, docID string) (native bool, err error) {
	r.mu.Lock()
	sb := r.sandboxes[sandbox]
	var e *entry
	if sb != nil {
		e = sb.docs[docID]
		delete(sb.docs, docID)
	}
	var b Binder
	bound := false
	if e != nil {
		b, bound = sb.binder, e.Native
	}
	r.mu.Unlock()
	if e == nil {
		return false, fmt.Errorf("cannot revoke document %q: sandbox %q has no such grant", docID, sandbox)
	}
	if bound && b != nil {
		// The native bind first: it sits over the store's entry.
		if err := b.Unbind(e.Grant); err != nil {
			r.log.Warn("cannot remove a native bind", "sandbox_id", sandbox, "doc", docID, "err", err)
		}
	}
	defer r.notify(sandbox)
	if err := r.store.Revoke(sandbox, docID); err != nil {
		return bound, err
	}
	r.saveLogged(sb)
	return bound, nil
}

// Grants lists the grants of one sandbox, or (id "") of every sandbox,
// sorted by sandbox and document id.
func (r *Registry) Grants(id string) []grant.Grant {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := []grant.Grant{}
	for sid, sb := range r.sandboxes {
		if id != "" && sid != id {
			continue
		}
		for _, e := range sb.docs {
			out = append(out, e.Grant)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Sandbox != out[j].Sandbox {
			return out[i].Sandbox < out[j].Sandbox
		}
		return out[i].DocID < out[j].DocID
	})
	return out
}

// Resolve maps a path inside the sandbox to the host path it shows: the
// granted file or folder, or a path below a granted folder. The path is
// cleaned first (docpath.Split), so ".." cannot climb out of a grant. The
// answer is a hint (where the chooser opens), not a grant: what the user
// picks there is resolved again, by Grant.
func (r *Registry) Resolve(sandbox, inside string) (hostPath string, dir, ok bool) {
	docID, rest, ok := docpath.Split(r.uid, inside)
	if !ok {
		return "", false, false
	}
	r.mu.Lock()
	var g grant.Grant
	if sb := r.sandboxes[sandbox]; sb != nil {
		if e := sb.docs[docID]; e != nil {
			g = e.Grant
		}
	}
	r.mu.Unlock()
	name := g.Name()
	switch {
	case g.DocID == "":
		return "", false, false
	case rest == name:
		return g.HostPath, g.Dir, true
	case g.Dir && strings.HasPrefix(rest, name+"/"):
		hp := g.HostPath + "/" + strings.TrimPrefix(rest, name+"/")
		var st unix.Stat_t
		isDir := unix.Fstatat(unix.AT_FDCWD, hp, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR
		return hp, isDir, true
	}
	return "", false, false
}

// newDocID returns an id not in taken: 8 characters of [a-z2-7]
// (crypto/rand, base32), 40 bits.
func newDocID(taken map[string]*entry) string {
	for {
		id := strings.ToLower(rand.Text()[:8])
		if taken[id] == nil {
			return id
		}
	}
}

// validDocID accepts the ids newDocID makes.
func validDocID(id string) bool {
	if len(id) != 8 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}
