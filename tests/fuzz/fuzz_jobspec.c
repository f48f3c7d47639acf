/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the job-spec decoder, the daemon's widest input
 * surface. Any input must either fail cleanly (SERR_INVALID with a field
 * and message that are valid UTF-8, so the API can send them as JSON, and
 * nothing leaked) or decode into a spec whose encoding round-trips exactly:
 * to_json(from_json(to_json(spec))) == to_json(spec). A copy must encode
 * the same. Any other outcome aborts.
 */

#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "proto/errors.h"
#include "proto/jobspec.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_jobspec: %s\n", what);
		abort();
	}
}

/* What the API does with an error: both strings must be JSON strings. */
static void
check_err(const struct serr *err)
{
	json_t *f, *m;

	check(err->code == SERR_INVALID, "error code is not SERR_INVALID");
	check(err->message[0] != '\0', "empty error message");
	f = json_string(err->field);
	m = json_string(err->message);
	check(f != NULL, "error field is not valid UTF-8");
	check(m != NULL, "error message is not valid UTF-8");
	json_decref(f);
	json_decref(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct job_spec spec, again, copy;
	json_t *out, *out2, *out3;
	struct serr err;

	if (jobspec_from_text((const char *)data, size, &spec, &err) == -1) {
		check_err(&err);
		return (0);
	}
	out = jobspec_to_json(&spec);
	check(out != NULL, "to_json failed");
	if (jobspec_from_json(out, &again, &err) == -1) {
		fprintf(stderr, "re-decode: %s: %s\n", err.field, err.message);
		check(0, "encoding does not decode");
	}
	out2 = jobspec_to_json(&again);
	check(out2 != NULL, "to_json of the round trip failed");
	check(json_equal(out, out2), "round trip differs");
	check(jobspec_copy(&copy, &spec) == 0, "copy failed");
	out3 = jobspec_to_json(&copy);
	check(out3 != NULL && json_equal(out, out3), "copy differs");

	json_decref(out);
	json_decref(out2);
	json_decref(out3);
	jobspec_free(&spec);
	jobspec_free(&again);
	jobspec_free(&copy);
	return (0);
}
