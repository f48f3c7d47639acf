/* SPDX-License-Identifier: ISC */
/*
 * Helper threads. A signal meant for the loop (SIGCHLD, SIGTERM, SIGHUP)
 * that the kernel gave to a helper would be handled where nothing waits
 * for it: a helper starts with the full mask, which it inherits from the
 * thread that creates it, and that thread's mask is put back at once.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>

#include "daemon/thread.h"

int
thread_start(
    pthread_t *thread, void *(*fn)(void *), void *arg, const char *name)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(thread, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0)
		pthread_setname_np(*thread, name);
	return (rc);
}
