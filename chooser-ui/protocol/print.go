package protocol

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"unicode/utf8"
)

// ModePrint shows Airlock's print dialog (GTK's, listing CUPS' printers)
// for a sandbox's PreparePrint or Print; the choice is in Response.Print.
const ModePrint = "print"

// Bounds of a print request: the application's hints are short strings.
const (
	MaxPrintSettings = 64
	MaxPrintValue    = 1024
	// MaxPaperMM bounds a page's side: larger than any real sheet, small
	// enough for GTK's arithmetic.
	MaxPaperMM = 10000
)

// printKey is what a GtkPrintSettings key looks like ("n-copies",
// "cups-InputSlot", "printer").
var printKey = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,63}$`)

// Print is what a ModePrint dialog starts from.
type Print struct {
	// Title is the application's title for the job: UNTRUSTED, cleaned
	// and capped, shown as the application's words only.
	Title string `json:"title"`
	// Settings and PageSetup are the application's hints (the broker
	// keeps only keys it knows, as strings) or, for the dialog's answer,
	// what the user chose.
	Settings  map[string]string `json:"settings,omitempty"`
	PageSetup *PageSetup        `json:"page_setup,omitempty"`
}

// PageSetup is the Print portal's page-setup, sizes in millimetres.
type PageSetup struct {
	Name         string  `json:"name,omitempty"`
	DisplayName  string  `json:"display_name,omitempty"`
	PPDName      string  `json:"ppd_name,omitempty"`
	Orientation  string  `json:"orientation,omitempty"` // portrait, landscape, reverse-portrait, reverse-landscape
	Width        float64 `json:"width,omitempty"`
	Height       float64 `json:"height,omitempty"`
	MarginTop    float64 `json:"margin_top,omitempty"`
	MarginBottom float64 `json:"margin_bottom,omitempty"`
	MarginLeft   float64 `json:"margin_left,omitempty"`
	MarginRight  float64 `json:"margin_right,omitempty"`
}

// PrintResult is a ModePrint dialog's answer (ResponseSuccess only): the
// printer chosen (a CUPS queue) and the settings and page setup.
type PrintResult struct {
	Printer   string            `json:"printer"`
	Settings  map[string]string `json:"settings"`
	PageSetup PageSetup         `json:"page_setup"`
}

// ValidPrinterName reports whether s can be a CUPS queue name: printable
// ASCII but space, '/', '#' and '\' (CUPS' own rule), at most 127 bytes,
// and not starting with '-' (it is an argument to lp).
func ValidPrinterName(s string) bool {
	if s == "" || len(s) > 127 || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '/' || c == '#' || c == '\\' {
			return false
		}
	}
	return true
}

// ValidateSettings checks print settings: few, short, known-shaped keys,
// valid UTF-8 values without NUL.
func ValidateSettings(s map[string]string) error {
	if len(s) > MaxPrintSettings {
		return fmt.Errorf("too many print settings (%d, at most %d)", len(s), MaxPrintSettings)
	}
	for k, v := range s {
		if !printKey.MatchString(k) {
			return fmt.Errorf("bad print setting name %q", k)
		}
		if len(v) > MaxPrintValue || !utf8.ValidString(v) || hasNUL(v) {
			return fmt.Errorf("bad value of print setting %q", k)
		}
	}
	return nil
}

// ValidatePageSetup checks a page setup's sizes and words.
func ValidatePageSetup(p *PageSetup) error {
	for _, x := range []float64{p.Width, p.Height, p.MarginTop, p.MarginBottom, p.MarginLeft, p.MarginRight} {
		if math.IsNaN(x) || x < 0 || x > MaxPaperMM {
			return errors.New("page setup sizes must be between 0 and 10000 mm")
		}
	}
	switch p.Orientation {
	case "", "portrait", "landscape", "reverse-portrait", "reverse-landscape":
	default:
		return fmt.Errorf("bad orientation %q", p.Orientation)
	}
	for _, s := range []string{p.Name, p.DisplayName, p.PPDName} {
		if len(s) > 128 || !utf8.ValidString(s) || hasNUL(s) {
			return errors.New("bad paper name")
		}
	}
	return nil
}

func hasNUL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return true
		}
	}
	return false
}

// validatePrint checks a ModePrint request.
func validatePrint(r *Request) error {
	if r.Print == nil {
		return errors.New("a print dialog needs its print request")
	}
	if len(r.Print.Title) > MaxStringBytes {
		return errors.New("print title is too long")
	}
	if err := ValidateSettings(r.Print.Settings); err != nil {
		return err
	}
	if r.Print.PageSetup != nil {
		if err := ValidatePageSetup(r.Print.PageSetup); err != nil {
			return err
		}
	}
	if len(r.Filters) > 0 || len(r.Choices) > 0 || len(r.Files) > 0 || r.CurrentFolder != "" || r.CurrentFile != "" {
		return fmt.Errorf("file chooser options are not possible in mode %q", r.Mode)
	}
	return nil
}
