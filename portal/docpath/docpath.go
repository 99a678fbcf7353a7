// Package docpath is the contract for where granted documents appear inside a
// sandbox: /run/user/UID/doc/<doc id>/<name>, the layout Flatpak applications
// expect from the document portal. The broker (which serves the folder) and
// the launcher (which binds it in) both use it; nothing else spells it out.
package docpath

import (
	"path"
	"strconv"
	"strings"
)

// Root is the document folder inside a sandbox of user uid.
func Root(uid int) string { return "/run/user/" + strconv.Itoa(uid) + "/doc" }

// Inside is where a document appears inside a sandbox of user uid.
func Inside(uid int, docID, name string) string { return Root(uid) + "/" + docID + "/" + name }

// Split parses an inside path into its document id and the path below the
// document's folder ("" for the folder itself), after cleaning it so that
// ".." cannot climb out of a document. ok is false for a path elsewhere.
func Split(uid int, inside string) (docID, rest string, ok bool) {
	if !strings.HasPrefix(inside, "/") {
		return "", "", false
	}
	p := path.Clean(inside)
	root := Root(uid) + "/"
	if !strings.HasPrefix(p, root) {
		return "", "", false
	}
	docID, rest, _ = strings.Cut(p[len(root):], "/")
	return docID, rest, docID != ""
}
