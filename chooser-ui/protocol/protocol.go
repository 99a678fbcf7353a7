// Package protocol is the contract between the broker (airlock-portal) and
// airlock-chooser: one JSON Request on the chooser's stdin, one JSON Response
// on its stdout. It has no cgo and no GTK so that the broker can import it.
package protocol

// Modes of a Request.
const (
	ModeOpen      = "open"
	ModeSave      = "save"
	ModeSaveFiles = "save-files"
	// ModeNewFile asks whether to keep a file an application created
	// beside a granted file (Request.NewFile); the answer is in
	// Response.Answer.
	ModeNewFile = "new-file"
	// ModeOpenURI asks whether to open a link or a granted file, which a
	// sandbox passed to the OpenURI portal, in a host application
	// (Request.OpenURI); the answer is in Response.Answer.
	ModeOpenURI = "open-uri"
	// ModeClipboard asks whether clipboard content may cross between two
	// domains (Request.Clipboard); the answer is in Response.Answer.
	ModeClipboard = "clipboard"
	// ModeNotice shows a short message drawn by Airlock (Request.Notice)
	// for a few seconds, without taking the focus; it answers when the
	// message is gone.
	ModeNotice = "notice"
)

// Answers of a ModeNewFile dialog: the words of Airlock's buttons.
const (
	AnswerKeep    = "keep"
	AnswerDiscard = "discard"
	// Answers of a ModeOpenURI dialog.
	AnswerOpen     = "open"
	AnswerDontOpen = "dont-open"
	// Answers of a ModeClipboard dialog.
	AnswerAllow  = "allow"
	AnswerRefuse = "refuse"
)

// Response codes, as in org.freedesktop.portal.Request.Response.
const (
	ResponseSuccess   uint32 = 0
	ResponseCancelled uint32 = 1
	ResponseOther     uint32 = 2
)

// Pattern kinds of a filter rule, as in the portal's a(us) filter rules.
const (
	PatternGlob = 0
	PatternMIME = 1
)

// Display caps, in runes, applied by Clean to the strings the chooser shows.
// Untrusted strings come from the sandboxed application through the broker.
const (
	MaxAppTitle    = 80
	MaxAcceptLabel = 40
	MaxSandboxName = 64
	MaxFilterName  = 60
	MaxChoiceLabel = 60
	MaxFileName    = 80
)

// ReadOnlyChoiceID is the id of the chooser's own read-only switch. An
// application cannot declare a choice with this id (Validate refuses it), so
// the app can neither hide nor pre-empt the switch.
const ReadOnlyChoiceID = "airlock.read-only"

// Pattern is one rule of a filter: a glob or a MIME type.
type Pattern struct {
	Kind  int    `json:"kind"` // PatternGlob or PatternMIME
	Value string `json:"value"`
}

// Filter is a named set of rules.
type Filter struct {
	Name     string    `json:"name"`
	Patterns []Pattern `json:"patterns"`
}

// Choice is an extra control offered by the application: a combo box of
// Options (id, label), or a check box when Options is empty, whose values are
// "true" and "false".
type Choice struct {
	ID      string      `json:"id"`
	Label   string      `json:"label"`
	Options [][2]string `json:"options"`
	Default string      `json:"default"`
}

// Request asks the chooser for one dialog.
type Request struct {
	Mode            string   `json:"mode"`                    // ModeOpen, ModeSave, ModeSaveFiles
	SandboxName     string   `json:"sandbox_name"`            // trusted: the profile's display name
	SandboxIcon     string   `json:"sandbox_icon"`            // trusted: icon name
	SandboxColor    string   `json:"sandbox_color,omitempty"` // trusted: the profile's colour, "#rrggbb" (ValidColor) or ""
	AppTitle        string   `json:"app_title"`               // UNTRUSTED: shown as secondary text only, cleaned and capped
	AcceptLabel     string   `json:"accept_label"`            // UNTRUSTED: shown only as the application's hint, never as a button
	Multiple        bool     `json:"multiple"`                // open only
	Directory       bool     `json:"directory"`               // open only: choose folders
	Filters         []Filter `json:"filters"`                 // untrusted names, cleaned
	CurrentFilter   *Filter  `json:"current_filter"`          // selected if equal to one of Filters, else added
	Choices         []Choice `json:"choices"`                 // untrusted labels, cleaned
	CurrentName     string   `json:"current_name"`            // save: suggested name
	CurrentFolder   string   `json:"current_folder"`          // absolute host path, validated by the broker
	CurrentFile     string   `json:"current_file"`            // save: absolute host path, validated by the broker
	Files           []string `json:"files"`                   // save-files: names to save into the chosen folder
	ShowReadOnly    bool     `json:"show_read_only"`          // open: offer the read-only switch
	ReadOnlyDefault bool     `json:"read_only_default"`       // its initial state
	TimeoutSeconds  int      `json:"timeout_seconds"`         // respond ResponseOther after this (0 = none)

	NewFile *NewFile `json:"new_file,omitempty"` // new-file only: the file to ask about
	OpenURI *OpenURI `json:"open_uri,omitempty"` // open-uri only: what to open

	Clipboard *Clipboard `json:"clipboard,omitempty"` // clipboard only: what would cross
	Notice    *Notice    `json:"notice,omitempty"`    // notice only: what to say

	Print *Print `json:"print,omitempty"` // print only: the application's job and hints
}

