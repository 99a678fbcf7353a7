package protocol

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Limits on what one request may carry. They bound the work and the window
// size a hostile application can cause through the broker.
const (
	MaxFilters        = 64
	MaxPatterns       = 64
	MaxChoices        = 16
	MaxOptions        = 64
	MaxFiles          = 1024
	MaxStringBytes    = 4096
	MaxTimeoutSeconds = 24 * 60 * 60
)

var iconName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// Validate refuses a request the chooser must not show. Display strings are
// not refused for their content (Clean handles that), only for NUL bytes and
// invalid UTF-8 where the value is an identifier or a path, which GTK would
// cut or misread.
func Validate(r *Request) error {
	if r == nil {
		return errors.New("empty request")
	}
	switch r.Mode {
	case ModeOpen:
	case ModeNewFile:
		if err := validateNewFile(r); err != nil {
			return err
		}
	case ModeOpenURI:
		if err := validateOpenURI(r); err != nil {
			return err
		}
	case ModeClipboard:
		if err := validateClipboard(r); err != nil {
			return err
		}
	case ModePrint:
		if err := validatePrint(r); err != nil {
			return err
		}
	case ModeNotice:
		if r.Notice == nil || Clean(r.Notice.Summary, 0) == "" || len(r.Notice.Summary) > MaxStringBytes || len(r.Notice.Body) > MaxStringBytes || len(r.Notice.Title) > MaxStringBytes {
			return errors.New("a notice needs a summary of at most 4096 bytes")
		}
	case ModeSave, ModeSaveFiles:
		if r.Multiple {
			return fmt.Errorf("multiple selection is not possible in mode %q", r.Mode)
		}
		if r.Directory {
			return fmt.Errorf("directory selection is not possible in mode %q", r.Mode)
		}
		if r.ShowReadOnly {
			return fmt.Errorf("the read-only switch is not possible in mode %q", r.Mode)
		}
	default:
		return fmt.Errorf("unknown mode %q", r.Mode)
	}
	if r.NewFile != nil && r.Mode != ModeNewFile {
		return fmt.Errorf("a new file is only for mode %q", ModeNewFile)
	}
	if r.Notice != nil && r.Mode != ModeNotice {
		return fmt.Errorf("a notice is only for mode %q", ModeNotice)
	}
	if r.Clipboard != nil && r.Mode != ModeClipboard {
		return fmt.Errorf("a clipboard crossing is only for mode %q", ModeClipboard)
	}
	if r.Print != nil && r.Mode != ModePrint {
		return fmt.Errorf("a print job is only for mode %q", ModePrint)
	}
	if r.OpenURI != nil && r.Mode != ModeOpenURI {
		return fmt.Errorf("a link to open is only for mode %q", ModeOpenURI)
	}
	if Clean(r.SandboxName, 0) == "" {
		return errors.New("missing sandbox name")
	}
	if r.SandboxColor != "" && !ValidColor(r.SandboxColor) {
		return fmt.Errorf("invalid sandbox colour %q", r.SandboxColor)
	}
	if r.SandboxIcon != "" && !iconName.MatchString(r.SandboxIcon) {
		return fmt.Errorf("invalid sandbox icon name %q", r.SandboxIcon)
	}
	for _, s := range []string{r.SandboxName, r.AppTitle, r.AcceptLabel} {
		if len(s) > MaxStringBytes {
			return errors.New("string too long")
		}
	}
	if r.TimeoutSeconds < 0 || r.TimeoutSeconds > MaxTimeoutSeconds {
		return fmt.Errorf("timeout %d out of range [0, %d]", r.TimeoutSeconds, MaxTimeoutSeconds)
	}
	if len(r.Filters) > MaxFilters {
		return fmt.Errorf("too many filters (%d, at most %d)", len(r.Filters), MaxFilters)
	}
	for i := range r.Filters {
		if err := validateFilter(&r.Filters[i]); err != nil {
			return fmt.Errorf("filter %d: %w", i, err)
		}
	}
	if r.CurrentFilter != nil {
		if err := validateFilter(r.CurrentFilter); err != nil {
			return fmt.Errorf("current filter: %w", err)
		}
	}
	if err := validateChoices(r.Choices); err != nil {
		return err
	}
	if r.CurrentName != "" {
		if err := validateName(r.CurrentName); err != nil {
			return fmt.Errorf("current name: %w", err)
		}
	}
	if r.CurrentFolder != "" {
		if err := validatePath(r.CurrentFolder); err != nil {
			return fmt.Errorf("current folder: %w", err)
		}
	}
	if r.CurrentFile != "" {
		if r.Mode == ModeOpen {
			return errors.New("current file is only for saving")
		}
		if err := validatePath(r.CurrentFile); err != nil {
			return fmt.Errorf("current file: %w", err)
		}
	}
	if r.Mode == ModeSaveFiles {
		if len(r.Files) == 0 {
			return errors.New("no files to save")
		}
		if len(r.Files) > MaxFiles {
			return fmt.Errorf("too many files (%d, at most %d)", len(r.Files), MaxFiles)
		}
		for i, f := range r.Files {
			if err := validateName(f); err != nil {
				return fmt.Errorf("file %d: %w", i, err)
			}
		}
	} else if len(r.Files) > 0 {
		return fmt.Errorf("files are only for mode %q", ModeSaveFiles)
	}
	return nil
}

