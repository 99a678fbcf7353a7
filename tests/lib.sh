# Shared set-up for tests/demo.sh, tests/run.sh and the benchmarks: installs
# what Airlock and its tests need on Debian 12, finds or fetches Go, builds.
# Sourced, not run.

AIRLOCK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
AIRLOCK_BUILD=${AIRLOCK_BUILD:-$AIRLOCK_ROOT/build}
GO_WANTED=go1.26.8

# Debian packages: the sandbox's runtime (Xephyr, xauth), the real components
# the tests drive (dbus-daemon, Xvfb, GTK, zenity, xdotool), and the anchors
# the benchmarks compare against (bubblewrap, xdg-dbus-proxy).
AIRLOCK_PACKAGES="ca-certificates git gcc pkg-config libgtk-3-dev xvfb xserver-xephyr xauth xclip
 x11-utils x11-apps x11-xserver-utils xdotool imagemagick dbus dbus-x11 libglib2.0-bin python3-gi python3-dbus
 gir1.2-gtk-3.0 gir1.2-gtk-4.0 zenity bubblewrap xdg-dbus-proxy iproute2 procps psmisc fuse3 at-spi2-core python3-pyatspi gettext"

# The shipped profiles' real applications, opening and saving through
# Airlock's chooser from their own dialogs (tests/filechooser/gedit_test.go,
# libreoffice_test.go, appdialog_test.go): LibreOffice with its gtk3 plugin,
# whose file picker the preloaded library routes to the portal; their
# windows in the nested display (tests/display).
AIRLOCK_PACKAGES="$AIRLOCK_PACKAGES gedit libreoffice-writer libreoffice-gtk3 evince gnome-text-editor unzip"
# Real GNOME applications for the session tests (tests/filechooser/
# session_test.go: dconf, Inhibit, evince's daemon, second launches), a real
# Qt 5 application saving through the portal and a real Firefox ESR saving a
# page "complete" (qt5_test.go, firefox_test.go).
AIRLOCK_PACKAGES="$AIRLOCK_PACKAGES firefox-esr python3-pyqt5 qt5-xdgdesktopportal-platformtheme"

# A real IBus (daemon, ibus-portal, the GTK 3 and 4 modules, its typelib) and a Qt 5
# application (python3-pyqt5) for the input method tests
# (tests/portal/ibus_test.go).
AIRLOCK_PACKAGES="$AIRLOCK_PACKAGES ibus ibus-gtk3 ibus-gtk4 gir1.2-ibus-1.0 python3-pyqt5"

# Installing like a package (tests/install): meson and ninja build and
# install into a temporary prefix; desktop-file-validate checks the
# launchers, apparmor_parser the AppArmor profile, man the man pages; the
# installed bash completion runs under bash-completion.
AIRLOCK_PACKAGES="$AIRLOCK_PACKAGES meson ninja-build desktop-file-utils apparmor bash-completion man-db"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

