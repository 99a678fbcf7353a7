package cli

import (
	"context"
	"fmt"

	"airlock/po/i18n"
	"airlock/portal/control"
)

// cmdClipboard moves content between sandboxes' clipboards through
// Airlock's own (portal/clipboard): copy takes a domain's CLIPBOARD, paste
// offers it in another domain, where the application's own paste finds it.
// show names the type and size, never the content.
func cmdClipboard(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return exitUsage
	}
	switch {
	case len(args) == 2 && (args[0] == "copy" || args[0] == "paste"):
		domain := args[1]
		if domain != control.ClipboardDomainHost {
			id, ok := sandboxID(domain)
			if !ok {
				return exitFailed
			}
			domain = id
		}
		return withPortal(func(ctx context.Context, c *control.Client) error {
			if args[0] == "copy" {
				info, err := c.ClipboardCopy(ctx, domain)
				if err != nil {
					return fmt.Errorf("%s", i18n.T("cannot copy the clipboard of %s: %v", args[1], err))
				}
				fmt.Fprintln(stdout, i18n.T("copied %s from %s", describe(info), args[1]))
				return nil
			}
			info, err := c.ClipboardPaste(ctx, domain)
			if err != nil {
				return fmt.Errorf("%s", i18n.T("cannot paste into %s: %v", args[1], err))
			}
			fmt.Fprintln(stdout, i18n.T("pasted %s from %s into %s", describe(info), info.Source, args[1]))
			return nil
		})
	case len(args) == 1 && args[0] == "show":
		return withPortal(func(ctx context.Context, c *control.Client) error {
			info, err := c.ClipboardShow(ctx)
			if err != nil {
				return err
			}
			if info.Kind == "" {
				fmt.Fprintln(stdout, i18n.T("Airlock's clipboard is empty"))
				return nil
			}
			fmt.Fprintln(stdout, i18n.T("%s from %s", describe(info), info.Source))
			return nil
		})
	case len(args) == 1 && args[0] == "clear":
		return withPortal(func(ctx context.Context, c *control.Client) error {
			return c.ClipboardClear(ctx)
		})
	}
	fmt.Fprint(stderr, usage())
	return exitUsage
}

// describe says what the clipboard holds: type and size, never content.
func describe(i control.ClipboardInfo) string {
	if i.Kind == "image" {
		return i18n.T("an image of %d bytes", i.Size)
	}
	return i18n.T("%d bytes of text", i.Size)
}
