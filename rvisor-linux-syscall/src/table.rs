//! The dispatch table: every call this crate serves, by x86-64 number, in one list.
//!
//! Each line is `number name sync|async handler(args…)`, or `number name split now or
//! later(args…)` for a call that rarely waits: `now` runs at once and returns `None` when the
//! call must wait, and the future `later` then runs it from the start. Arguments are the raw registers
//! `a0`…`a5`, converted to the handler's parameter types by [`Arg`] (an `int` argument takes
//! the low 32 bits, as Linux's `SYSCALL_DEFINE` wrappers do). From the one list the macro
//! builds the `match` of [`Syscall::dispatch`] and [`SERVED`], which the documentation
//! generator (`cargo xtask syscalls-doc`) and the kernel module's router read.
//!
//! ```
//! use rvisor_linux_syscall::table::{served, SERVED};
//!
//! assert_eq!(served(39).map(|call| call.name), Some("getpid"));
//! assert!(SERVED.windows(2).all(|pair| pair[0].nr < pair[1].nr));
//! ```

use crate::user::UserPtr;
use crate::{SysResult, Syscall};

/// A served call: its x86-64 number and name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServedCall {
    /// The x86-64 syscall number.
    pub nr: u32,
    /// Its name, as in `<asm/unistd_64.h>` without `__NR_`.
    pub name: &'static str,
}

/// The served call numbered `nr`, if this crate serves it.
pub fn served(nr: u32) -> Option<ServedCall> {
    SERVED
        .binary_search_by_key(&nr, |call| call.nr)
        .ok()
        .and_then(|index| SERVED.get(index).copied())
}

/// A register converted to a handler's parameter type.
pub trait FromRegister {
    /// The value of this type a register holding `raw` passes.
    fn from_register(raw: usize) -> Self;
}

macro_rules! truncating_registers {
    ($($type:ty),*) => {$(
        impl FromRegister for $type {
            fn from_register(raw: usize) -> Self {
                // Truncation is the ABI: an `int` argument is the register's low 32 bits.
                raw as $type
            }
        }
    )*};
}

truncating_registers!(u32, i32, u64, i64, usize, isize);

impl<T, P> FromRegister for UserPtr<T, P> {
    fn from_register(raw: usize) -> Self {
        Self::from(raw)
    }
}

/// Converts a raw register to whatever type the handler's parameter has.
trait Arg {
    fn arg<T: FromRegister>(self) -> T;
}

impl Arg for usize {
    fn arg<T: FromRegister>(self) -> T {
        T::from_register(self)
    }
}

macro_rules! call_handler {
    (sync, $s:ident, $handler:ident, [], $args:tt) => {
        $s.$handler $args
    };
    (async, $s:ident, $handler:ident, [], $args:tt) => {
        $s.$handler $args.await
    };
    (split, $s:ident, $handler:ident, [$later:ident], $args:tt) => {
        $s.$later $args.await
    };
}

/// A handler's result if it is `sync`; an `async` handler is not called (no future is made);
/// a `split` one's first handler runs at once and says whether its second, a future, must
/// finish the call (`None`).
macro_rules! call_now {
    (sync, $s:ident, $handler:ident, [], $args:tt) => {
        Now::Done($s.$handler $args)
    };
    (async, $s:ident, $handler:ident, [], $args:tt) => {
        Now::Later
    };
    (split, $s:ident, $handler:ident, [$later:ident], $args:tt) => {
        match $s.$handler $args {
            Some(result) => Now::Done(result),
            None => Now::Later,
        }
    };
}

/// What [`Syscall::dispatch_now`] did with a call.
pub(crate) enum Now {
    /// The call's handler never waits: it ran, with this result.
    Done(SysResult),
    /// The call's handler may wait: it must run as a future.
    Later,
    /// The table does not serve the number.
    Unknown,
}

