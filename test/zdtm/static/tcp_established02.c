/* tcp_established02: tcp_established01 checkpointed without
 * --tcp-established: the checkpoint must be refused, naming the
 * connection, and leave it working (the program's own checks then pass). */
#include "tcp_established01.c"
