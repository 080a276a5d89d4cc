#!/usr/bin/env bash
# The README's two commands on a really fresh machine: a minimal Debian 12 (python3, make,
# iproute2, git; nothing else) built with debootstrap, entered with pivot_root in its own mount
# namespace (same kernel, so real network namespaces work inside).
#
#   as root:    make test          (installs python3-venv, iptables, the CNI plugins, chromium...)
#               then every notebook on the kernel backend (tests/test_notebook_meta.py -m kernel
#               is part of make test under SIMLAB_REQUIRE_KERNEL=1)
#   as a user:  make test          (in a second copy of the bare system in which an admin installed
#               only python3-venv; the kernel tests skip, every notebook runs on the model)
#
# Usage (as root, on a Debian-like host with apt-get):  bash tests/fresh/run.sh [root|user|both]
# Leaves the two roots in $FRESH_DIR (default /var/tmp/simlab-fresh) for a look; rerunning
# reuses the debootstrap tarball. Logs: $FRESH_DIR/{root,user}.log.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
which=${1:-both}
dir=${FRESH_DIR:-/var/tmp/simlab-fresh}
suite=${FRESH_SUITE:-bookworm}
mirror=${FRESH_MIRROR:-http://deb.debian.org/debian}

[ "$(id -u)" = 0 ] || { echo "error: run as root (debootstrap, pivot_root, mounts)" >&2; exit 2; }
command -v debootstrap >/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }

mkdir -p "$dir"
tarball=$dir/$suite-minbase.tgz
if [ ! -f "$tarball" ]; then
  echo "== debootstrap $suite (minbase + python3 make iproute2 git) into a tarball"
  debootstrap --variant=minbase --include=python3,make,iproute2,git --make-tarball="$tarball.part" \
    "$suite" "$dir/tarball-work" "$mirror" >/dev/null
  mv "$tarball.part" "$tarball"
  rm -rf "$dir/tarball-work"
fi

# new_root NAME: a bare system from the tarball, with the repository's committed HEAD in it.
new_root() {
  local root=$dir/$1
  rm -rf "$root"
  debootstrap --variant=minbase --include=python3,make,iproute2,git --unpack-tarball="$tarball" \
    "$suite" "$root" "$mirror" >/dev/null
  # The host's network settings (a TLS-inspecting proxy's CA, pip's mirrors), nothing else.
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  # (its own file: installing ca-certificates in the root rewrites /etc/ssl/certs)
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/host-ca.crt" 2>/dev/null || true
  git -C "$repo" archive --format=tar --prefix=simlab/ HEAD | tar -x -C "$root/opt"
  echo "$root"
}

# in_root ROOT CMD...: run CMD in ROOT with /proc, /sys, /dev, /run and /tmp of its own mount ns.
in_root() {
  local root=$1; shift
  unshare --mount --propagation private -- bash -c '
    root=$1; shift
    mount --bind "$root" "$root"  # "/" must be a mount point: ip -n makes it rslave
    mount -t proc proc "$root/proc"
    mount -t sysfs sys "$root/sys"
    mount --rbind /dev "$root/dev"
    mount -t tmpfs tmpfs "$root/run"
    mount -t tmpfs tmpfs "$root/tmp"
    mount -t tmpfs tmpfs "$root/dev/shm"
    # pivot_root, not chroot: the kernel refuses a user namespace to a chrooted process
    # (EPERM), so the rootless backend and its tests could not run under chroot
    cd "$root" && mkdir -p .oldroot && pivot_root . .oldroot && cd / && umount -l /.oldroot && rmdir /.oldroot
    exec /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      LANG=C.UTF-8 PIP_CERT=/etc/host-ca.crt "$@"
  ' _ "$root" "$@"
}

rc=0
if [ "$which" = root ] || [ "$which" = both ]; then
  root=$(new_root root)
  echo "== as root: make test in a bare $suite (log: $dir/root.log)"
  t=$SECONDS
  if in_root "$root" bash -c 'cd /opt/simlab && SIMLAB_REQUIRE_KERNEL=1 SIMLAB_REQUIRE_UI=1 make test' \
      >"$dir/root.log" 2>&1; then
    echo "   passed in $((SECONDS - t)) s: $(grep -E '^[0-9]+ passed|passed' "$dir/root.log" | tail -2 | tr '\n' ' ')"
  else
    rc=1; echo "   FAILED after $((SECONDS - t)) s; tail of the log:"; tail -25 "$dir/root.log"
  fi
  grep -E '^== installing|^== creating' "$dir/root.log" | sed 's/^/   /' || true
fi

if [ "$which" = user ] || [ "$which" = both ]; then
  root=$(new_root user)
  echo "== as a normal user: make test in a bare $suite plus python3-venv (log: $dir/user.log)"
  in_root "$root" bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends python3-venv >/dev/null \
      && useradd -m learner && chown -R learner: /opt/simlab'
  t=$SECONDS
  if in_root "$root" su - learner -c 'cd /opt/simlab && PIP_CERT=/etc/host-ca.crt make test' \
      >"$dir/user.log" 2>&1; then
    echo "   passed in $((SECONDS - t)) s: $(grep -E 'passed' "$dir/user.log" | tail -2 | tr '\n' ' ')"
  else
    rc=1; echo "   FAILED after $((SECONDS - t)) s; tail of the log:"; tail -25 "$dir/user.log"
  fi
  grep -E '^note|^  - ' "$dir/user.log" | sed 's/^/   /' || true
fi
exit $rc
