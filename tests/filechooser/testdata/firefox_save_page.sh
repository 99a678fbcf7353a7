#!/bin/sh
# Runs inside a sandbox: Firefox ESR shows a small page made in the sandbox's
# /tmp (no network), and "Save Page As" (Ctrl+S) asks the portal where to
# save it; the format is Firefox's default, "Web Page, complete", which
# writes NAME.html and NAME_files/ beside it. xdotool drives the nested
# display as the user would. Prints "== asked" once Ctrl+S was pressed;
# ends Firefox (SIGTERM) when a line arrives on stdin.
set -e
mkdir -p /tmp/site /tmp/ffprof
cat > /tmp/site/page.html <<'EOF'
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>page</title>
<link rel="stylesheet" href="style.css"></head>
<body><h1>airlock marker</h1><img src="dot.png" alt="dot"></body></html>
EOF
printf 'h1 { color: #c00 }\n' > /tmp/site/style.css
# A 1x1 PNG.
printf '\211PNG\r\n\032\n\000\000\000\rIHDR\000\000\000\001\000\000\000\001\010\006\000\000\000\037\025\304\211\000\000\000\rIDATx\234c\370\377\377?\000\005\376\002\376\247\065\201\204\000\000\000\000IEND\256B`\202' > /tmp/site/dot.png
cat > /tmp/ffprof/user.js <<'EOF'
user_pref("widget.use-xdg-desktop-portal.file-picker", 1);
user_pref("browser.download.save_converter_index", 0);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("browser.aboutwelcome.enabled", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
user_pref("browser.tabs.warnOnClose", false);
user_pref("browser.sessionstore.resume_from_crash", false);
EOF
firefox-esr --no-remote --profile /tmp/ffprof file:///tmp/site/page.html >/tmp/ff.log 2>&1 &
ff=$!
w=$(xdotool search --sync --onlyvisible --name '^page' | head -1)
xdotool windowfocus --sync "$w"
# The page's own content loaded: its title is in the window's name already;
# give Firefox's UI a moment to take keys after the first paint.
sleep 3
xdotool key --clearmodifiers ctrl+s
echo "== asked"
read x
kill "$ff"
wait "$ff" || true
echo "== firefox log"; tail -n 30 /tmp/ff.log
echo "== end"
