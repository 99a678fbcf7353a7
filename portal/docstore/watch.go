package docstore

import (
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/hanwen/go-fuse/v2/fs"
)

// The kernel caches granted files (keep_cache, one-second timeouts). When a
// host program changes a granted file, fsnotify tells the store, which tells
// the kernel to drop what it cached (FUSE_NOTIFY_INVAL_INODE and
// FUSE_NOTIFY_INVAL_ENTRY), so the sandbox sees the change within
// milliseconds instead of after the timeout. Watched: the directory holding
// each granted file, and the top directory of each granted folder (deeper
// changes are bounded by the timeouts and by the check at open).

// watchLocked starts watching g's directory; s.mu must be held.
func (s *Store) watchLocked(g *served) {
	if s.watcher == nil {
		return
	}
	if len(s.watches[g.watchDir]) == 0 {
		if err := s.watcher.Add(g.watchDir); err != nil {
			s.log.Warn("cannot watch granted directory; changes show after the cache timeout", "dir", g.watchDir, "err", err)
		}
	}
	s.watches[g.watchDir] = append(s.watches[g.watchDir], g)
}

func (s *Store) unwatch(g *served) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gs := s.watches[g.watchDir]
	for i, o := range gs {
		if o == g {
			gs = append(gs[:i:i], gs[i+1:]...)
			break
		}
	}
	if len(gs) > 0 {
		s.watches[g.watchDir] = gs
		return
	}
	delete(s.watches, g.watchDir)
	if s.watcher != nil {
		_ = s.watcher.Remove(g.watchDir)
	}
}

func (s *Store) watchLoop() {
	defer close(s.done)
	for {
		select {
		case ev, ok := <-s.watcher.Events:
			if !ok {
				return
			}
			s.onEvent(ev)
		case err, ok := <-s.watcher.Errors:
			if !ok {
				return
			}
			// Overflow: events were lost. The timeouts still bound
			// staleness.
			s.log.Warn("change notification error", "err", err)
		}
	}
}

func (s *Store) onEvent(ev fsnotify.Event) {
	dir, base := filepath.Dir(ev.Name), filepath.Base(ev.Name)
	if strings.HasPrefix(base, hiddenPrefix) {
		return // our own temporary files
	}
	s.mu.Lock()
	gs := append([]*served(nil), s.watches[dir]...)
	s.mu.Unlock()
	nameChanged := ev.Op&(fsnotify.Create|fsnotify.Remove|fsnotify.Rename) != 0
	for _, g := range gs {
		if g.Dir {
			if c := g.root.GetChild(base); c != nil {
				if t, ok := c.Operations().(*treeNode); ok && t.writers.Load() == 0 {
					s.inval.addContent(c)
				}
			}
			if nameChanged {
				s.inval.addEntry(g.root, base)
			}
			continue
		}
		g.mu.RLock()
		match := base == g.hostName
		t := g.target
		g.mu.RUnlock()
		if !match {
			continue
		}
		if t != nil && t.writers.Load() == 0 {
			s.inval.addContent(t.EmbeddedInode())
		}
		if nameChanged {
			s.inval.addEntry(g.docDir, g.name)
		}
	}
}

type entryKey struct {
	parent *fs.Inode
	name   string
}

// invalidator coalesces invalidations: a host program writing a file in
// small pieces produces one event per write.
type invalidator struct {
	mu sync.Mutex
	// content and entries are pending; armed is set while a flush is
	// scheduled. Guarded by mu.
	content map[*fs.Inode]bool
	entries map[entryKey]bool
	armed   bool
}

func (iv *invalidator) addContent(n *fs.Inode) {
	iv.mu.Lock()
	iv.content[n] = true
	iv.armLocked()
	iv.mu.Unlock()
}

func (iv *invalidator) addEntry(parent *fs.Inode, name string) {
	iv.mu.Lock()
	iv.entries[entryKey{parent, name}] = true
	iv.armLocked()
	iv.mu.Unlock()
}

func (iv *invalidator) armLocked() {
	if !iv.armed {
		iv.armed = true
		time.AfterFunc(invalDelay, iv.flush)
	}
}

// flush sends the notifications. It runs on its own goroutine, never inside
// a FUSE request: the kernel may wait for requests to finish before it
// applies a notification.
func (iv *invalidator) flush() {
	iv.mu.Lock()
	content, entries := iv.content, iv.entries
	iv.content, iv.entries = map[*fs.Inode]bool{}, map[entryKey]bool{}
	iv.armed = false
	iv.mu.Unlock()
	for n := range content {
		// Offset 0, length 0: drop the attributes and every cached page.
		// ENOENT means the kernel has forgotten the inode: nothing to do.
		_ = n.NotifyContent(0, 0)
	}
	for k := range entries {
		_ = k.parent.NotifyEntry(k.name)
	}
}
