/*
 * stopped00: a task in a job-control stop (SIGSTOP) comes back stopped,
 * and goes on when sent SIGCONT.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nsutil.h"

int main(int argc, char **argv)
{
	struct pstat st;
	int status;
	pid_t pid;

	test_init(argc, argv);
	pid = test_fork();
	if (pid < 0) {
		fail("fork");
		return 1;
	}
	if (pid == 0) {
		raise(SIGSTOP);
		_exit(42);
	}
	if (waitpid(pid, &status, WUNTRACED) != pid || !WIFSTOPPED(status)) {
		fail("the child did not stop");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		kill(pid, SIGCONT);
	if (pstat_read(pid, &st))
		fail("child %d is gone", pid);
	else if (st.state != 'T')
		fail("child %d is in state %c, want T (stopped)", pid, st.state);
	if (kill(pid, SIGCONT))
		fail("SIGCONT");
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 42)
		fail("child did not go on to exit 42 (status %#x)", status);
	pass();
	return test_exit();
}
