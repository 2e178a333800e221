/*
 * tree: a small process tree for TestRestoreTree. The root leads a
 * session; it has a zombie child (exit status 7), a child counting into the
 * log, and a child leading its own process group with a grandchild. On
 * SIGTERM the root reaps the zombie and logs what it got.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <signal.h>
#include <sys/wait.h>
static volatile int term;
static void h(int s){ term=1; }
int main(int argc, char **argv){
  FILE *f = fopen(argv[1], "a"); setvbuf(f, 0, _IONBF, 0);
  setsid();
  pid_t z = fork(); if (!z) _exit(7);              /* zombie until SIGTERM */
  pid_t a = fork(); if (!a) { for (int i=0;;i++) { fprintf(f, "a %d %d\n", getpid(), i); usleep(100000);} }
  pid_t c = fork(); if (!c) { setpgid(0,0); pid_t g = fork(); if (!g) { for(;;) pause(); } for(;;) pause(); }
  signal(SIGTERM, h);
  fprintf(f, "parent %d kids z=%d a=%d c=%d\n", getpid(), z, a, c);
  while (!term) pause();
  int st; pid_t w = waitpid(z, &st, WNOHANG);
  fprintf(f, "zombie reaped=%d status exited=%d code=%d\n", w == z, WIFEXITED(st), WEXITSTATUS(st));
  kill(a, 9); kill(-c, 9); kill(c, 9);
  fprintf(f, "DONE\n"); return 0; }
