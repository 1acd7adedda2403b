#!/usr/bin/env bash
# make vmtest: boot the stock Debian kernels pinned in kernels.txt under qemu
# (TCG; no /dev/kvm needed) with an initramfs whose /init runs the sensor's
# privileged tests, and fail when any kernel fails. See README.md.
#
# Environment (all optional):
#   VMTEST_KERNELS   kernels to boot, names from kernels.txt or globs, comma or
#                    space separated (default: all)
#   VMTEST_RUN       go test -run regex, no spaces
#                    (default: ^(TestPrivileged|TestSensor|TestProbeKinds))
#   VMTEST_ARGS      more go test flags for the guest, e.g. -test.count=2
#   VMTEST_TIMEOUT   seconds one kernel may take before qemu is killed (1200)
#   VMTEST_JOBS      kernels booted at the same time (2; each VM has one vCPU)
#   VMTEST_VERBOSE   1: show the serial console while it runs
#   VMTEST_MEM, VMTEST_SMP, VMTEST_ACCEL, VMTEST_QEMU_ARGS, VMTEST_CMDLINE
#                    qemu memory (1G), CPUs (1), accelerator (tcg,thread=multi),
#                    extra qemu options, extra kernel parameters
#   VIGIL_VMTEST_CACHE  downloads and unpacked kernels (~/.cache/vigil-vmtest)
#   VMTEST_OUT       build output and serial logs (internal/vmtest/out)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=${VIGIL_VMTEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil-vmtest}
OUT=${VMTEST_OUT:-$HERE/out}
KERNELS_FILE=${VMTEST_KERNELS_FILE:-$HERE/kernels.txt}
RUN_RE=${VMTEST_RUN:-^(TestPrivileged|TestSensor|TestProbeKinds)}
TIMEOUT=${VMTEST_TIMEOUT:-1200}
JOBS=${VMTEST_JOBS:-2}
MEM=${VMTEST_MEM:-1G}
SMP=${VMTEST_SMP:-1}
ACCEL=${VMTEST_ACCEL:-tcg,thread=multi}
GO=${GO:-go}
# Debian suites the kernels and busybox come from; "-security" suites use the
# security mirror.
SUITES="bookworm bookworm-updates bookworm-security bookworm-backports"

