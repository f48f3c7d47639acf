# SPDX-License-Identifier: ISC
# Embed daemon/web/index.html into daemon/web-page.c as one C string
# (web_page, web_page_len): backslashes, double quotes and tabs escaped
# character by character (gsub's replacement rules differ between awks),
# one source line per line of the page.
BEGIN {
	print "/* Generated from daemon/web/index.html by page-gen.awk. */"
	print "#include <stddef.h>"
	print "extern const char web_page[];"
	print "extern const size_t web_page_len;"
	print "const char web_page[] ="
}
{
	out = ""
	n = length($0)
	for (i = 1; i <= n; i++) {
		c = substr($0, i, 1)
		if (c == "\\")
			out = out "\\\\"
		else if (c == "\"")
			out = out "\\\""
		else if (c == "\t")
			out = out "\\t"
		else
			out = out c
	}
	printf "    \"%s\\n\"\n", out
}
END {
	print "    ;"
	print "const size_t web_page_len = sizeof(web_page) - 1;"
}
