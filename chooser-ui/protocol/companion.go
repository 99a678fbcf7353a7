package protocol

import (
	"strings"
	"unicode/utf8"
)

// companionExts are the names whose save may bring a folder beside the file:
// Firefox's "Save Page As → Web Page, complete" writes NAME.html and puts the
// page's images, style sheets and scripts in NAME_files beside it
// (nsWebBrowserPersist, the folder named by contentAreaUtils.js from the
// file's name without its last extension and the string "filesFolder",
// "%S_files" in English).
var companionExts = []string{".html", ".htm", ".xhtml", ".shtml"}

// CompanionFolder is the one folder an application may create beside a
// saved file of this name, "" when there is none. The broker's document
// store lets a save grant create exactly this folder, and the chooser says so
// before the user saves: the rule lives here so that the two never disagree.
func CompanionFolder(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 || strings.ContainsAny(name, "/\x00") || !utf8.ValidString(name) {
		return ""
	}
	ext := strings.ToLower(name[i:])
	for _, e := range companionExts {
		if ext == e {
			f := name[:i] + "_files"
			if len(f) > 255 {
				return ""
			}
			return f
		}
	}
	return ""
}
