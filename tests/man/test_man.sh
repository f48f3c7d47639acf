#!/bin/sh
# SPDX-License-Identifier: ISC
# The manual pages render without a single warning (groff -ww, and man -l
# as a reader would see them), and they are true to the code in both
# directions: every option of "schedd --help", every command and option of
# "schedctl [COMMAND] --help", and every key daemon/conf.c accepts is
# documented, and nothing documented as an option, command or key is
# unknown to the code. Skipped (77) without groff.
set -u

top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
schedd=${SCHEDD:-}
schedctl=${SCHEDCTL:-}
[ -n "$schedd" ] && [ -n "$schedctl" ] ||
    { echo "test_man: \$SCHEDD and \$SCHEDCTL must be set" >&2; exit 99; }
if ! command -v groff >/dev/null 2>&1; then
	echo "SKIP: groff is not installed"
	exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/schedd-man.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT HUP INT TERM
rc=0
fail() { echo "FAIL: $*"; rc=1; }

# 1. Rendering.
for page in schedd.8 schedctl.1 schedd.conf.5 schedd-api.7 schedd-slurm.1 \
    schedd-fleet.1; do
	src=$top/man/$page
	[ -r "$src" ] || { fail "no $src"; continue; }
	if ! groff -ww -z -man "$src" >"$tmp/groff" 2>&1 || [ -s "$tmp/groff" ]; then
		fail "groff -ww -z -man $page:"; cat "$tmp/groff"
	fi
	if command -v man >/dev/null 2>&1; then
		if ! MANWIDTH=80 MAN_DISABLE_SECCOMP=1 man --warnings -l "$src" \
		    >"$tmp/out" 2>"$tmp/err" || [ -s "$tmp/err" ]; then
			fail "man -l $page:"; cat "$tmp/err"
		fi
		[ -s "$tmp/out" ] || fail "man -l $page rendered nothing"
	fi
done

# The page's source with \- as -, and font escapes gone, for searching.
plain() { sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\(aq/'"'"'/g' "$1"; }
plain "$top/man/schedd.8" >"$tmp/schedd.8"
plain "$top/man/schedctl.1" >"$tmp/schedctl.1"
plain "$top/man/schedd.conf.5" >"$tmp/schedd.conf.5"

# 2. schedd(8) and schedd --help.
"$schedd" --help >"$tmp/help" 2>&1 || fail "schedd --help exited $?"
grep -o -- '--[a-z][a-z-]*' "$tmp/help" | sort -u >"$tmp/code"
grep -o -- '^ *-[A-Za-z],' "$tmp/help" | tr -d ' ,' | sort -u >>"$tmp/code"
sed -n 's/^\.BR \(-[A-Za-z]\) ", " \(--[a-z-]*\).*/\1\n\2/p' \
    "$tmp/schedd.8" | sort -u >"$tmp/man"
for opt in $(cat "$tmp/code"); do
	grep -qx -- "$opt" "$tmp/man" || fail "schedd $opt is not in schedd.8 OPTIONS"
done
for opt in $(cat "$tmp/man"); do
	grep -qx -- "$opt" "$tmp/code" || fail "schedd.8 documents $opt, which schedd --help does not know"
done

# 3. schedctl(1): commands, global options, each command's options.
"$schedctl" --help >"$tmp/help" 2>&1 || fail "schedctl --help exited $?"
sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p' "$tmp/help" |
    sort -u >"$tmp/cmds"
[ -s "$tmp/cmds" ] || fail "no commands found in schedctl --help"
sed -n 's/^\.SS "\([a-z][a-z]*\).*/\1/p' "$tmp/schedctl.1" | sort -u >"$tmp/mancmds"
for c in $(cat "$tmp/cmds"); do
	grep -qx "$c" "$tmp/mancmds" || fail "schedctl $c has no .SS in schedctl.1"
done
for c in $(cat "$tmp/mancmds"); do
	grep -qx "$c" "$tmp/cmds" || fail "schedctl.1 documents command $c, which schedctl does not have"
done
for opt in $(sed -n '/^Global options:/,/^$/p' "$tmp/help" |
    grep -o -- '--[a-z][a-z-]*' | sort -u); do
	grep -q -- "$opt" "$tmp/schedctl.1" || fail "schedctl $opt is not in schedctl.1"
done
for c in $(cat "$tmp/cmds"); do
	[ "$c" = help ] && continue
	"$schedctl" "$c" --help >"$tmp/chelp" 2>&1 ||
	    { fail "schedctl $c --help exited $?"; continue; }
	# The command's section: from its .SS to the next command's.
	awk -v c="$c" '
	/^\.SS "/ { on = ($0 ~ "^\\.SS \"" c "( |\")") }
	on' "$tmp/schedctl.1" >"$tmp/section"
	for opt in $(sed -n '/^Options:/,/^$/p' "$tmp/chelp" |
	    grep -o -- '\(^ *\|, \)-[A-Za-z]\b\|--[a-z][a-z-]*' |
	    sed 's/^[ ,]*//' | sort -u); do
		case $opt in --json|--help|-h) continue ;; esac
		grep -q -- "$opt\b" "$tmp/section" ||
		    fail "schedctl $c $opt is not in its schedctl.1 section"
	done
done

# 4. schedd.conf(5): the keys of daemon/conf.c and etc/schedd.conf.
# The daemon's keys (strcmp(key, ...)) and the access policy's
# (policy_keys[]: {UPOL_X, "key"}) together.
{
	sed -n 's/.*strcmp(key, "\([a-z_]*\)").*/\1/p' "$top/daemon/conf.c"
	sed -n 's/.*{UPOL_[A-Z_]*, "\([a-z_]*\)"}.*/\1/p' "$top/daemon/conf.c"
} | sort -u >"$tmp/keys"
[ -s "$tmp/keys" ] || fail "no keys found in daemon/conf.c"
sed -n 's/^#\{0,1\}\([a-z_]*\) =.*/\1/p' "$top/etc/schedd.conf" |
    sort -u >"$tmp/etckeys"
sed -n 's/^\.BI \([a-z_]*\) " = ".*/\1/p' "$tmp/schedd.conf.5" |
    sort -u >"$tmp/mankeys"
for k in $(cat "$tmp/keys"); do
	grep -qx "$k" "$tmp/mankeys" || fail "key $k is not in schedd.conf.5"
	grep -qx "$k" "$tmp/etckeys" || fail "key $k is not in etc/schedd.conf"
done
for k in $(cat "$tmp/mankeys") $(cat "$tmp/etckeys"); do
	grep -qx "$k" "$tmp/keys" || fail "$k is documented but daemon/conf.c does not know it"
done

[ $rc -eq 0 ] && echo "PASS: the manual pages render cleanly and match the code"
exit $rc