ensure_packages() {
	local missing=()
	for p in $AIRLOCK_PACKAGES "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		log "missing Debian packages: ${missing[*]} (run as root to install them)"
		return 1
	fi
	log "installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

go_ok() {
	command -v go >/dev/null 2>&1 || return 1
	local v
	v=$(go env GOVERSION 2>/dev/null) || return 1
	# go1.26.x or newer
	[ "$(printf '%s\n%s\n' "${GO_WANTED%.*}" "${v%.*}" | sort -V | head -n1)" = "${GO_WANTED%.*}" ]
}

# ensure_go puts a Go toolchain new enough for go.mod on PATH: the one in
# /usr/local/go, or else Debian's go (1.19) used once to fetch the wanted
# toolchain from the Go module proxy, as the go command itself does.
ensure_go() {
	export PATH=${AIRLOCK_GOROOT:-/usr/local/go}/bin:$HOME/go/bin:$PATH
	go_ok && return 0
	if ! command -v go >/dev/null 2>&1; then
		log "installing Debian's golang-go to bootstrap $GO_WANTED"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends golang-go >/dev/null
	fi
	local tmp dir
	tmp=$(mktemp -d)
	(cd "$tmp" && GO111MODULE=on go mod init bootstrap >/dev/null 2>&1)
	dir=$(cd "$tmp" && GO111MODULE=on GOFLAGS=-modcacherw go mod download -json "golang.org/toolchain@v0.0.1-$GO_WANTED.linux-amd64" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
	rm -rf "$tmp"
	[ -n "$dir" ] || { log "cannot fetch $GO_WANTED"; return 1; }
	chmod +x "$dir"/bin/* "$dir"/pkg/tool/*/* 2>/dev/null
	export PATH=$dir/bin:$PATH GOTOOLCHAIN=local
	go_ok
}

# ensure_fuse makes /dev/fuse usable by ordinary users, as desktop systems
# ship it (0666); the document store is a FUSE file system of the user's.
ensure_fuse() {
	[ -c /dev/fuse ] || modprobe fuse 2>/dev/null || true
	if [ -c /dev/fuse ] && [ "$(id -u)" -eq 0 ]; then chmod 0666 /dev/fuse; fi
}

# build_gtkdialog builds the file-dialog library that sandboxes preload
# (launcher/gtkdialog/gtkdialog.c) into folder $1, beside the airlock binary
# that looks for it there. The same command as tests/harness and meson.build.
build_gtkdialog() {
	# shellcheck disable=SC2046
	gcc -shared -fPIC -O2 -Wall -Werror $(pkg-config --cflags gtk+-3.0) -Wl,-z,defs \
		-o "$1/libairlock-gtkdialog.so" "$AIRLOCK_ROOT/launcher/gtkdialog/gtkdialog.c"
}

# build_airlock builds every binary into $AIRLOCK_BUILD, world-readable so
# that an ordinary user can run them from a root-owned checkout.
build_airlock() {
	mkdir -p "$AIRLOCK_BUILD"
	(cd "$AIRLOCK_ROOT" && for c in launcher:airlock portal:airlock-portal chooser-ui:airlock-chooser; do
		pkg=${c%%:*} bin=${c##*:}
		[ -d "$pkg" ] && ls "$pkg"/*.go >/dev/null 2>&1 || continue
		go build -buildvcs=false -o "$AIRLOCK_BUILD/$bin" "./$pkg" || return 1
	done)
	build_gtkdialog "$AIRLOCK_BUILD" || return 1
	chmod 755 "$AIRLOCK_BUILD" "$AIRLOCK_BUILD"/*
}

# as_user runs a command as the ordinary user the demo and benchmarks use
# (created when missing): sandboxes are never started as root.
AIRLOCK_USER=${AIRLOCK_USER:-airlock-demo}
ensure_user() {
	if [ "$(id -u)" -ne 0 ]; then AIRLOCK_USER=$(id -un); return 0; fi
	id "$AIRLOCK_USER" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh "$AIRLOCK_USER"
	AIRLOCK_USER_RUNTIME=/tmp/airlock-runtime-$(id -u "$AIRLOCK_USER")
	install -d -m 0700 -o "$AIRLOCK_USER" -g "$AIRLOCK_USER" "$AIRLOCK_USER_RUNTIME"
}
as_user() {
	if [ "$(id -u)" -ne 0 ]; then "$@"; return; fi
	local home
	home=$(getent passwd "$AIRLOCK_USER" | cut -d: -f6)
	# AS_USER_EXEC=1: replace the calling (background) shell, so that $!
	# is the command's own PID and it can be stopped by PID.
	${AS_USER_EXEC:+exec} setpriv --reuid="$AIRLOCK_USER" --regid="$AIRLOCK_USER" --init-groups --reset-env \
		env HOME="$home" USER="$AIRLOCK_USER" XDG_RUNTIME_DIR="$AIRLOCK_USER_RUNTIME" \
		PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 ${DISPLAY:+DISPLAY=$DISPLAY} \
		AIRLOCK_DATADIR="$AIRLOCK_ROOT/data" NO_AT_BRIDGE=1 GSETTINGS_BACKEND=memory "$@"
}

# free_display prints an X display number with no server.
free_display() {
	local n=${1:-90}
	while [ -e /tmp/.X11-unix/X$n ] || [ -e /tmp/.X$n-lock ]; do n=$((n + 1)); done
	echo "$n"
}
