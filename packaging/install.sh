#!/usr/bin/env bash
# Install the Live Transcriber bundle (built by `make package`) as a desktop app: the program,
# a command on PATH, the launcher entry and the icons in the hicolor theme.
#
#   install.sh               for you: ~/.local/lib/live-transcriber, ~/.local/bin/live-transcriber,
#                            entry, icons and AppStream data under ${XDG_DATA_HOME:-~/.local/share}
#   install.sh --system      for everyone (as root): /opt/live-transcriber, /usr/local/bin,
#                            /usr/share/{applications,icons/hicolor,metainfo}
#   --prefix DIR             the per-user layout under DIR instead of ~/.local:
#                            DIR/lib/live-transcriber, DIR/bin, DIR/share/...
#   --destdir DIR            stage the install under DIR (for packagers): files go to DIR/<path>,
#                            the entry still names <path>; no caches are updated
#   --bundle DIR             the bundle to install; default: the folder holding this script when
#                            it is a bundle, else dist/live-transcriber beside packaging/
#   --force                  replace a live-transcriber command that is not ours (e.g. pipx's)
#
# Running it again replaces the installed copy. It records what it creates in
# <lib>/INSTALLED; uninstall.sh (same options) removes exactly that.
set -euo pipefail

name=live-transcriber
entry=$name.desktop
metainfo=io.github.livetranscriber.LiveTranscriber.metainfo.xml
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }
die() { echo "install.sh: $*" >&2; exit 1; }

mode=user prefix="" destdir="" bundle="" force=0
while [ $# -gt 0 ]; do
  case $1 in
    --system) mode=system ;;
    --user) mode=user ;;
    --prefix) [ $# -ge 2 ] || die "--prefix needs a folder"; prefix=$2; shift ;;
    --prefix=*) prefix=${1#*=} ;;
    --destdir) [ $# -ge 2 ] || die "--destdir needs a folder"; destdir=$2; shift ;;
    --destdir=*) destdir=${1#*=} ;;
    --bundle) [ $# -ge 2 ] || die "--bundle needs a folder"; bundle=$2; shift ;;
    --bundle=*) bundle=${1#*=} ;;
    --force) force=1 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done

# --- where things go -----------------------------------------------------------------------
if [ "$mode" = system ]; then
  [ -z "$prefix" ] || die "--prefix is for the per-user layout; use --destdir with --system"
  libdir=/opt/$name bindir=/usr/local/bin datadir=/usr/share
  if [ -z "$destdir" ] && [ "$(id -u)" -ne 0 ]; then
    die "--system installs for every user: run it as root (sudo $0 --system)"
  fi
