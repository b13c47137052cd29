#!/usr/bin/env bash
# Builds the compile-worker's test builder image without a registry: a busybox rootfs (from
# Debian's busybox-static) plus the Portage stand-ins in standin/, `docker import`-ed under a
# tag derived from its content, so running this again is a no-op until something changes.
# Prints the image reference (spotjobs-builder-test:<12 hex>) on stdout.
#   --remove   removes every spotjobs-builder-test image no container uses, then exits.
# A new import removes the older tags (unused ones): one version stays on the engine, as a cache.
# Needs: a Docker Engine (scripts/ensure-docker.sh) and busybox-static.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO=spotjobs-builder-test
BUSYBOX=/bin/busybox

if [ "${1-}" = --remove ]; then
  docker image ls --format '{{.Repository}}:{{.Tag}}' "$REPO" | xargs -r docker rmi >/dev/null 2>&1 || true
  exit 0
fi

case "$(ldd "$BUSYBOX" 2>&1 || true)" in
  *'not a dynamic executable'*) ;;
  *) echo "build-test-image: $BUSYBOX is missing or not static: apt-get install busybox-static" >&2; exit 1 ;;
esac

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root"/{bin,usr/bin,etc/portage,srv/binpkgs,tmp,var/tmp}
cp "$BUSYBOX" "$root/bin/busybox"
for applet in $("$BUSYBOX" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
install -m 0755 "$HERE/standin/emerge" "$root/usr/bin/emerge"
install -m 0755 "$HERE/standin/portageq" "$root/usr/bin/portageq"
install -m 0644 "$HERE/standin/make.conf" "$root/etc/portage/make.conf"
chmod 0755 "$root" "$root"/{bin,usr,usr/bin,etc,etc/portage,srv,srv/binpkgs,var}
chmod 1777 "$root/tmp" "$root/var/tmp"

# A reproducible archive (sorted, fixed times and owners): its digest is the tag.
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$root" -cf "$work/rootfs.tar" .
ref="$REPO:$(sha256sum "$work/rootfs.tar" | cut -c1-12)"

if ! docker image inspect "$ref" >/dev/null 2>&1; then
  docker import \
    --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'LABEL spotjobs.test-image=builder' \
    --change 'CMD ["sleep", "infinity"]' \
    "$work/rootfs.tar" "$ref" >/dev/null
  # Older versions of this image are stale now: drop those no container uses.
  docker image ls --format '{{.Repository}}:{{.Tag}}' "$REPO" | grep -vxF "$ref" |
    xargs -r docker rmi >/dev/null 2>&1 || true
fi
echo "$ref"
