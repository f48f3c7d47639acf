#!/bin/sh
# SPDX-License-Identifier: ISC
# Hold the code to the module map tests/parts/parts.map (its header says
# the format): every .c/.h/.sql/.awk file under daemon/, proto/, client/
# and sql/ must sit in a part, and every #include "..." and every call of
# a function defined in another part (a name at column 0 followed by '{'
# lines below, or a header's function-like macro) must follow a drawn
# arrow and cross no "never". Prints FAIL lines (file:line, what, which
# rule) and XFAIL lines for the map's known violations.
# Usage: check_parts.sh [TOP [MAP]]. Exit 0 pass, 1 fail, 99 hard error.
set -u

top=${1:-${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}}
map=${2:-$top/tests/parts/parts.map}
[ -r "$map" ] && cd "$top" 2>/dev/null ||
    { echo "check_parts: cannot read $map or $top" >&2; exit 99; }
files=$(find daemon proto client sql -type f \( -name '*.[ch]' -o \
    -name '*.sql' -o -name '*.awk' \) 2>/dev/null | LC_ALL=C sort)
[ -n "$files" ] || { echo "check_parts: no sources in $top" >&2; exit 99; }

awk -v files="$files" '
function die(m) { print "check_parts: " FILENAME ":" FNR ": " m >"/dev/stderr"; bad = 1; exit 99 }
function partof(p, q) {
	if (p in fpart) return fpart[p]
	for (q = p; sub(/[^\/]*\/?$/, "", q) && q != ""; ) if (q in fpart) return fpart[q]
	return ""
}
function stem(p) { sub(/\.[ch]$/, "", p); return p }
function pmatch(p, pat) {
	if (pat ~ /\/$/) return substr(p, 1, length(pat)) == pat
	return p == pat || stem(p) == stem(pat)
}
function side(tok, f, part) { return tok ~ /\// ? pmatch(f, tok) : tok == part }
# Whether G is pat or includes it (in turn).
function reaches(G, pat, d,   n, r, x) {
	if (pmatch(G, pat)) return 1
	n = split(incs[G], r, " ")
	for (x = 1; x <= n && d < 16; x++) if (reaches(r[x], pat, d + 1)) return 1
	return 0
}
# Why F (part P) may not use G (part Q), or "". inc: G is included, so a
# path rule catches what G includes too.
function verdict(F, P, G, Q, inc,   i) {
	for (i = 1; i <= nn; i++) {
		if (!side(nfrom[i], F, P)) continue
		if (nto[i] !~ /\//) { if (nto[i] != Q) continue }
		else if (!pmatch(G, nto[i]) && !(inc && reaches(G, nto[i], 0))) continue
		return "never " nfrom[i] " -> " nto[i] (nto[i] ~ /\// && !pmatch(G, nto[i]) ? " (through its includes)" : "") ": " nwhy[i]
	}
	if (P == Q || (P SUBSEP Q) in use || ("*" SUBSEP Q) in use) return ""
	return "no arrow " P " -> " Q
}
function report(F, ln, what, target, why,   k) {
	k = F SUBSEP target
	if (k in known) {
		seen[k] = 1; nx++
		printf "XFAIL: %s:%d: %s: %s [known: %s]\n", F, ln, what, why, known[k]
	} else {
		nf++; printf "FAIL: %s:%d: %s: %s\n", F, ln, what, why
	}
}
# The line without comments and string or character literals.
function strip(s,   o, i, c, n, q) {
	o = ""; n = length(s); q = ""
	for (i = 1; i <= n; i++) {
		c = substr(s, i, 1)
		if (incom) { if (c == "*" && substr(s, i + 1, 1) == "/") { incom = 0; i++ } }
		else if (q != "") { if (c == "\\") i++; else if (c == q) q = "" }
		else if (c == "/" && substr(s, i + 1, 1) == "*") { incom = 1; i++ }
		else if (c == "/" && substr(s, i + 1, 1) == "/") break
		else if (c == "\"" || c == "\047") { q = c; o = o " " }
		else o = o c
	}
	return o
}
/^[ \t]*(#|$)/ { next }
$1 !~ /^(part|file|use|never|ignore|known)$/ { die("unknown rule " $1) }
$1 ~ /^(file|use|never)$/ {
	for (i = 2; i <= ($1 == "file" ? 2 : 3); i++)
		if ($i !~ /[\/*]/ && !($i in parts)) die("no part " $i)
}
$1 == "part" { parts[$2] = 1; next }
$1 == "file" { if ($3 in fpart) die($3 " is placed twice"); fpart[$3] = $2; forder[++nfo] = $3; next }
$1 == "use" { use[$2, $3] = 1; next }
$1 == "ignore" { ignore[$2] = 1; next }
{ t = $1; a = $2; b = $3; $1 = $2 = $3 = ""; sub(/^ +/, "") }
t == "never" { nn++; nfrom[nn] = a; nto[nn] = b; nwhy[nn] = $0 }
t == "known" { n = split(b, kt, ","); for (i = 1; i <= n; i++) { known[a, kt[i]] = $0; korder[++nko] = a SUBSEP kt[i] } }
END {
	if (bad) exit 99
	nfile = split(files, list, "\n")
	for (i = 1; i <= nfile; i++) {
		f = list[i]; exists[f] = 1
		if (partof(f) == "") { nf++; printf "FAIL: %s: in no part: place it in %s\n", f, ARGV[1] }
		if (f !~ /^(daemon|proto|client)\/.*\.[ch]$/) continue
		src[++nsrc] = f; incom = 0; ln = 0; pend = ""
		while ((getline raw < f) > 0) {
			ln++; s = strip(raw)
			if (match(raw, /^[ \t]*#[ \t]*include[ \t]*"[^"]*"/)) {
				w = substr(raw, RSTART, RLENGTH); sub(/^[^"]*"/, "", w); sub(/"$/, "", w)
				if (w in ignore) continue
				g = w; if (partof(g) == "" && f ~ /\//) { g = f; sub(/[^\/]*$/, w, g) }
				ninc++; inc[ninc] = f; incto[ninc] = g; incln[ninc] = ln; incw[ninc] = w
				incs[f] = incs[f] " " g
			}
			if (match(s, /^#[ \t]*define[ \t]+[A-Za-z_][A-Za-z0-9_]*\(/)) {
				d = substr(s, RSTART, RLENGTH - 1); sub(/.*[ \t]/, "", d)
				local[f, d] = 1; if (f ~ /\.h$/) gdef[d] = gdef[d] " " f
			} else if (pend != "" && s ~ /^\{/) {
				local[f, pend] = 1; if (!pstat || f ~ /\.h$/) gdef[pend] = gdef[pend] " " f
				pend = ""
			} else if (match(s, /^[A-Za-z_][A-Za-z0-9_]*[ \t]*\(/) && s !~ /;/) {
				pend = substr(s, 1, RLENGTH - 1); sub(/[ \t]+$/, "", pend); pstat = (prev ~ /^static/)
			} else if (s ~ /[;{}]/) pend = ""
			if (s ~ /[^ \t]/) prev = s
		}
		close(f)
	}
	for (i = 1; i <= ninc; i++) {
		f = inc[i]; g = incto[i]; P = partof(f); Q = partof(g)
		if (Q == "") { report(f, incln[i], "includes " incw[i], incw[i], "in no part"); continue }
		why = verdict(f, P, g, Q, 1)
		if (why != "") report(f, incln[i], "includes " g, g, why)
	}
	for (i = 1; i <= nsrc; i++) {
		f = src[i]; P = partof(f); incom = 0; ln = 0
		while ((getline raw < f) > 0) {
			ln++; s = strip(raw)
			if (s ~ /^[ \t]*#/) continue
			while (match(s, /[A-Za-z_][A-Za-z0-9_]*[ \t]*\(/)) {
				pre = RSTART > 1 ? substr(s, RSTART - 1, 1) : ""
				fn = substr(s, RSTART, RLENGTH - 1); sub(/[ \t]+$/, "", fn)
				s = substr(s, RSTART + RLENGTH)
				if (pre == "." || pre == ">" || (f, fn) in local || !(fn in gdef)) continue
				ncheck++; if ((f, fn) in called) continue
				n = split(gdef[fn], dd, " "); why = "x"
				for (x = 1; x <= n && why != ""; x++) why = verdict(f, P, dd[x], partof(dd[x]), 0)
				if (why == "") continue
				called[f, fn] = 1
				report(f, ln, "calls " fn "() of " dd[1], fn, verdict(f, P, dd[1], partof(dd[1]), 0))
			}
		}
		close(f)
	}
	for (i = 1; i <= nko; i++) if (!((k = korder[i]) in seen)) {
		split(k, kk, SUBSEP); nf++
		printf "XPASS: %s: %s: fixed; take it off its known line in %s\n", kk[1], kk[2], ARGV[1]
	}
	for (i = 1; i <= nfo; i++) if (forder[i] !~ /\/$/ && !(forder[i] in exists)) absent = absent " " forder[i]
	if (absent != "") print "note: listed, not yet written:" absent
	printf "%s: %d files, %d includes and %d calls checked; %d FAIL, %d XFAIL (known, to fix)\n", \
	    nf ? "FAIL" : "PASS", nfile, ninc, ncheck, nf, nx
	exit nf ? 1 : 0
}' "$map"
rc=$?
[ $rc -le 1 ] || rc=99
exit $rc