// Notice is a ModeNotice message: Airlock's own words (trusted), cleaned
// and capped anyway.
type Notice struct {
	Title   string `json:"title,omitempty"` // the window's title; "Airlock clipboard" when empty
	Summary string `json:"summary"`
	Body    string `json:"body"`
}

// Clipboard is what a ModeClipboard dialog asks about: content of Kind
// ("text" or "image") and Size bytes moving from Source to Destination
// (trusted names: a sandbox's profile name, "host", or Airlock's
// clipboard). Never the content.
type Clipboard struct {
	Source      string `json:"source"`
	Destination string `json:"destination"`
	Kind        string `json:"kind"`
	Size        int64  `json:"size"`
}

// OpenURI is what a ModeOpenURI dialog asks about: a link (URI) or a
// granted host file or its folder (Path), never both.
type OpenURI struct {
	// URI passed CheckURI (the broker checks it, the chooser again):
	// http, https or mailto, printable ASCII, at most MaxURIBytes. It is
	// shown whole, character for character, broken into lines.
	URI string `json:"uri,omitempty"`
	// Path is the granted file's absolute host path (OpenFile), or the
	// folder to show (OpenDirectory, Directory set).
	Path      string `json:"path,omitempty"`
	Directory bool   `json:"directory,omitempty"`
}

// NewFile is the file a ModeNewFile dialog asks about.
type NewFile struct {
	Name   string `json:"name"`   // UNTRUSTED: the application's name for it; cleaned and capped
	Size   int64  `json:"size"`   // bytes
	Beside string `json:"beside"` // the granted file it was saved beside (name only); cleaned and capped
	Folder string `json:"folder"` // absolute host path of their folder

	// HostName is the name Keep gives it in Folder, when not Name (a
	// hidden name is made visible); a file name, cleaned and capped.
	HostName string `json:"host_name,omitempty"`
}

// Response is the chooser's answer. The chooser always prints one, even when
// it cannot open the display.
type Response struct {
	Response      uint32      `json:"response"`       // ResponseSuccess, ResponseCancelled, ResponseOther
	Paths         []string    `json:"paths"`          // absolute host paths (save-files: the folder)
	Choices       [][2]string `json:"choices"`        // (id, value) for every application choice
	CurrentFilter *Filter     `json:"current_filter"` // the filter selected when the user accepted
	ReadOnly      bool        `json:"read_only"`      // the read-only switch, when it was shown
	// RiskConfirmed: the user confirmed, in a second dialog that named the
	// risk, writing paths that Places.WriteRisk finds risky. The broker
	// refuses a risky save path without it.
	RiskConfirmed bool   `json:"risk_confirmed,omitempty"`
	Error         string `json:"error,omitempty"`

	Print *PrintResult `json:"print,omitempty"` // print: the printer and settings chosen (ResponseSuccess only)

	Answer string `json:"answer,omitempty"` // new-file: AnswerKeep or AnswerDiscard; open-uri: AnswerOpen or AnswerDontOpen (ResponseSuccess only)
}

// Equal reports whether f and g have the same name and rules in the same order.
func (f *Filter) Equal(g *Filter) bool {
	if f == nil || g == nil {
		return f == g
	}
	if f.Name != g.Name || len(f.Patterns) != len(g.Patterns) {
		return false
	}
	for i := range f.Patterns {
		if f.Patterns[i] != g.Patterns[i] {
			return false
		}
	}
	return true
}
