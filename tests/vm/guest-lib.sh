# SPDX-License-Identifier: ISC
# Sourced by guest-checks.sh and guest-deb-checks.sh (in the guest; boot.sh
# copies it beside the script): one TAP-like line per check, and polling.
n=0 passed=0 failed=0

note() { printf '# %s\n' "$*"; }
# result WHAT PROBLEM: a check passes when PROBLEM is empty.
result() {
	n=$((n + 1))
	if [ -z "$2" ]; then
		passed=$((passed + 1))
		echo "ok $n - $1"
	else
		failed=$((failed + 1))
		echo "not ok $n - $1: $2"
	fi
}
# wait_until SECONDS COMMAND...: poll every 0.2 s; 0 once COMMAND succeeds.
wait_until() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.2
	done
}
# The closing line, and the exit status: 0 when every check passed.
summary() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