say() { printf 'vmtest: %s\n' "$*"; }
die() { printf 'vmtest: error: %s\n' "$*" >&2; exit 2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

T0=$(now)

# --- host tools ----------------------------------------------------------------

# ensure_tools installs the Debian packages whose commands are missing.
ensure_tools() {
	local missing=() pair cmd pkg
	for pair in qemu-system-x86_64:qemu-system-x86 xz:xz-utils zstd:zstd lz4:lz4 \
		dpkg-deb:dpkg apt-get:apt timeout:coreutils flock:util-linux; do
		cmd=${pair%%:*} pkg=${pair#*:}
		command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
	done
	[[ ${#missing[@]} -eq 0 ]] && return
	[[ $(id -u) -eq 0 ]] || die "missing ${missing[*]}: install them (apt-get install ${missing[*]}) or run as root"
	say "installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# --- private apt state -------------------------------------------------------------
# Kernels and busybox are fetched with apt-get download through an apt state of
# our own under $CACHE/apt, so the machine's /etc/apt is read (for its mirror)
# but never changed, and backports need not be configured system-wide.

APTDIR=$CACHE/apt
APTOPT=(-o "Dir::Etc::SourceList=$APTDIR/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$APTDIR/lists" -o "Dir::Cache=$APTDIR/cache"
	-o APT::Sandbox::User=root -o Debug::NoLocking=1)
APT_UPDATED=0

apt_update() {
	[[ $APT_UPDATED -eq 1 ]] && return
	mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial"
	# Take the Debian mirrors from the machine's own apt configuration.
	local main sec keyring="" suite uri targets
	# shellcheck disable=SC2016 # $(...) is apt's format syntax, not the shell's
	targets=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null || true)
	main=$(awk '$2 ~ /^[a-z]+$/ && $1 ~ /debian\/$/ { print $1; exit }' <<<"$targets")
	sec=$(awk '$2 ~ /-security$/ { print $1; exit }' <<<"$targets")
	main=${VMTEST_DEBIAN_MIRROR:-$main}
	sec=${VMTEST_DEBIAN_SECURITY_MIRROR:-${sec:-$main}}
	[[ -n $main ]] || die "no Debian mirror in the machine's apt sources; set VMTEST_DEBIAN_MIRROR"
	[[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]] &&
		keyring="[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
	: >"$APTDIR/sources.list"
	for suite in $SUITES; do
		uri=$main
		[[ $suite == *-security ]] && uri=$sec
		echo "deb $keyring$uri $suite main" >>"$APTDIR/sources.list"
	done
	say "updating the private apt lists ($APTDIR)"
	apt-get "${APTOPT[@]}" update -qq >"$APTDIR/update.log" 2>&1 ||
		die "apt-get update failed: $(tail -5 "$APTDIR/update.log")"
	APT_UPDATED=1
}

# fetch_deb PKG [VERSION]: set DEB to the cached .deb, downloading it when
# missing.
fetch_deb() {
	local pkg=$1 ver=${2:-} dir=$CACHE/debs deb tmp
	mkdir -p "$dir"
	if [[ -n $ver ]]; then
		deb=$dir/${pkg}_${ver//:/%3a}_amd64.deb
		[[ -s $deb ]] && { DEB=$deb; return; }
	else
		local -a have=("$dir/${pkg}"_*.deb)
		[[ -e ${have[0]} ]] && { DEB=${have[0]}; return; }
	fi
	apt_update
	tmp=$(mktemp -d "$dir/.dl.XXXXXX")
	if ! (cd "$tmp" && apt-get "${APTOPT[@]}" download -qq "$pkg${ver:+=$ver}") >"$tmp/log" 2>&1; then
		{
			echo "vmtest: error: cannot download $pkg${ver:+ version $ver}:"
			sed 's/^/  /' "$tmp/log"
			echo "  versions the archive has now:"
			apt-cache "${APTOPT[@]}" policy "$pkg" 2>/dev/null | sed 's/^/  /'
			echo "  (the archive drops superseded kernels: pin a current one in $KERNELS_FILE;"
			echo "   apt-cache ${APTOPT[*]} search --names-only '^linux-image-6' lists them)"
		} >&2
		rm -rf "$tmp"
		exit 2
	fi
	local -a got=("$tmp"/*.deb)
	[[ -z $ver ]] && deb=$dir/$(basename "${got[0]}")
	mv "${got[0]}" "$deb"
	rm -rf "$tmp"
	say "downloaded $(basename "$deb") ($(du -h "$deb" | cut -f1))"
	DEB=$deb
}

# unpack DEB: set UNPACKED to the directory it is unpacked into (cached).
unpack() {
	local deb=$1 dir
	dir=$CACHE/unpacked/$(basename "$deb" .deb)
	if [[ ! -d $dir ]]; then
		local tmp
		mkdir -p "$CACHE/unpacked"
		tmp=$(mktemp -d "$dir.XXXXXX")
		dpkg-deb -x "$deb" "$tmp"
		# Another run may have won the race; its copy is as good as ours.
		mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"
	fi
	UNPACKED=$dir
}

# --- kernels --------------------------------------------------------------------------

# Selected kernel lines of kernels.txt, one per line: name package version cpu expect params...
select_kernels() {
	local want=${VMTEST_KERNELS:-} line name sel found
	local -a sels=()
	[[ -n $want ]] && read -ra sels <<<"${want//,/ }"
	for sel in "${sels[@]}"; do
		found=0
		while read -r name _; do
			# shellcheck disable=SC2053 # sel is a glob on purpose
			[[ $name == $sel ]] && found=1
		done < <(grep -Ev '^\s*(#|$)' "$KERNELS_FILE")
		[[ $found -eq 1 ]] || die "VMTEST_KERNELS: no kernel matches '$sel' in $KERNELS_FILE (have: $(grep -Ev '^\s*(#|$)' "$KERNELS_FILE" | awk '{print $1}' | tr '\n' ' '))"
	done
	while read -r line; do
		name=${line%%[[:space:]]*}
		if [[ ${#sels[@]} -eq 0 ]]; then
			echo "$line"
			continue
		fi
		for sel in "${sels[@]}"; do
			# shellcheck disable=SC2053
			if [[ $name == $sel ]]; then
				echo "$line"
				break
			fi
		done
	done < <(grep -Ev '^\s*(#|$)' "$KERNELS_FILE")
}

# prepare_kernel NAME PACKAGE VERSION: fetch, unpack and extract; sets KVER,
# KIMAGE (PVH vmlinux or bzImage) and KROOT (unpacked package).
prepare_kernel() {
	local name=$1 pkg=$2 ver=$3 vmlinuz
	fetch_deb "$pkg" "$ver"
	unpack "$DEB"
	KROOT=$UNPACKED
	local -a images=("$KROOT"/boot/vmlinuz-*)
	vmlinuz=${images[0]}
	[[ -e $vmlinuz ]] || die "$name: $DEB has no boot/vmlinuz-*"
	KVER=${vmlinuz##*/vmlinuz-}
	KIMAGE=$KROOT/vmlinux
	if [[ ! -s $KIMAGE ]]; then
		if ! "$VMTOOL" vmlinux -o "$KIMAGE" "$vmlinuz" >"$KROOT/vmlinux.log" 2>&1; then
			say "$name: no PVH vmlinux ($(tail -1 "$KROOT/vmlinux.log")); booting the bzImage"
			KIMAGE=$vmlinuz
		fi
	fi
}

# modules_root KROOT DIR: stage the kernel's net/sched modules (TC qdiscs,
# classifiers and actions; clsact needs sch_ingress on kernels without TCX)
# and veth (the tests make an interface to see the classifiers follow it),
# decompressed, with modules.dep and modules.alias made by busybox depmod
# (Debian's packages leave that to depmod at install time), so that the
# kernel's request_module finds them through /sbin/modprobe as on an
# installed system.
modules_root() {
	local kroot=$1 dst=$2 src m
	src=$kroot/lib/modules/$KVER
	rm -rf "$dst"
	mkdir -p "$dst/lib/modules/$KVER"
	[[ -d $src/kernel/net/sched ]] || return 0
	(cd "$src" && find kernel/net/sched -name '*.ko*' && find kernel/drivers/net -maxdepth 1 -name 'veth.ko*') | while read -r m; do
		mkdir -p "$dst/lib/modules/$KVER/$(dirname "$m")"
		case $m in
		*.ko.xz) xz -dc "$src/$m" >"$dst/lib/modules/$KVER/${m%.xz}" ;;
		*.ko.zst) zstd -qdc "$src/$m" >"$dst/lib/modules/$KVER/${m%.zst}" ;;
		*.ko.gz) gzip -dc "$src/$m" >"$dst/lib/modules/$KVER/${m%.gz}" ;;
		*) cp "$src/$m" "$dst/lib/modules/$KVER/$m" ;;
		esac
	done
	"$BUSYBOX" depmod -b "$dst" "$KVER"
}

# --- build -----------------------------------------------------------------------------

build() {
	local b=$OUT/build rootfs=$OUT/rootfs t name applet
	rm -rf "$b" "$rootfs"
	mkdir -p "$b" "$rootfs"/{bin,sbin,dev,proc,sys,tmp,root,etc,tests,triggers}
	cd "$ROOT"
	say "building the host tool, /init and the test binaries"
	"$GO" build -o "$b/vmtool" ./internal/vmtest/cmd/vmtool
	VMTOOL=$b/vmtool
	CGO_ENABLED=0 "$GO" build -o "$rootfs/init" ./internal/vmtest/cmd/vminit

	# Test binaries: every package named here that has tests. /init runs
	# /tests/<name>/<name>.test in name order.
	for t in ./sensor ./internal/vmtest; do
		[[ -d $t ]] || continue
		[[ -n $("$GO" list -f '{{join .TestGoFiles ""}}{{join .XTestGoFiles ""}}' "$t" 2>/dev/null) ]] || {
			"$GO" list "$t" >/dev/null # a package that does not build is an error, not "no tests"
			continue
		}
		name=$(basename "$t")
		mkdir -p "$rootfs/tests/$name"
		CGO_ENABLED=0 "$GO" test -c -o "$rootfs/tests/$name/$name.test" "$t" ||
			die "building the tests of $t failed"
	done

	# Trigger programs the tests exec: /triggers/<name>, VIGIL_TRIGGERS_DIR in the guest.
	for t in testdata/triggers/*/; do
		[[ -d $t ]] || continue
		ls "$t"*.go >/dev/null 2>&1 || continue
		CGO_ENABLED=0 "$GO" build -o "$rootfs/triggers/$(basename "$t")" "./$t" ||
			die "building the trigger $t failed"
	done

	# busybox-static from Debian (cached) for /bin/sh, true, ls, modprobe...
	fetch_deb busybox-static
	unpack "$DEB"
	BUSYBOX=$UNPACKED/bin/busybox
	[[ -x $BUSYBOX ]] || die "no bin/busybox in the busybox-static package"
	cp "$BUSYBOX" "$rootfs/bin/busybox"
	for applet in $("$BUSYBOX" --list); do
		case $applet in
		busybox | init | linuxrc | true) continue ;;
		modprobe | insmod | rmmod | lsmod | depmod | ip | ifconfig | mount | umount | sysctl) ln -sf ../bin/busybox "$rootfs/sbin/$applet" ;;
		*) ln -sf busybox "$rootfs/bin/$applet" ;;
		esac
	done
	CGO_ENABLED=0 "$GO" build -o "$rootfs/bin/true" ./internal/vmtest/cmd/vmtrue
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
	echo vmtest >"$rootfs/etc/hostname"
}

# --- boot -----------------------------------------------------------------------------

# boot NAME PACKAGE VERSION CPU EXPECT PARAMS...: prepare, boot and judge one
# kernel; returns non-zero when it failed.
boot() {
	local name=$1 pkg=$2 ver=$3 cpu=$4 expect=$5
	shift 5
	local params="" dir=$OUT/$name log status timed_out=0 t0 wall guest_timeout cmdline run=$RUN_RE p
	# vmtest.run=REGEX in kernels.txt: this kernel's own test selection,
	# unless VMTEST_RUN says otherwise
	for p in "$@"; do
		case $p in
		vmtest.run=*) [[ -n ${VMTEST_RUN:-} ]] || run=${p#vmtest.run=} ;;
		*) params+=" $p" ;;
		esac
	done
	prepare_kernel "$name" "$pkg" "$ver"
	rm -rf "$dir"
	mkdir -p "$dir"
	modules_root "$KROOT" "$dir/modroot"
	"$VMTOOL" initramfs -o "$dir/initramfs.cpio" \
		-dev /dev/console:c:5:1:0600 -dev /dev/null:c:1:3:0666 \
		"$OUT/rootfs" "$dir/modroot"

	# Let go test time out before qemu does, so a hung test is named. The open
	# burst test runs 20,000 opens, not 200,000: TCG makes an open slow.
	guest_timeout=$((TIMEOUT * 4 / 5))
	# panic=-1 with -no-reboot turns a panic into a prompt qemu exit; oops and
	# soft lockups are made panics so a broken kernel never waits for the timeout.
	cmdline="console=ttyS0 quiet panic=-1 oops=panic softlockup_panic=1 VIGIL_EXPECT_PROBES=$expect VIGIL_OPEN_BURST=20000 $params ${VMTEST_CMDLINE:-}"
	cmdline+=" -- -test.v -test.timeout=${guest_timeout}s -test.run=$run ${VMTEST_ARGS:-}"
	echo "$cmdline" >"$dir/cmdline"

	log=$dir/serial.log
	t0=$(now)
	set +e
	# shellcheck disable=SC2086 # VMTEST_QEMU_ARGS is a list of options
	timeout -k 5 "$TIMEOUT" qemu-system-x86_64 -nodefaults -no-user-config \
		-accel "$ACCEL" -cpu "$cpu" -smp "$SMP" -m "$MEM" \
		-display none -monitor none -serial stdio -no-reboot -nic none \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-kernel "$KIMAGE" -initrd "$dir/initramfs.cpio" -append "$cmdline" \
		${VMTEST_QEMU_ARGS:-} </dev/null 2>"$dir/qemu.err" |
		if [[ ${VMTEST_VERBOSE:-0} == 1 ]]; then tee "$log" | sed -u "s/^/[$name] /"; else cat >"$log"; fi
	status=${PIPESTATUS[0]}
	set -e
	wall=$(since "$t0")
	[[ $status -eq 124 || $status -eq 137 ]] && timed_out=1
	if [[ -s $dir/qemu.err ]]; then
		sed "s/^/qemu: /" "$dir/qemu.err" >>"$log"
	fi
	local -a judge=(-kernel "$name" -status "$status" -wall "$wall" -timeout "$TIMEOUT")
	[[ $timed_out -eq 1 ]] && judge+=(-timed-out)
	"$VMTOOL" verdict "${judge[@]}" "$log" >"$dir/verdict.txt"
}

main() {
	local -a kernels=() failed=() passed=() pids=()
	local line name
	[[ $RUN_RE != *[[:space:]]* ]] || die "VMTEST_RUN must not contain spaces (it goes on the kernel command line)"
	[[ -f $KERNELS_FILE ]] || die "no $KERNELS_FILE"
	mapfile -t kernels < <(select_kernels)
	[[ ${#kernels[@]} -gt 0 ]] || die "no kernels selected"
	ensure_tools
	mkdir -p "$CACHE" "$OUT"
	# One run per output directory at a time: a second make vmtest in the
	# same tree waits here instead of overwriting the first one's initramfs.
	exec 9>"$OUT/.lock"
	if ! flock -n 9; then
		say "another vmtest run is using $OUT; waiting for it"
		flock 9
	fi
	build
	say "built in $(since "$T0")s; booting ${#kernels[@]} kernel(s) with $ACCEL (cache: $CACHE)"

	# Fetch every kernel first (downloads are serial), then boot. Results of
	# an earlier run go first, so a boot that dies early leaves no stale PASS.
	for line in "${kernels[@]}"; do
		read -r name pkg ver _ <<<"$line"
		rm -rf "${OUT:?}/$name"
		prepare_kernel "$name" "$pkg" "$ver"
	done
	for line in "${kernels[@]}"; do
		# shellcheck disable=SC2086 # the line is split into its columns
		boot $line &
		pids+=($!)
		if [[ ${#pids[@]} -ge $JOBS ]]; then
			wait "${pids[0]}" || true
			pids=("${pids[@]:1}")
		fi
	done
	wait || true
	for line in "${kernels[@]}"; do
		name=${line%%[[:space:]]*}
		if [[ -s $OUT/$name/verdict.txt ]]; then
			cat "$OUT/$name/verdict.txt"
		else
			say "FAIL $name: no verdict (see $OUT/$name)"
		fi
		if grep -q "^vmtest: PASS $name " "$OUT/$name/verdict.txt" 2>/dev/null; then
			passed+=("$name")
		else
			failed+=("$name")
		fi
	done
	say "serial logs: $OUT/<kernel>/serial.log; total $(since "$T0")s"
	if [[ ${#failed[@]} -gt 0 ]]; then
		say "FAILED on ${failed[*]}"
	fi
	# The closing line CI reads: kernels passed and failed.
	say "${#passed[@]} passed, ${#failed[@]} failed"
	[[ ${#failed[@]} -eq 0 ]]
}

main "$@"; exit  # one line: bash reads no further, even if this file is edited meanwhile
