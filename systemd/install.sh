#!/usr/bin/env bash
# Installs the compile farm's systemd pieces:
#   spotjobs-compile-worker.service, spotjobs-compile-api.service -> <root>/etc/systemd/system/  (0644)
#   spotjobs-compile.env  -> <root>/etc/spotjobs/compile.env  (0600: it holds API keys)
#                            never over an existing one: the new file goes beside it as
#                            compile.env.dist, to compare by hand
#   system-sleep/spotjobs -> <root>/usr/lib/systemd/system-sleep/spotjobs  (0755)
# then runs `systemctl daemon-reload` when installing into the live system and systemd runs.
# It enables and starts nothing: `systemctl enable --now spotjobs-compile-worker` does.
#
# Usage: install.sh [--root DIR] [--prefix DIR] [--link-launchers]
#   --root DIR        install under DIR instead of / (images, tests); no daemon-reload
#   --prefix DIR      where the product lives (default /opt/spotjobs): the units start
#                     DIR/bin/spotjobs-compile-worker and DIR/bin/spotjobs-compile-api
#   --link-launchers  also link <root>DIR/bin/spotjobs-compile-{worker,api} to the launchers of
#                     this checkout (packages/compile-worker/bin), to run from a source tree
#
# Safe to run again: units and hook are replaced (each written beside its target, then renamed
# over it), the environment file is kept. Arguments are checked against fixed patterns and
# passed as arguments only; nothing is evaluated.
set -euo pipefail

here="$(CDPATH='' cd -P "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
default_prefix=/opt/spotjobs

say() { printf 'install.sh: %s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}
usage() {
  sed -n '/^# Usage:/,/^#$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit "${1:-2}"
}

root=/
prefix="$default_prefix"
link_launchers=0
while [ "$#" -gt 0 ]; do
  case "$1" in
    --root)
      [ "$#" -ge 2 ] || die "--root needs a directory"
      root="$2"
      shift 2
      ;;
    --root=*)
      root="${1#--root=}"
      shift
      ;;
    --prefix)
      [ "$#" -ge 2 ] || die "--prefix needs a directory"
      prefix="$2"
      shift 2
      ;;
    --prefix=*)
      prefix="${1#--prefix=}"
      shift
      ;;
    --link-launchers)
      link_launchers=1
      shift
      ;;
    -h | --help) usage 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
done

[ -n "$root" ] || die "--root is empty"
[ -d "$root" ] || die "--root $root is not a directory"
root="$(CDPATH='' cd -P -- "$root" && pwd)"
# The prefix ends up in ExecStart= lines: an absolute path of plain characters only (no
# spaces, no % which systemd expands, no .. components), so it needs no quoting there and
# cannot change the sed expression that writes it.
case "$prefix" in
  /*) ;;
  *) die "--prefix must be an absolute path" ;;
esac
if ! [[ "$prefix" =~ ^(/[A-Za-z0-9._-]+)+$ ]] || [[ "/$prefix/" == */../* ]] || [[ "/$prefix/" == */./* ]]; then
  die "--prefix '$prefix' must be /-separated names of A-Z a-z 0-9 . _ - (no . or .. components)"
fi

for f in spotjobs-compile-worker.service spotjobs-compile-api.service spotjobs-compile.env system-sleep/spotjobs; do
  [ -f "$here/$f" ] || die "missing $here/$f"
done

# $root without a trailing slash, so "$dest_root/etc" is never "//etc".
dest_root="${root%/}"

# Writes stdin to a temporary file beside $1, sets mode $2, then renames it over $1: a reader
# (systemd, a sleeping host) never sees a half-written file.
put() {
  local dest="$1" mode="$2" tmp
  mkdir -p -- "$(dirname -- "$dest")"
  tmp="$(mktemp -- "$dest.XXXXXX")"
  if ! cat >"$tmp" || ! chmod "$mode" -- "$tmp" || ! mv -f -- "$tmp" "$dest"; then
    rm -f -- "$tmp"
    die "could not write $dest"
  fi
  say "installed $dest ($mode)"
}

units="$dest_root/etc/systemd/system"
for unit in spotjobs-compile-worker.service spotjobs-compile-api.service; do
  sed "s|^ExecStart=$default_prefix/|ExecStart=$prefix/|" -- "$here/$unit" | put "$units/$unit" 0644
done

env_file="$dest_root/etc/spotjobs/compile.env"
if [ -e "$env_file" ] || [ -L "$env_file" ]; then
  put "$env_file.dist" 0600 <"$here/spotjobs-compile.env"
  say "kept $env_file; the shipped one is $env_file.dist"
else
  put "$env_file" 0600 <"$here/spotjobs-compile.env"
fi

put "$dest_root/usr/lib/systemd/system-sleep/spotjobs" 0755 <"$here/system-sleep/spotjobs"

if [ "$link_launchers" -eq 1 ]; then
  bin="$dest_root$prefix/bin"
  mkdir -p -- "$bin"
  for name in spotjobs-compile-worker spotjobs-compile-api; do
    src="$repo/packages/compile-worker/bin/$name"
    [ -x "$src" ] || die "missing launcher $src"
    ln -sfn -- "$src" "$bin/$name"
    say "linked $bin/$name -> $src"
  done
fi

if [ "$root" = / ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload
  say "systemd reloaded; start with: systemctl enable --now spotjobs-compile-worker spotjobs-compile-api"
else
  say "not the running system (or no systemd): skipped systemctl daemon-reload"
fi
