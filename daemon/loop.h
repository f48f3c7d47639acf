/* SPDX-License-Identifier: ISC */
/*
 * The one event loop's conventions, for every module that adds events to
 * it. Nothing but constants.
 */
#ifndef SCHEDD_LOOP_H
#define SCHEDD_LOOP_H

/*
 * Event priorities (event_base_priority_init(base, SCHEDD_NPRIO)). Reading
 * clients come first: the supervisor's own work (exits, reaping, drains,
 * timers, scans) and the requests that change something (the API queues
 * them) run at SCHEDD_PRIO_WORK, in small batches, and the loop looks for
 * new client events after every few of those callbacks
 * (event_config_set_max_dispatch_interval from SCHEDD_PRIO_WORK on), so a
 * burst of exits or of stops cannot keep a health check waiting for long.
 * Client callbacks are not counted: they all run in the turn they became
 * active, since stopping after eight of them only meant another
 * epoll_wait and timerfd_settime every four requests of 64 busy
 * connections, with nothing of lower priority allowed to run between.
 */
#define SCHEDD_NPRIO     3
#define SCHEDD_PRIO_WORK 2

#endif