// validateNewFile checks a ModeNewFile request: it carries the file and
// nothing of a file chooser.
func validateNewFile(r *Request) error {
	n := r.NewFile
	switch {
	case n == nil:
		return errors.New("no new file to ask about")
	case r.Multiple || r.Directory || r.ShowReadOnly || len(r.Files) > 0 || r.CurrentFile != "" ||
		len(r.Filters) > 0 || r.CurrentFilter != nil || len(r.Choices) > 0:
		return fmt.Errorf("file chooser options are not possible in mode %q", r.Mode)
	case n.Size < 0:
		return fmt.Errorf("negative size %d", n.Size)
	}
	if err := validateName(n.Name); err != nil {
		return fmt.Errorf("new file: %w", err)
	}
	if Clean(n.Name, 0) == "" {
		return errors.New("new file: name shows as nothing")
	}
	if err := validateName(n.Beside); err != nil {
		return fmt.Errorf("granted file: %w", err)
	}
	if err := validatePath(n.Folder); err != nil {
		return fmt.Errorf("folder: %w", err)
	}
	if n.HostName != "" {
		if err := validateName(n.HostName); err != nil {
			return fmt.Errorf("host name: %w", err)
		}
	}
	return nil
}

func validateFilter(f *Filter) error {
	if err := validateString(f.Name); err != nil {
		return fmt.Errorf("name: %w", err)
	}
	if Clean(f.Name, 0) == "" {
		return errors.New("empty name")
	}
	if len(f.Patterns) > MaxPatterns {
		return fmt.Errorf("too many patterns (%d, at most %d)", len(f.Patterns), MaxPatterns)
	}
	for _, p := range f.Patterns {
		if p.Kind != PatternGlob && p.Kind != PatternMIME {
			return fmt.Errorf("unknown pattern kind %d", p.Kind)
		}
		if p.Value == "" {
			return errors.New("empty pattern")
		}
		if err := validateString(p.Value); err != nil {
			return fmt.Errorf("pattern: %w", err)
		}
	}
	return nil
}

