#!/usr/bin/env bash
# Remove what install.sh installed, using the list it wrote (<lib>/INSTALLED).
#
#   uninstall.sh               the per-user install (~/.local/lib/live-transcriber ...)
#   uninstall.sh --system      the system-wide one (as root)
#   --prefix DIR, --destdir DIR   as given to install.sh
#
# Folders install.sh created are removed too when nothing else is left in them. Settings,
# saved transcripts and the API key in the keyring are yours and stay.
set -euo pipefail

name=live-transcriber
die() { echo "uninstall.sh: $*" >&2; exit 1; }

mode=user prefix="" destdir=""
while [ $# -gt 0 ]; do
  case $1 in
    --system) mode=system ;;
    --user) mode=user ;;
    --prefix) [ $# -ge 2 ] || die "--prefix needs a folder"; prefix=$2; shift ;;
    --prefix=*) prefix=${1#*=} ;;
    --destdir) [ $# -ge 2 ] || die "--destdir needs a folder"; destdir=$2; shift ;;
    --destdir=*) destdir=${1#*=} ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done

if [ "$mode" = system ]; then
  libdir=/opt/$name datadir=/usr/share
  if [ -z "$destdir" ] && [ "$(id -u)" -ne 0 ]; then die "--system: run it as root"; fi
elif [ -n "$prefix" ]; then
  case $prefix in /*) ;; *) prefix=$(pwd)/$prefix ;; esac
  libdir=$prefix/lib/$name datadir=$prefix/share
else
  [ -n "${HOME:-}" ] || die "HOME is not set"
  data_home=${XDG_DATA_HOME:-$HOME/.local/share}
  case $data_home in /*) ;; *) data_home=$HOME/.local/share ;; esac
  libdir=$HOME/.local/lib/$name datadir=$data_home
fi
case $destdir in ""|/*) ;; *) destdir=$(pwd)/$destdir ;; esac

manifest=$destdir$libdir/INSTALLED
if [ ! -f "$manifest" ]; then
  [ ! -e "$destdir$libdir" ] || die "$destdir$libdir has no INSTALLED list: not removing it"
  echo "Live Transcriber is not installed in $destdir$libdir: nothing to do"
  exit 0
fi

links=() files=() caches=() dirs=()
while IFS= read -r line; do
  case $line in
    "link "*) links+=("${line#link }") ;;
    "file "*) files+=("${line#file }") ;;
    "cache "*) caches+=("${line#cache }") ;;
    "dir "*) dirs+=("${line#dir }") ;;
  esac
done < "$manifest"

for link in "${links[@]}"; do
  # Only our own link: if something else took the name since, it is not ours to remove.
  if [ -L "$link" ] && [ "$(readlink "$link")" = "$libdir/$name" ]; then rm -f "$link"; fi
done
for file in "${files[@]}"; do rm -f "$file"; done
rm -rf "$destdir$libdir"

# The MIME cache of the menu folder: install.sh's own copy goes when no entry left there
# declares a MimeType (it describes nothing); otherwise it is brought up to date.
apps=$datadir/applications
if [ -z "$destdir" ] && [ -d "$apps" ]; then
  ours=0
  for cache in "${caches[@]}"; do [ "$cache" != "$apps/mimeinfo.cache" ] || ours=1; done
  if [ "$ours" -eq 1 ] && ! grep -qs '^MimeType=' "$apps"/*.desktop; then
    rm -f "$apps/mimeinfo.cache"
  elif command -v update-desktop-database >/dev/null; then
    update-desktop-database -q "$apps" || true
  fi
fi

if [ -z "$destdir" ] && [ -f "$datadir/icons/hicolor/icon-theme.cache" ] &&
  command -v gtk-update-icon-cache >/dev/null; then
  gtk-update-icon-cache -q -t -f "$datadir/icons/hicolor" || true
fi

# Folders install.sh created, deepest first, when nothing else is in them.
if [ ${#dirs[@]} -gt 0 ]; then
  while IFS= read -r dir; do
    if [ -d "$dir" ]; then rmdir "$dir" 2>/dev/null || true; fi
  done < <(printf '%s\n' "${dirs[@]}" | sort -r)
fi
echo "Removed Live Transcriber from $destdir$libdir"
