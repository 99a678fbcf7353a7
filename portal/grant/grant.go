// Package grant is the contract type for one grant: a host file or folder
// the user made visible in one sandbox. The registry (portal/grants) makes
// and owns grants, the document store (portal/docstore) serves them, and the
// control interface (portal/control) carries this very type on the wire as
// (ssssbbb), so the launcher reads what the broker holds, with no copy in
// between. It imports nothing heavy: the launcher links it.
package grant

import "path"

// Grant is one document visible in one sandbox. The JSON names are those of
// the persistent grants file ($XDG_STATE_HOME/airlock/grants/PROFILE.json);
// the sandbox id and the inside path are not saved: both are given again
// when the grant is restored.
type Grant struct {
	Sandbox string `json:"-"`
	DocID   string `json:"doc_id"` // [a-z2-7]{8}
	// HostPath is the granted file or folder on the host: its folder with
	// symbolic links resolved when the user granted it, and its own name,
	// never a link. For a save, the file that will be created.
	HostPath string `json:"host_path"`
	// Inside is where the sandbox sees it: docpath.Inside(uid, DocID, name).
	Inside   string `json:"-"`
	Writable bool   `json:"writable"`
	Dir      bool   `json:"dir"` // a folder grant: the subtree, nothing above
	// Native: also bound natively over its entry (profile grants =
	// "native-irrevocable"), read at host speed; revoking it cannot cut a
	// descriptor the application opened through that bind. Not saved: a
	// restored grant is bound again, or not, by its next sandbox.
	Native bool `json:"-"`
}

// Name is the name the document has inside the sandbox.
func (g Grant) Name() string { return path.Base(g.Inside) }
