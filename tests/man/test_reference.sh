#!/bin/sh
# SPDX-License-Identifier: ISC
# The reference pages hold everything the code accepts, in both
# directions: every route of daemon/api.c's api_routes[] is a ".B \"METHOD
# PATH\"" entry of schedd-api(7)'s ROUTES; every field of proto/jobspec.c's
# decoder (the js_member tables, with the path js_members() gives them) is a
# ".B field" entry of its JOB SPEC; every key of daemon/conf.c's parser is a
# ".B key" entry of its CONFIGURATION KEYS and a ".BI key \" = \"" entry of
# schedd.conf(5), and every key of its policy sections is one in its
# ACCESS POLICY. Whatever is missing, or documented but unknown to the
# code, is printed. Exit 0 pass, 1 fail, 99 hard error.
set -u

top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
page=$top/man/schedd-api.7
conf5=$top/man/schedd.conf.5
tmp=$(mktemp -d "${TMPDIR:-/tmp}/schedd-ref.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT HUP INT TERM
for f in "$page" "$conf5" "$top/daemon/api.c" "$top/proto/jobspec.c" \
    "$top/daemon/conf.c"; do
	[ -r "$f" ] || { echo "test_reference: cannot read $f" >&2; exit 99; }
done
rc=0

# The ".TP" entries of one section of schedd-api(7): the argument of the
# ".B" line after each ".TP", quotes and \- escapes removed.
entries() { # entries SECTION
	awk -v sec="$1" '
	/^\.SH / {
		name = $0; sub(/^\.SH +/, "", name); gsub(/"/, "", name)
		on = (name == sec); next
	}
	on && /^\.TP/ { tp = 1; next }
	on && tp && /^\.B / {
		e = $0; sub(/^\.B +/, "", e); gsub(/"/, "", e)
		gsub(/\\-/, "-", e); print e
	}
	{ tp = 0 }' "$page" | sort -u
}

# compare WHAT CODE-LIST DOC-LIST: both directions.
compare() {
	comm -23 "$2" "$3" >"$tmp/missing"
	comm -13 "$2" "$3" >"$tmp/unknown"
	if [ ! -s "$2" ]; then
		echo "test_reference: no $1 found in the code; the extraction is broken" >&2
		exit 99
	fi
	if [ -s "$tmp/missing" ]; then
		echo "FAIL: $1 not documented:"; sed 's/^/  /' "$tmp/missing"; rc=1
	fi
	if [ -s "$tmp/unknown" ]; then
		echo "FAIL: $1 documented but unknown to the code:"
		sed 's/^/  /' "$tmp/unknown"; rc=1
	fi
	[ -s "$tmp/missing" ] || [ -s "$tmp/unknown" ] ||
	    echo "ok: $(wc -l <"$2") $1"
}

# 1. Routes: the initializer of api_routes[] as one line (as
# tests/openapi/test_routes.sh reads it).
awk '
/api_routes\[\][ \t]*=/ { on = 1 }
on { printf "%s ", $0 }
on && /^[ \t]*};/ { exit }' "$top/daemon/api.c" |
    grep -o 'EVHTTP_REQ_[A-Z]*[[:space:]]*,[[:space:]]*"[^"]*"' |
    sed 's/^EVHTTP_REQ_\([A-Z]*\)[[:space:]]*,[[:space:]]*"\([^"]*\)"$/\1 \2/' |
    sort -u >"$tmp/routes.code"
entries ROUTES >"$tmp/routes.doc"
compare "routes" "$tmp/routes.code" "$tmp/routes.doc"

# 2. Job-spec fields: each "const struct js_member members[] = {...}"
# table's names, prefixed by the path its js_members(v, "PREFIX", ...)
# call gives them ("" at the top level).
awk '
/const struct js_member [a-z_]*\[\][ \t]*=/ { on = 1; n = 0; next }
on && /^[ \t]*};/ { on = 0; next }
on {
	while (match($0, /\{"[a-z_]+",/)) {
		names[n++] = substr($0, RSTART + 2, RLENGTH - 4)
		$0 = substr($0, RSTART + RLENGTH)
	}
	next
}
/js_members\(/ && match($0, /, "[a-z_]*",/) {
	prefix = substr($0, RSTART + 3, RLENGTH - 5)
	for (i = 0; i < n; i++)
		print (prefix == "" ? "" : prefix ".") names[i]
	n = 0
}' "$top/proto/jobspec.c" | sort -u >"$tmp/fields.code"
entries "JOB SPEC" >"$tmp/fields.doc"
compare "job-spec fields" "$tmp/fields.code" "$tmp/fields.doc"

# 3. Configuration keys, in schedd-api(7) and in schedd.conf(5).
sed -n 's/.*strcmp(key, "\([a-z_]*\)").*/\1/p' "$top/daemon/conf.c" |
    sort -u >"$tmp/keys.code"
entries "CONFIGURATION KEYS" >"$tmp/keys.doc"
compare "configuration keys (schedd-api.7)" "$tmp/keys.code" "$tmp/keys.doc"
# The daemon's keys come before ACCESS POLICY; that section holds the
# policy keys, which conf.c lists in its policy_keys[] table.
awk '/^\.SH ACCESS POLICY/ { exit } { print }' "$conf5" |
    sed -n 's/^\.BI \([a-z_]*\) " = ".*/\1/p' | sort -u >"$tmp/keys.conf5"
compare "configuration keys (schedd.conf.5)" "$tmp/keys.code" "$tmp/keys.conf5"
sed -n 's/.*{UPOL_[A-Z_]*, "\([a-z_]*\)"}.*/\1/p' "$top/daemon/conf.c" |
    sort -u >"$tmp/pkeys.code"
awk '/^\.SH ACCESS POLICY/ { on = 1; next } /^\.SH / { on = 0 } on' "$conf5" |
    sed -n 's/^\.BI \([a-z_]*\) " = ".*/\1/p' | sort -u >"$tmp/pkeys.conf5"
compare "access policy keys (schedd.conf.5)" "$tmp/pkeys.code" "$tmp/pkeys.conf5"

[ $rc -eq 0 ] && echo "PASS: schedd-api(7) and schedd.conf(5) cover every route, job field and key"
exit $rc
