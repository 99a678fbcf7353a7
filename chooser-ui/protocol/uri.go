package protocol

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// MaxURIBytes caps a link a sandbox may ask to open: longer is refused, not
// cut (a cut link would open something else than what was asked).
const MaxURIBytes = 4096

// URISchemes are the schemes a sandbox may ask the host to open. Not file:
// a file reaches the host only as the descriptor of a granted file
// (OpenFile), never as a path the sandbox names. Not javascript:, data:,
// or a scheme some host handler registered (x-scheme-handler/…): each
// of those hands the host application input it may run or act on.
var URISchemes = []string{"http", "https", "mailto"}

// CheckURI refuses a link the host must not be asked to open, and returns
// its scheme. The link must be printable ASCII (no spaces, no control
// characters, nothing the dialog could show differently from what is
// opened: international names come as punycode and percent-escapes, as
// browsers send them), one of URISchemes, and an http(s) link names a host
// and no user name ("https://bank.example@evil.example/" shows one site
// and opens another).
func CheckURI(s string) (scheme string, err error) {
	if s == "" {
		return "", errors.New("empty link")
	}
	if len(s) > MaxURIBytes {
		return "", fmt.Errorf("link too long (%d bytes, at most %d)", len(s), MaxURIBytes)
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] >= 0x7f {
			return "", fmt.Errorf("link has a character that is not printable ASCII (byte %d: 0x%02x)", i, s[i])
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("not a link: %v", err)
	}
	scheme = strings.ToLower(u.Scheme)
	ok := false
	for _, a := range URISchemes {
		ok = ok || scheme == a
	}
	if !ok {
		return "", fmt.Errorf("links of scheme %q are not opened (only %s)", u.Scheme, strings.Join(URISchemes, ", "))
	}
	switch scheme {
	case "http", "https":
		if u.Opaque != "" || u.Host == "" {
			return "", errors.New("a web link must name a host (scheme://host/…)")
		}
		if u.User != nil {
			return "", errors.New("a web link with a user name is not opened (it shows one site and opens another)")
		}
	case "mailto":
		if u.Opaque == "" && u.Path == "" {
			return "", errors.New("a mailto link must name an address")
		}
	}
	return scheme, nil
}

// URIHost is the host an http(s) link opens, for the dialog to name it
// apart from the rest of the link ("" for other links).
func URIHost(s string) string {
	u, err := url.Parse(s)
	if err != nil || (strings.ToLower(u.Scheme) != "http" && strings.ToLower(u.Scheme) != "https") {
		return ""
	}
	return u.Host
}

func validateOpenURI(r *Request) error {
	o := r.OpenURI
	switch {
	case o == nil:
		return errors.New("nothing to open")
	case r.Multiple || r.Directory || r.ShowReadOnly || len(r.Files) > 0 || r.CurrentFile != "" ||
		len(r.Filters) > 0 || r.CurrentFilter != nil || len(r.Choices) > 0 || r.NewFile != nil:
		return fmt.Errorf("file chooser options are not possible in mode %q", r.Mode)
	case (o.URI == "") == (o.Path == ""):
		return errors.New("open either a link or a file")
	case o.URI != "":
		if o.Directory {
			return errors.New("a link is not a folder")
		}
		_, err := CheckURI(o.URI)
		return err
	}
	return validatePath(o.Path)
}
