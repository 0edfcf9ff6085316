//! Process calls: ids, process groups and sessions, and the process's life (clone, execve,
//! exit, wait4, waitid).

mod clone;
mod exec;
mod exit;
mod group;
mod ids;
mod waitid;

#[cfg(test)]
mod tests;
