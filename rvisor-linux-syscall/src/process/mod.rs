//! Process calls: ids, and the process's life (clone, execve, exit, wait4).

mod clone;
mod exec;
mod exit;
mod ids;

#[cfg(test)]
mod tests;
