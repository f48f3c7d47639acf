#!/bin/sh
# SPDX-License-Identifier: ISC
# A third-party linter over proto/openapi.yaml: Redocly CLI's "recommended"
# rules (OpenAPI 3.1 structure, $refs, examples against their schemas,
# operation ids, 4xx answers, ...), with warnings counted as failures.
# Redocly comes from the npm registry into a cache outside the tree
# ($SCHEDD_NPM_CACHE, default ~/.cache/schedd-npm); without npm, or
# without the registry, the test is skipped (77).
set -u

top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
yaml=$top/proto/openapi.yaml
cache=${SCHEDD_NPM_CACHE:-${HOME:-/tmp}/.cache/schedd-npm}
# Pinned: a new release may change the rules or the Node.js it needs.
pkg=@redocly/cli@2.77.0
redocly=$cache/node_modules/.bin/redocly

[ -r "$yaml" ] || { echo "test_lint: cannot read $yaml" >&2; exit 99; }
if [ ! -x "$redocly" ]; then
	if ! command -v npm >/dev/null 2>&1 ||
	    ! command -v node >/dev/null 2>&1; then
		echo "SKIP: npm or node is not installed"
		exit 77
	fi
	echo "installing $pkg into $cache"
	mkdir -p "$cache" || exit 77
	if ! timeout 300 npm install --prefix "$cache" --no-audit --no-fund \
	    --loglevel=error "$pkg" >"$cache/install.log" 2>&1 ||
	    [ ! -x "$redocly" ]; then
		cat "$cache/install.log"
		echo "SKIP: cannot install $pkg from the npm registry"
		exit 77
	fi
fi

# Run outside the tree, so that no stray redocly.yaml changes the rules.
cd "${TMPDIR:-/tmp}" || exit 99
if ! version=$("$redocly" --version 2>&1); then
	printf '%s\n' "$version"
	echo "SKIP: $redocly does not run here (Node.js $(node --version 2>&1))"
	exit 77
fi
out=$("$redocly" lint --max-problems=100 "$yaml" 2>&1)
rc=$?
printf '%s\n' "$out" | grep -v '[║╔╚]'
if [ $rc -ne 0 ]; then
	echo "FAIL: redocly lint found errors"
	exit 1
fi
if printf '%s\n' "$out" | grep -q 'You have [0-9]* warning'; then
	echo "FAIL: redocly lint has warnings"
	exit 1
fi
echo "PASS: redocly lint ($(printf '%s\n' "$version" | tail -1))"
exit 0