elif [ -n "$prefix" ]; then
  case $prefix in /*) ;; *) prefix=$(pwd)/$prefix ;; esac
  libdir=$prefix/lib/$name bindir=$prefix/bin datadir=$prefix/share
else
  [ -n "${HOME:-}" ] || die "HOME is not set"
  data_home=${XDG_DATA_HOME:-$HOME/.local/share}
  case $data_home in /*) ;; *) data_home=$HOME/.local/share ;; esac  # the spec: ignore relative
  libdir=$HOME/.local/lib/$name bindir=$HOME/.local/bin datadir=$data_home
fi
case $destdir in ""|/*) ;; *) destdir=$(pwd)/$destdir ;; esac
for path in "$libdir" "$bindir" "$datadir"; do
  # Kept out of the desktop entry's Exec line, where they would need quoting rules of their own.
  case $path in *[\"\`\$\\%]*|*$'\n'*) die "unsupported character in $path" ;; esac
done

# --- the bundle ----------------------------------------------------------------------------
if [ -z "$bundle" ]; then
  if [ -x "$here/$name" ] && [ -d "$here/_internal" ]; then bundle=$here
  else bundle=$here/../dist/$name; fi
fi
if [ ! -x "$bundle/$name" ] || [ ! -d "$bundle/_internal/resources" ]; then
  die "no bundle at $bundle: build it first (make package) or pass --bundle DIR"
fi
bundle=$(cd "$bundle" && pwd)
resources=$bundle/_internal/resources

# Refuse before changing anything when the command name belongs to something else.
link=$destdir$bindir/$name
if [ -e "$link" ] || [ -L "$link" ]; then
  if [ "$(readlink "$link" || true)" != "$libdir/$name" ] && [ "$force" -ne 1 ]; then
    die "$link exists and is not this install's (pipx?): remove it or pass --force"
  fi
fi

# --- install, remembering what was created -------------------------------------------------
manifest=$destdir$libdir/INSTALLED
created_dirs=() caches=() previous_files=()
if [ -f "$manifest" ]; then  # a re-install still owns what the first install created
  while IFS= read -r line; do
    case $line in
      "dir "*) created_dirs+=("${line#dir }") ;;
      "cache "*) caches+=("${line#cache }") ;;
      "file "*) previous_files+=("${line#file }") ;;
    esac
  done < "$manifest"
fi
files=()

make_dir() {  # mkdir -p that records every folder it creates
  local dir=$1 missing=()
  while [ ! -d "$dir" ]; do missing=("$dir" "${missing[@]}"); dir=$(dirname "$dir"); done
  for dir in "${missing[@]}"; do mkdir "$dir"; created_dirs+=("$dir"); done
}

put() {  # put SOURCE DEST [MODE]: copy a file into place atomically
  make_dir "$(dirname "$2")"
  install -m "${3:-644}" "$1" "$2.new.$$"
  mv -f "$2.new.$$" "$2"
  files+=("$2")
}

staging="" edited=""
cleanup() { rm -rf "$staging"; rm -f "$edited"; }
trap cleanup EXIT

# The program: copied beside the old copy, then swapped in.
make_dir "$(dirname "$destdir$libdir")"
staging=$destdir$libdir.new.$$
rm -rf "$staging"
cp -a "$bundle/." "$staging/"
rm -f "$staging/INSTALLED"
if [ -d "$destdir$libdir" ]; then
  rm -rf "$destdir$libdir.old.$$"
  mv "$destdir$libdir" "$destdir$libdir.old.$$"
  mv "$staging" "$destdir$libdir"
  rm -rf "$destdir$libdir.old.$$"
else
  mv "$staging" "$destdir$libdir"
  created_dirs+=("$destdir$libdir")
fi

# The command on PATH: a symlink, unless something else already owns the name.
make_dir "$destdir$bindir"
ln -sfn "$libdir/$name" "$link"

# The launcher entry, pointing at the installed program (quoted in Exec if it has a space).
program=$libdir/$name
exec_value=$program
case $program in *" "*) exec_value="\"$program\"" ;; esac
sed_text() { printf '%s' "$1" | sed -e 's/[|&]/\\&/g'; }  # literal in a sed replacement
edited=$(mktemp)
sed -e "s|^Exec=.*|Exec=$(sed_text "$exec_value")|" \
  -e "s|^TryExec=.*|TryExec=$(sed_text "$program")|" "$resources/$entry" > "$edited"
put "$edited" "$destdir$datadir/applications/$entry"

# Icons in the hicolor theme: every PNG size, and the SVG as the scalable one.
for png in "$resources"/icons/hicolor/*/apps/"$name".png; do
  size=$(basename "$(dirname "$(dirname "$png")")")
  put "$png" "$destdir$datadir/icons/hicolor/$size/apps/$name.png"
done
put "$resources/$name.svg" "$destdir$datadir/icons/hicolor/scalable/apps/$name.svg"
put "$resources/$metainfo" "$destdir$datadir/metainfo/$metainfo"

# Caches: the menu's MIME cache, and the icon cache only where one already exists (a cache
# that exists but lacks our icons hides them; no cache at all is fine).
if [ -z "$destdir" ]; then
  if command -v update-desktop-database >/dev/null; then
    mime_cache=$datadir/applications/mimeinfo.cache
    [ -e "$mime_cache" ] || caches+=("$mime_cache")
    update-desktop-database -q "$datadir/applications" || true
  fi
  if [ -f "$datadir/icons/hicolor/icon-theme.cache" ] && command -v gtk-update-icon-cache >/dev/null
  then
    gtk-update-icon-cache -q -t -f "$datadir/icons/hicolor" || true
  fi
  touch "$datadir/icons/hicolor" 2>/dev/null || true  # tells running desktops to look again
fi

# What an earlier install put in place and this one no longer does (an icon size dropped).
for old in "${previous_files[@]}"; do
  keep=0
  for f in "${files[@]}"; do [ "$f" != "$old" ] || keep=1; done
  [ "$keep" -eq 1 ] || rm -f "$old"
done

{
  echo "# Written by install.sh: what uninstall.sh removes. Folders last, if left empty."
  echo "link $link"
  for f in "${files[@]}"; do echo "file $f"; done
  for c in "${caches[@]}"; do echo "cache $c"; done
  for d in "${created_dirs[@]}"; do echo "dir $d"; done
} > "$manifest"

echo "Installed Live Transcriber in $destdir$libdir"
echo "  command:  $link"
echo "  launcher: $destdir$datadir/applications/$entry"
case ":${PATH:-}:" in
  *":$bindir:"*) ;;
  *) [ -n "$destdir" ] || echo "  note: $bindir is not on your PATH; the launcher works anyway" ;;
esac
