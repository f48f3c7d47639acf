#!/bin/sh
# SPDX-License-Identifier: ISC
# The OpenAPI document and the router must list the same routes: every
# method and path of proto/openapi.yaml's "paths" must be in daemon/api.c's
# api_routes[] table, and every entry of the table in the document. Prints
# what is missing on which side. Exit 0 pass, 1 fail, 99 hard error.
set -u

top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
yaml=$top/proto/openapi.yaml
api=$top/daemon/api.c
tmp=$(mktemp -d "${TMPDIR:-/tmp}/schedd-routes.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT HUP INT TERM

for f in "$yaml" "$api"; do
	[ -r "$f" ] || { echo "test_routes: cannot read $f" >&2; exit 99; }
done

# The document: a path is a two-space key under "paths:" starting with
# '/', its operations the four-space keys below it that are HTTP methods.
awk '
/^[^ #]/ { inpaths = ($0 ~ /^paths:[ \t]*$/); path = ""; next }
!inpaths { next }
/^  [^ #]/ {
	path = $0
	sub(/^  /, "", path); sub(/:[ \t]*$/, "", path)
	gsub(/^["\x27]|["\x27]$/, "", path)
	if (path !~ /^\//) path = ""
	next
}
/^    [a-z]+:[ \t]*$/ && path != "" {
	m = $0; gsub(/[ :\t]/, "", m)
	if (m ~ /^(get|put|post|delete|options|head|patch|trace)$/)
		print toupper(m), path
}' "$yaml" | sort >"$tmp/doc" || exit 99

# The router: the initializer of api_routes[], joined into one line so
# that an entry wrapped by clang-format still reads as one.
awk '
/api_routes\[\][ \t]*=/ { on = 1 }
on { printf "%s ", $0 }
on && /^[ \t]*};/ { exit }' "$api" |
    grep -o 'EVHTTP_REQ_[A-Z]*[[:space:]]*,[[:space:]]*"[^"]*"' |
    sed 's/^EVHTTP_REQ_\([A-Z]*\)[[:space:]]*,[[:space:]]*"\([^"]*\)"$/\1 \2/' |
    sort >"$tmp/code" || exit 99

ndoc=$(wc -l <"$tmp/doc")
ncode=$(wc -l <"$tmp/code")
if [ "$ndoc" -eq 0 ] || [ "$ncode" -eq 0 ]; then
	echo "test_routes: found $ndoc routes in $yaml and $ncode in $api;" \
	    "the extraction is broken" >&2
	exit 99
fi
dups=$(cat "$tmp/doc" "$tmp/code" | sort | uniq -c | awk '$1 > 2')
[ -z "$dups" ] || { echo "test_routes: duplicate routes: $dups" >&2; exit 1; }

comm -23 "$tmp/code" "$tmp/doc" >"$tmp/undocumented"
comm -13 "$tmp/code" "$tmp/doc" >"$tmp/unrouted"
rc=0
if [ -s "$tmp/undocumented" ]; then
	echo "FAIL: in api_routes[] but not in proto/openapi.yaml:"
	sed 's/^/  /' "$tmp/undocumented"
	rc=1
fi
if [ -s "$tmp/unrouted" ]; then
	echo "FAIL: in proto/openapi.yaml but not in api_routes[]:"
	sed 's/^/  /' "$tmp/unrouted"
	rc=1
fi
if [ $rc -eq 0 ]; then
	echo "PASS: $ncode routes, the same in proto/openapi.yaml and" \
	    "daemon/api.c:"
	sed 's/^/  /' "$tmp/code"
fi
exit $rc
