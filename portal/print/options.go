package print

import (
	"fmt"

	"github.com/godbus/dbus/v5"

	"airlock/chooser-ui/protocol"
)

// knownSettings are the settings keys of the Print portal (its interface
// XML). Only these cross, both ways: an application's other keys are not
// shown to the dialog, and the host's own (the printer's name, cups-*
// options naming its hardware) never go back to the sandbox: the token
// stands for them.
var knownSettings = map[string]bool{
	"orientation": true, "paper-format": true, "paper-width": true, "paper-height": true,
	"n-copies": true, "default-source": true, "quality": true, "resolution": true,
	"use-color": true, "duplex": true, "collate": true, "reverse": true, "media-type": true,
	"dither": true, "scale": true, "print-pages": true, "page-ranges": true, "page-set": true,
	"finishings": true, "number-up": true, "number-up-layout": true, "output-bin": true,
	"resolution-x": true, "resolution-y": true, "printer-lpi": true,
}

// parseHints reads PreparePrint's arguments into the dialog's request.
func parseHints(title string, settings, setup, opts map[string]dbus.Variant) (protocol.Print, error) {
	if len(title) > protocol.MaxStringBytes {
		return protocol.Print{}, fmt.Errorf("title is too long")
	}
	if len(settings) > protocol.MaxPrintSettings || len(setup) > protocol.MaxPrintSettings || len(opts) > protocol.MaxPrintSettings {
		return protocol.Print{}, fmt.Errorf("too many settings")
	}
	job := protocol.Print{Title: title, Settings: map[string]string{}}
	for k, v := range settings {
		s, ok := v.Value().(string)
		if !ok || !knownSettings[k] {
			continue // ignored, as unknown keys are
		}
		job.Settings[k] = s
	}
	if err := protocol.ValidateSettings(job.Settings); err != nil {
		return protocol.Print{}, err
	}
	ps := protocol.PageSetup{}
	str := func(k string, dst *string) {
		if s, ok := setup[k].Value().(string); ok {
			*dst = s
		}
	}
	num := func(k string, dst *float64) {
		if d, ok := setup[k].Value().(float64); ok {
			*dst = d
		}
	}
	str("Name", &ps.Name)
	str("DisplayName", &ps.DisplayName)
	str("PPDName", &ps.PPDName)
	str("Orientation", &ps.Orientation)
	num("Width", &ps.Width)
	num("Height", &ps.Height)
	num("MarginTop", &ps.MarginTop)
	num("MarginBottom", &ps.MarginBottom)
	num("MarginLeft", &ps.MarginLeft)
	num("MarginRight", &ps.MarginRight)
	if err := protocol.ValidatePageSetup(&ps); err != nil {
		return protocol.Print{}, err
	}
	job.PageSetup = &ps
	// modal, accept_label and the version 3/4 options are hints the
	// trusted dialog does not take: its buttons are GTK's own words.
	if v, ok := opts["accept_label"]; ok {
		if _, ok := v.Value().(string); !ok {
			return protocol.Print{}, fmt.Errorf("accept_label must be a string")
		}
	}
	if v, ok := opts["modal"]; ok {
		if _, ok := v.Value().(bool); !ok {
			return protocol.Print{}, fmt.Errorf("modal must be a boolean")
		}
	}
	return job, nil
}

// settingsOut is what PreparePrint answers as settings: the known keys
// only, and the output format GTK's portal client must render (a PDF,
// which is all Print takes).
func settingsOut(s map[string]string) map[string]dbus.Variant {
	out := map[string]dbus.Variant{}
	for k, v := range s {
		if knownSettings[k] {
			out[k] = dbus.MakeVariant(v)
		}
	}
	out["output-file-format"] = dbus.MakeVariant("pdf")
	return out
}

// pageSetupOut is the page-setup result, with the portal's key names.
func pageSetupOut(p protocol.PageSetup) map[string]dbus.Variant {
	out := map[string]dbus.Variant{
		"Width": dbus.MakeVariant(p.Width), "Height": dbus.MakeVariant(p.Height),
		"MarginTop": dbus.MakeVariant(p.MarginTop), "MarginBottom": dbus.MakeVariant(p.MarginBottom),
		"MarginLeft": dbus.MakeVariant(p.MarginLeft), "MarginRight": dbus.MakeVariant(p.MarginRight),
	}
	if p.Orientation != "" {
		out["Orientation"] = dbus.MakeVariant(p.Orientation)
	}
	for k, v := range map[string]string{"Name": p.Name, "DisplayName": p.DisplayName, "PPDName": p.PPDName} {
		if v != "" {
			out[k] = dbus.MakeVariant(v)
		}
	}
	return out
}
