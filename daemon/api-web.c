/* SPDX-License-Identifier: ISC */
/*
 * GET /: the status page, one HTML file with its script and style inline
 * (daemon/web/index.html, embedded at build time: nothing is fetched from
 * anywhere else, at build time or at run time). The page holds no data; it
 * asks the API for everything with the browser's credentials, so what it
 * shows and what its buttons may do are the API's rules. For that reason
 * it is also the one answer the TCP listener gives without a token: the
 * page is where a person types one in.
 */
#include "config.h"

#include <stddef.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "daemon/api-int.h"

extern const char web_page[];
extern const size_t web_page_len;

void
api_web_reply(struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evbuffer_add_reference(evhttp_request_get_output_buffer(req), web_page,
	    web_page_len, NULL, NULL);
	evhttp_add_header(h, "Content-Type", "text/html; charset=utf-8");
	/* Its own inline script and style, requests to this origin only,
	 * and never inside another site's frame (its buttons act). */
	evhttp_add_header(h, "Content-Security-Policy",
	    "default-src 'none'; script-src 'unsafe-inline'; "
	    "style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'; "
	    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "Cache-Control", "no-cache");
	evhttp_send_reply(req, 200, "OK", NULL);
}

int
api_web_index(struct api_ctx *ctx, json_t **out, struct serr *err)
{
	static const char *const params[] = {NULL};

	(void)out;
	if (api_query_check(ctx, params, err) == -1)
		return (-1);
	api_web_reply(ctx->req);
	return (API_DEFERRED);
}
