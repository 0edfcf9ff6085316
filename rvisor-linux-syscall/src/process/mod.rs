//! Process calls: ids, and the process's life (fork, execve, exit, wait4).

mod ids;
