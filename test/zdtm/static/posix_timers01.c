/*
 * posix_timers01: a POSIX timer on another task's CPU clock (its child's,
 * from clock_getcpuclockid) is refused at checkpoint, naming the timer,
 * and the task is left as it was: the timer still exists, armed.
 * Sabotage deletes the timer.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "nsutil.h"

static int child(void *arg)
{
	(void)arg;
	test_daemon();
	test_waitsig();
	return 0;
}

int main(int argc, char **argv)
{
	struct sigevent ev = { .sigev_notify = SIGEV_NONE };
	struct itimerspec its = { { 0, 0 }, { 3600, 0 } }, now;
	clockid_t clk;
	timer_t id;
	pid_t a;

	test_init(argc, argv);
	a = test_spawn(child, NULL);
	if (a < 0 || clock_getcpuclockid(a, &clk) || timer_create(clk, &ev, &id) || timer_settime(id, 0, &its, NULL)) {
		fail("a timer on the child's CPU clock");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		timer_delete(id);
	if (timer_gettime(id, &now) || (now.it_value.tv_sec == 0 && now.it_value.tv_nsec == 0))
		fail("the timer is gone or disarmed");
	test_stop_children();
	pass();
	return test_exit();
}
