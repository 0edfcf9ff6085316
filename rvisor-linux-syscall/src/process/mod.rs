//! Process calls: ids, process groups and sessions, signals to other tasks, and the
//! process's life (clone, execve, exit, wait4, waitid).

mod affinity;
mod caps;
mod clone;
mod exec;
mod exit;
mod group;
mod ids;
mod limits;
mod pidfd;
mod setid;
mod signal;
mod waitid;

#[cfg(test)]
mod tests;
