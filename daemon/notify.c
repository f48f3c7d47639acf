/* SPDX-License-Identifier: ISC */
/* Placeholder until the sd_notify implementation lands: every call is a
 * no-op, as when $NOTIFY_SOCKET is unset. */
#include "config.h"

#include "daemon/notify.h"

int
notify_init(struct event_base *base)
{
	(void)base;
	return (0);
}

void
notify_ready(size_t njobs)
{
	(void)njobs;
}

void
notify_status(const char *fmt, ...)
{
	(void)fmt;
}

void
notify_stopping(void)
{
}

void
notify_free(void)
{
}
