package main

import (
	"log/slog"
	"os"

	"airlock/portal/broker"
	"airlock/portal/docstore"
)

// docStore is the mounted document store as the broker uses it.
type docStore interface {
	broker.Docs
	Close() error
}

// openDocStore mounts the FUSE document store at dir.
func openDocStore(dir string, log *slog.Logger) (docStore, error) {
	s, err := docstore.Mount(dir, log)
	if err != nil {
		return nil, err
	}
	return storeDocs{s: s, uid: os.Getuid()}, nil
}

// storeDocs adapts *docstore.Store to broker.Docs.
type storeDocs struct {
	s   *docstore.Store
	uid int
}

func (d storeDocs) doc(g docstore.Grant) broker.Doc {
	return broker.Doc{DocID: g.DocID, Sandbox: g.Sandbox, HostPath: g.HostPath, Name: g.Name, Inside: docstore.InsidePath(d.uid, g), Writable: g.Writable, Dir: g.Dir}
}

func (d storeDocs) AddSandbox(id string) (string, error) { return d.s.AddSandbox(id) }
func (d storeDocs) RemoveSandbox(id string)              { d.s.RemoveSandbox(id) }
func (d storeDocs) Revoke(sandbox, docID string) error   { return d.s.Revoke(sandbox, docID) }
func (d storeDocs) Close() error                         { return d.s.Close() }

func (d storeDocs) Grant(sandbox, hostPath string, writable, dir bool) (broker.Doc, error) {
	g, err := d.s.Grant(sandbox, hostPath, writable, dir)
	return d.doc(g), err
}

func (d storeDocs) GrantNew(sandbox, hostPath string) (broker.Doc, error) {
	g, err := d.s.GrantNew(sandbox, hostPath)
	return d.doc(g), err
}

func (d storeDocs) Grants(sandbox string) []broker.Doc {
	var out []broker.Doc
	for _, g := range d.s.Grants(sandbox) {
		out = append(out, d.doc(g))
	}
	return out
}

func (d storeDocs) Restore(sandbox string, doc broker.Doc) (broker.Doc, error) {
	g, err := d.s.Restore(sandbox, docstore.Grant{DocID: doc.DocID, Sandbox: sandbox, HostPath: doc.HostPath, Name: doc.Name, Writable: doc.Writable, Dir: doc.Dir})
	return d.doc(g), err
}