macro_rules! syscall_table {
    (registers $registers:tt; $($nr:literal $name:ident $mode:ident $handler:ident $(or $later:ident)? ($($arg:ident),*);)*) => {
        /// Every served call, in increasing number.
        pub const SERVED: &[ServedCall] = &[$(ServedCall { nr: $nr, name: stringify!($name) },)*];

        impl Syscall<'_> {
            /// Runs the handler of call `nr`; `None` if the table does not serve it.
            #[allow(unused_variables)]
            pub(crate) async fn dispatch(&self, nr: u32, args: [usize; 6]) -> Option<SysResult> {
                let $registers = args;
                Some(match nr {
                    $($nr => call_handler!($mode, self, $handler, [$($later)?], ($($arg.arg()),*)),)*
                    _ => return None,
                })
            }

            /// Runs the handler of call `nr` at once if it never waits.
            #[allow(unused_variables)]
            pub(crate) fn dispatch_now(&self, nr: u32, args: [usize; 6]) -> Now {
                let $registers = args;
                match nr {
                    $($nr => call_now!($mode, self, $handler, [$($later)?], ($($arg.arg()),*)),)*
                    _ => Now::Unknown,
                }
            }
        }
    };
}

syscall_table! {
    registers [a0, a1, a2, a3, a4, a5];

    0 read async sys_read(a0, a1, a2);
    1 write async sys_write(a0, a1, a2);
    2 open split sys_open_now or sys_open(a0, a1, a2);
    3 close sync sys_close(a0);
    4 stat sync sys_stat(a0, a1);
    5 fstat sync sys_fstat(a0, a1);
    6 lstat sync sys_lstat(a0, a1);
    7 poll async sys_poll(a0, a1, a2);
    8 lseek sync sys_lseek(a0, a1, a2);
    9 mmap sync sys_mmap(a0, a1, a2, a3, a4, a5);
    10 mprotect sync sys_mprotect(a0, a1, a2);
    11 munmap sync sys_munmap(a0, a1);
    12 brk sync sys_brk(a0);
    16 ioctl sync sys_ioctl(a0, a1, a2);
    17 pread64 async sys_pread64(a0, a1, a2, a3);
    18 pwrite64 async sys_pwrite64(a0, a1, a2, a3);
    19 readv async sys_readv(a0, a1, a2);
    20 writev async sys_writev(a0, a1, a2);
    21 access sync sys_access(a0, a1);
    22 pipe sync sys_pipe(a0);
    23 select async sys_select(a0, a1, a2, a3, a4);
    29 shmget sync sys_shmget(a0, a1, a2);
    30 shmat sync sys_shmat(a0, a1, a2);
    31 shmctl sync sys_shmctl(a0, a1, a2);
    32 dup sync sys_dup(a0);
    33 dup2 sync sys_dup2(a0, a1);
    39 getpid sync sys_getpid();
    40 sendfile async sys_sendfile(a0, a1, a2, a3);
    41 socket sync sys_socket(a0, a1, a2);
    42 connect async sys_connect(a0, a1, a2);
    43 accept async sys_accept(a0, a1, a2);
    44 sendto async sys_sendto(a0, a1, a2, a3, a4, a5);
    45 recvfrom async sys_recvfrom(a0, a1, a2, a3, a4, a5);
    46 sendmsg async sys_sendmsg(a0, a1, a2);
    47 recvmsg async sys_recvmsg(a0, a1, a2);
    48 shutdown sync sys_shutdown(a0, a1);
    49 bind sync sys_bind(a0, a1, a2);
    50 listen sync sys_listen(a0, a1);
    51 getsockname sync sys_getsockname(a0, a1, a2);
    52 getpeername sync sys_getpeername(a0, a1, a2);
    53 socketpair sync sys_socketpair(a0, a1, a2, a3);
    54 setsockopt sync sys_setsockopt(a0, a1, a2, a3, a4);
    55 getsockopt sync sys_getsockopt(a0, a1, a2, a3, a4);
    56 clone async sys_clone(a0, a1, a2, a3, a4);
    57 fork async sys_fork();
    58 vfork async sys_vfork();
    59 execve sync sys_execve(a0, a1, a2);
    60 exit sync sys_exit(a0);
    61 wait4 async sys_wait4(a0, a1, a2, a3);
    62 kill sync sys_kill(a0, a1);
    63 uname sync sys_uname(a0);
    64 semget sync sys_semget(a0, a1, a2);
    65 semop split sys_semop_now or sys_semop(a0, a1, a2);
    66 semctl sync sys_semctl(a0, a1, a2, a3);
    67 shmdt sync sys_shmdt(a0);
    68 msgget sync sys_msgget(a0, a1);
    69 msgsnd split sys_msgsnd_now or sys_msgsnd(a0, a1, a2, a3);
    70 msgrcv split sys_msgrcv_now or sys_msgrcv(a0, a1, a2, a3, a4);
    71 msgctl sync sys_msgctl(a0, a1, a2);
    72 fcntl sync sys_fcntl(a0, a1, a2);
    73 flock async sys_flock(a0, a1);
    74 fsync sync sys_fsync(a0);
    75 fdatasync sync sys_fdatasync(a0);
    76 truncate sync sys_truncate(a0, a1);
    77 ftruncate sync sys_ftruncate(a0, a1);
    78 getdents sync sys_getdents(a0, a1, a2);
    79 getcwd sync sys_getcwd(a0, a1);
    80 chdir sync sys_chdir(a0);
    81 fchdir sync sys_fchdir(a0);
    82 rename sync sys_rename(a0, a1);
    83 mkdir sync sys_mkdir(a0, a1);
    84 rmdir sync sys_rmdir(a0);
    85 creat split sys_creat_now or sys_creat(a0, a1);
    86 link sync sys_link(a0, a1);
    87 unlink sync sys_unlink(a0);
    88 symlink sync sys_symlink(a0, a1);
    89 readlink sync sys_readlink(a0, a1, a2);
    90 chmod sync sys_chmod(a0, a1);
    91 fchmod sync sys_fchmod(a0, a1);
    92 chown sync sys_chown(a0, a1, a2);
    93 fchown sync sys_fchown(a0, a1, a2);
    94 lchown sync sys_lchown(a0, a1, a2);
    95 umask sync sys_umask(a0);
    97 getrlimit sync sys_getrlimit(a0, a1);
    99 sysinfo sync sys_sysinfo(a0);
    105 setuid sync sys_setuid(a0);
    106 setgid sync sys_setgid(a0);
    109 setpgid sync sys_setpgid(a0, a1);
    110 getppid sync sys_getppid();
    111 getpgrp sync sys_getpgrp();
    112 setsid sync sys_setsid();
    113 setreuid sync sys_setreuid(a0, a1);
    114 setregid sync sys_setregid(a0, a1);
    116 setgroups sync sys_setgroups(a0, a1);
    117 setresuid sync sys_setresuid(a0, a1, a2);
    119 setresgid sync sys_setresgid(a0, a1, a2);
    121 getpgid sync sys_getpgid(a0);
    122 setfsuid sync sys_setfsuid(a0);
    123 setfsgid sync sys_setfsgid(a0);
    124 getsid sync sys_getsid(a0);
    125 capget sync sys_capget(a0, a1);
    126 capset sync sys_capset(a0, a1);
    132 utime sync sys_utime(a0, a1);
    133 mknod sync sys_mknod(a0, a1, a2);
    137 statfs sync sys_statfs(a0, a1);
    138 fstatfs sync sys_fstatfs(a0, a1);
    160 setrlimit sync sys_setrlimit(a0, a1);
    161 chroot sync sys_chroot(a0);
    162 sync sync sys_sync();
    165 mount sync sys_mount(a0, a1, a2, a3, a4);
    166 umount2 sync sys_umount2(a0, a1);
    170 sethostname sync sys_sethostname(a0, a1);
    186 gettid sync sys_gettid();
    188 setxattr sync sys_setxattr(a0, a1, a2, a3, a4);
    189 lsetxattr sync sys_lsetxattr(a0, a1, a2, a3, a4);
    190 fsetxattr sync sys_fsetxattr(a0, a1, a2, a3, a4);
    191 getxattr sync sys_getxattr(a0, a1, a2, a3);
    192 lgetxattr sync sys_lgetxattr(a0, a1, a2, a3);
    193 fgetxattr sync sys_fgetxattr(a0, a1, a2, a3);
    194 listxattr sync sys_listxattr(a0, a1, a2);
    195 llistxattr sync sys_llistxattr(a0, a1, a2);
    196 flistxattr sync sys_flistxattr(a0, a1, a2);
    197 removexattr sync sys_removexattr(a0, a1);
    198 lremovexattr sync sys_lremovexattr(a0, a1);
    199 fremovexattr sync sys_fremovexattr(a0, a1);
    200 tkill sync sys_tkill(a0, a1);
    203 sched_setaffinity sync sys_sched_setaffinity(a0, a1, a2);
    204 sched_getaffinity sync sys_sched_getaffinity(a0, a1, a2);
    213 epoll_create sync sys_epoll_create(a0);
    217 getdents64 sync sys_getdents64(a0, a1, a2);
    218 set_tid_address sync sys_set_tid_address(a0);
    220 semtimedop split sys_semtimedop_now or sys_semtimedop(a0, a1, a2, a3);
    221 fadvise64 sync sys_fadvise64(a0, a1, a2, a3);
    228 clock_gettime sync sys_clock_gettime(a0, a1);
    231 exit_group sync sys_exit_group(a0);
    232 epoll_wait split sys_epoll_wait_now or sys_epoll_wait(a0, a1, a2, a3);
    233 epoll_ctl sync sys_epoll_ctl(a0, a1, a2, a3);
    234 tgkill sync sys_tgkill(a0, a1, a2);
    235 utimes sync sys_utimes(a0, a1);
    240 mq_open sync sys_mq_open(a0, a1, a2, a3);
    241 mq_unlink sync sys_mq_unlink(a0);
    242 mq_timedsend split sys_mq_timedsend_now or sys_mq_timedsend(a0, a1, a2, a3, a4);
    243 mq_timedreceive split sys_mq_timedreceive_now or sys_mq_timedreceive(a0, a1, a2, a3, a4);
    244 mq_notify sync sys_mq_notify(a0, a1);
    245 mq_getsetattr sync sys_mq_getsetattr(a0, a1, a2);
    247 waitid async sys_waitid(a0, a1, a2, a3, a4);
    253 inotify_init sync sys_inotify_init();
    254 inotify_add_watch sync sys_inotify_add_watch(a0, a1, a2);
    255 inotify_rm_watch sync sys_inotify_rm_watch(a0, a1);
    257 openat split sys_openat_now or sys_openat(a0, a1, a2, a3);
    258 mkdirat sync sys_mkdirat(a0, a1, a2);
    259 mknodat sync sys_mknodat(a0, a1, a2, a3);
    260 fchownat sync sys_fchownat(a0, a1, a2, a3, a4);
    261 futimesat sync sys_futimesat(a0, a1, a2);
    262 newfstatat sync sys_newfstatat(a0, a1, a2, a3);
    263 unlinkat sync sys_unlinkat(a0, a1, a2);
    264 renameat sync sys_renameat(a0, a1, a2, a3);
    265 linkat sync sys_linkat(a0, a1, a2, a3, a4);
    266 symlinkat sync sys_symlinkat(a0, a1, a2);
    267 readlinkat sync sys_readlinkat(a0, a1, a2, a3);
    268 fchmodat sync sys_fchmodat(a0, a1, a2);
    269 faccessat sync sys_faccessat(a0, a1, a2);
    270 pselect6 async sys_pselect6(a0, a1, a2, a3, a4, a5);
    271 ppoll async sys_ppoll(a0, a1, a2, a3, a4);
    275 splice async sys_splice(a0, a1, a2, a3, a4, a5);
    276 tee async sys_tee(a0, a1, a2, a3);
    278 vmsplice async sys_vmsplice(a0, a1, a2, a3);
    280 utimensat sync sys_utimensat(a0, a1, a2, a3);
    281 epoll_pwait async sys_epoll_pwait(a0, a1, a2, a3, a4, a5);
    282 signalfd sync sys_signalfd(a0, a1, a2);
    283 timerfd_create sync sys_timerfd_create(a0, a1);
    284 eventfd sync sys_eventfd(a0);
    285 fallocate sync sys_fallocate(a0, a1, a2, a3);
    286 timerfd_settime sync sys_timerfd_settime(a0, a1, a2, a3);
    287 timerfd_gettime sync sys_timerfd_gettime(a0, a1);
    288 accept4 async sys_accept4(a0, a1, a2, a3);
    289 signalfd4 sync sys_signalfd4(a0, a1, a2, a3);
    290 eventfd2 sync sys_eventfd2(a0, a1);
    291 epoll_create1 sync sys_epoll_create1(a0);
    292 dup3 sync sys_dup3(a0, a1, a2);
    293 pipe2 sync sys_pipe2(a0, a1);
    294 inotify_init1 sync sys_inotify_init1(a0);
    295 preadv async sys_preadv(a0, a1, a2, a3, a4);
    296 pwritev async sys_pwritev(a0, a1, a2, a3, a4);
    299 recvmmsg async sys_recvmmsg(a0, a1, a2, a3, a4);
    302 prlimit64 sync sys_prlimit64(a0, a1, a2, a3);
    306 syncfs sync sys_syncfs(a0);
    307 sendmmsg async sys_sendmmsg(a0, a1, a2, a3);
    316 renameat2 sync sys_renameat2(a0, a1, a2, a3, a4);
    319 memfd_create sync sys_memfd_create(a0, a1);
    322 execveat sync sys_execveat(a0, a1, a2, a3, a4);
    326 copy_file_range async sys_copy_file_range(a0, a1, a2, a3, a4, a5);
    327 preadv2 async sys_preadv2(a0, a1, a2, a3, a4, a5);
    328 pwritev2 async sys_pwritev2(a0, a1, a2, a3, a4, a5);
    332 statx sync sys_statx(a0, a1, a2, a3, a4);
    424 pidfd_send_signal sync sys_pidfd_send_signal(a0, a1, a2, a3);
    434 pidfd_open sync sys_pidfd_open(a0, a1);
    435 clone3 async sys_clone3(a0, a1);
    436 close_range sync sys_close_range(a0, a1, a2);
    438 pidfd_getfd sync sys_pidfd_getfd(a0, a1, a2);
    439 faccessat2 sync sys_faccessat2(a0, a1, a2, a3);
    441 epoll_pwait2 async sys_epoll_pwait2(a0, a1, a2, a3, a4, a5);
    452 fchmodat2 sync sys_fchmodat2(a0, a1, a2, a3);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_has_no_duplicates() {
        assert!(SERVED.windows(2).all(|pair| pair[0].nr < pair[1].nr));
    }

    #[test]
    fn run_now_serves_the_calls_that_never_wait_and_leaves_the_others() {
        use crate::testing::TestMachine;
        const READ: u32 = 0;
        const CLOSE: u32 = 3;
        const GETPID: u32 = 39;
        let enosys = -(crate::LxError::ENOSYS.errno() as isize);
        let ebadf = -(crate::LxError::EBADF.errno() as isize);
        let machine = TestMachine::new();
        let init = machine.init();
        assert_eq!(machine.run_now(&init, 1, GETPID, [0; 6]), Some(1));
        assert_eq!(
            machine.run_now(&init, 1, CLOSE, [99, 0, 0, 0, 0, 0]),
            Some(ebadf)
        );
        assert_eq!(machine.run(&init, 1, CLOSE, [99, 0, 0, 0, 0, 0]), ebadf);
        // A read may wait for a pipe: it needs a future, and nothing of it ran.
        assert_eq!(machine.run_now(&init, 1, READ, [99, 0, 0, 0, 0, 0]), None);
        assert_eq!(machine.run_now(&init, 1, 1000, [0; 6]), Some(enosys));
        assert_eq!(machine.run(&init, 1, 1000, [0; 6]), enosys);
    }

    #[test]
    fn int_arguments_take_the_low_32_bits() {
        assert_eq!(i32::from_register(0xffff_ffff_0000_0003), 3);
        assert_eq!(i32::from_register(0xffff_ffff), -1);
    }
}
