#!/bin/sh
# SPDX-License-Identifier: ISC
# The check can fail: check_parts.sh against the fake tree in
# tests/parts/data/ (one forbidden include, one known violation, one listed
# file not yet written), then against copies changed one way each.
# Exit 0 pass, 1 fail, 99 hard error.
set -u

top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
check=$top/tests/parts/check_parts.sh
data=$top/tests/parts/data
[ -r "$check" ] && [ -r "$data/parts.map" ] ||
    { echo "test_check_parts: cannot read $check or $data" >&2; exit 99; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/schedd-parts.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT HUP INT TERM
rc=0

# expect NAME TREE RC PATTERN...: the check exits RC on TREE and prints a
# line matching each PATTERN (grep -E).
expect() {
	name=$1 tree=$2 want=$3; shift 3
	sh "$check" "$tree" "$tree/parts.map" >"$tmp/out" 2>&1
	got=$?
	ok=1
	[ "$got" -eq "$want" ] || ok=0
	for pat in "$@"; do grep -Eq -- "$pat" "$tmp/out" || ok=0; done
	if [ $ok -eq 1 ]; then
		echo "PASS: $name"
	else
		echo "FAIL: $name: exit $got (want $want), or a line missing of:"
		printf '  %s\n' "$@"
		sed 's/^/  | /' "$tmp/out"
		rc=1
	fi
}
# fresh NAME: a writable copy of the fake tree, the forbidden include gone.
fresh() {
	rm -rf "$tmp/$1" && cp -R "$data" "$tmp/$1" && chmod -R u+w "$tmp/$1" &&
	    sed '/#include "daemon\/store.h"/d' "$data/daemon/api.c" \
	    >"$tmp/$1/daemon/api.c" || exit 99
}

# add NAME FILE LINE: LINE after FILE's last #include, in copy NAME.
add() {
	awk -v add="$3" 'NR == FNR { if (/^#include/) n = FNR; next }
	    { print } FNR == n { print add }' "$data/$2" "$data/$2" \
	    >"$tmp/$1/$2" || exit 99
}

expect "one forbidden include fails" "$data" 1 \
    '^FAIL: daemon/api\.c:11: includes daemon/store\.h: never Api -> Store: the API asks' \
    '^XFAIL: daemon/api-old\.c:2: includes daemon/store\.h: never Api -> Store: .*\[known: ' \
    '^XFAIL: daemon/api-old\.c:7: calls store_get\(\) of daemon/store\.c' \
    '^note: listed, not yet written: daemon/later\.c$' \
    '^FAIL: .* 1 FAIL, 2 XFAIL'
[ "$(grep -c '^FAIL: daemon/' "$tmp/out")" -eq 1 ] ||
    { echo "FAIL: the fake tree gives more than its one FAIL"; rc=1; }

fresh ok
expect "without it, the tree passes (no FAIL from comments or strings)" \
    "$tmp/ok" 0 '^PASS: .* 0 FAIL, 2 XFAIL'

fresh unplaced
: >"$tmp/unplaced/daemon/new.c"
expect "a file in no part fails" "$tmp/unplaced" 1 \
    '^FAIL: daemon/new\.c: in no part'

fresh call
printf 'int\napi_more(int id)\n{\n\treturn (store_get(id));\n}\n' \
    >>"$tmp/call/daemon/api.c"
expect "a forbidden call fails" "$tmp/call" 1 \
    '^FAIL: daemon/api\.c:[0-9]+: calls store_get\(\) of daemon/store\.c: never Api -> Store'

fresh arrow
add arrow daemon/spawn.c '#include "daemon/api.h"'
expect "an include along no arrow fails" "$tmp/arrow" 1 \
    '^FAIL: daemon/spawn\.c:4: includes daemon/api\.h: no arrow Exec -> Api'

fresh through
add through daemon/spawn.c '#include "daemon/store.h"'
expect "a file never reached through a header fails" "$tmp/through" 1 \
    '^FAIL: daemon/spawn\.c:4: includes daemon/store\.h: never Exec -> proto/jobspec\.h \(through its includes\)'

fresh pure
add pure proto/jobspec.c '#include "daemon/base.h"'
expect "a path never holds even into Base" "$tmp/pure" 1 \
    '^FAIL: proto/jobspec\.c:3: includes daemon/base\.h: never proto/ -> daemon/'

fresh xpass
printf 'int\napi_old(int id)\n{\n\treturn (id);\n}\n' \
    >"$tmp/xpass/daemon/api-old.c"
expect "a fixed known violation fails until taken off" "$tmp/xpass" 1 \
    '^XPASS: daemon/api-old\.c: daemon/store\.h: fixed' \
    '^XPASS: daemon/api-old\.c: store_get: fixed'

exit $rc
