/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the CPU-list parser. A list that parses must format
 * to a canonical text that parses back to the same bitmap and formats to
 * the same text again; a list that fails must leave an empty set and give a
 * reason. The input is used as a C string, as callers hold it.
 */

#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/cpulist.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Any set's canonical text fits ("0,2,...,1022" is about 2000 bytes). */
#define TEXT_MAX 4096

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_cpulist: %s\n", what);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cpulist a, b, empty;
	char text[TEXT_MAX], text2[TEXT_MAX];
	const char *why;
	char *s;
	int allow_empty;

	if (size == 0)
		return (0);
	/* The first byte picks allow_empty; the rest is the list. */
	allow_empty = data[0] & 1;
	if ((s = malloc(size)) == NULL)
		return (0);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';

	cpulist_zero(&empty);
	why = NULL;
	if (cpulist_parse(s, &a, allow_empty, &why) == -1) {
		check(why != NULL && *why != '\0', "failure without a reason");
		check(
		    memcmp(&a, &empty, sizeof a) == 0, "failure left CPUs set");
		free(s);
		return (0);
	}
	check(allow_empty || cpulist_count(&a) > 0, "empty set accepted");
	check(cpulist_format(&a, text, sizeof text) == 0, "format failed");
	check(strlen(text) <= strlen(s), "canonical text longer than input");
	check(cpulist_parse(text, &b, 1, &why) == 0, "canonical text rejected");
	check(memcmp(&a, &b, sizeof a) == 0, "round trip differs");
	check(cpulist_format(&b, text2, sizeof text2) == 0 &&
		  strcmp(text, text2) == 0,
	    "canonical text not stable");
	check(cpulist_subset(&a, &b) && cpulist_subset(&b, &a),
	    "subset disagrees with equality");
	free(s);
	return (0);
}