func validateChoices(choices []Choice) error {
	if len(choices) > MaxChoices {
		return fmt.Errorf("too many choices (%d, at most %d)", len(choices), MaxChoices)
	}
	seen := make(map[string]bool, len(choices))
	for i, c := range choices {
		if c.ID == "" {
			return fmt.Errorf("choice %d: empty id", i)
		}
		if c.ID == ReadOnlyChoiceID {
			return fmt.Errorf("choice %d: id %q is reserved", i, c.ID)
		}
		if seen[c.ID] {
			return fmt.Errorf("choice %d: duplicate id %q", i, c.ID)
		}
		seen[c.ID] = true
		for _, s := range []string{c.ID, c.Label, c.Default} {
			if err := validateString(s); err != nil {
				return fmt.Errorf("choice %d: %w", i, err)
			}
		}
		if len(c.Options) > MaxOptions {
			return fmt.Errorf("choice %d: too many options (%d, at most %d)", i, len(c.Options), MaxOptions)
		}
		if len(c.Options) == 0 {
			if c.Default != "" && c.Default != "true" && c.Default != "false" {
				return fmt.Errorf("choice %d: boolean default %q is not \"true\" or \"false\"", i, c.Default)
			}
			continue
		}
		ids := make(map[string]bool, len(c.Options))
		for _, o := range c.Options {
			if o[0] == "" {
				return fmt.Errorf("choice %d: empty option id", i)
			}
			if ids[o[0]] {
				return fmt.Errorf("choice %d: duplicate option id %q", i, o[0])
			}
			ids[o[0]] = true
			for _, s := range o {
				if err := validateString(s); err != nil {
					return fmt.Errorf("choice %d option: %w", i, err)
				}
			}
		}
		if c.Default != "" && !ids[c.Default] {
			return fmt.Errorf("choice %d: default %q is not one of its options", i, c.Default)
		}
	}
	return nil
}

// validateString refuses what cannot cross into C unchanged.
func validateString(s string) error {
	switch {
	case len(s) > MaxStringBytes:
		return errors.New("string too long")
	case !utf8.ValidString(s):
		return errors.New("invalid UTF-8")
	case strings.IndexByte(s, 0) >= 0:
		return errors.New("NUL byte")
	}
	return nil
}

// validateName accepts a single file name: no separator, not "." or "..".
func validateName(s string) error {
	if err := validateString(s); err != nil {
		return err
	}
	switch {
	case s == "" || s == "." || s == "..":
		return fmt.Errorf("invalid file name %q", s)
	case strings.ContainsRune(s, '/'):
		return fmt.Errorf("file name %q contains a slash", s)
	case len(s) > 255:
		return errors.New("file name longer than 255 bytes")
	}
	return nil
}

// validatePath accepts an absolute, clean path. The broker has already
// checked that the path is one the sandbox may suggest; this only guards GTK.
func validatePath(p string) error {
	if err := validateString(p); err != nil {
		return err
	}
	if !filepath.IsAbs(p) || filepath.Clean(p) != p {
		return fmt.Errorf("path %q is not absolute and clean", p)
	}
	return nil
}

// validateClipboard checks a ModeClipboard request: both sides named, a
// known kind, and nothing of a file chooser.
func validateClipboard(r *Request) error {
	c := r.Clipboard
	switch {
	case c == nil:
		return errors.New("no clipboard crossing to ask about")
	case r.Multiple || r.Directory || r.ShowReadOnly || len(r.Files) > 0 || r.CurrentFile != "" ||
		len(r.Filters) > 0 || r.CurrentFilter != nil || len(r.Choices) > 0 || r.NewFile != nil || r.OpenURI != nil:
		return fmt.Errorf("file chooser options are not possible in mode %q", r.Mode)
	case Clean(c.Source, 0) == "" || Clean(c.Destination, 0) == "" || len(c.Source) > MaxStringBytes || len(c.Destination) > MaxStringBytes:
		return errors.New("a clipboard crossing needs both sides")
	case c.Kind != "text" && c.Kind != "image":
		return fmt.Errorf("unknown clipboard content kind %q", c.Kind)
	case c.Size < 0:
		return fmt.Errorf("negative size %d", c.Size)
	}
	return nil
}
