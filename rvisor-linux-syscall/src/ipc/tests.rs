//! The System V calls through the dispatch table, on the test machine: layouts as a program
//! reads them, errors, and the bookkeeping of shared memory attachments.

use super::*;
use crate::testing::{TestMachine, UserArena};
use alloc::vec::Vec;

const SHMGET: u32 = 29;
const SHMAT: u32 = 30;
const SHMCTL: u32 = 31;
const SEMGET: u32 = 64;
const SEMOP: u32 = 65;
const SEMCTL: u32 = 66;
const SHMDT: u32 = 67;
const MSGGET: u32 = 68;
const MSGSND: u32 = 69;
const MSGRCV: u32 = 70;
const MSGCTL: u32 = 71;

fn errno(error: LxError) -> isize {
    -(error.errno() as isize)
}

fn word(bytes: &[u8], offset: usize) -> u64 {
    get_u64(bytes, offset)
}

#[test]
fn semaphores_through_the_table() {
    let machine = TestMachine::new();
    let init = machine.init();
    let arena = UserArena::new(1);
    let run = |nr, args| machine.run(&init, 1, nr, args);
    assert_eq!(run(SEMGET, [7, 2, 0o600, 0, 0, 0]), errno(LxError::ENOENT));
    assert_eq!(run(SEMGET, [7, 2, 0o1600, 0, 0, 0]), 0);
    assert_eq!(run(SEMGET, [7, 3, 0, 0, 0, 0]), errno(LxError::EINVAL));
    // SETVAL 3 on semaphore 1, then a semop taking 2 from it and 1 from semaphore 0 (0):
    // nothing happens with IPC_NOWAIT.
    assert_eq!(run(SEMCTL, [0, 1, 16, 3, 0, 0]), 0);
    let ops: Vec<u8> = [(1u16, -2i16, 0u16), (0, -1, 0o4000)]
        .iter()
        .flat_map(|(num, op, flg)| {
            [num.to_le_bytes(), op.to_le_bytes(), flg.to_le_bytes()].concat()
        })
        .collect();
    let sops = arena.put_bytes(&ops);
    assert_eq!(run(SEMOP, [0, sops, 2, 0, 0, 0]), errno(LxError::EAGAIN));
    assert_eq!(run(SEMCTL, [0, 1, 12, 0, 0, 0]), 3);
    assert_eq!(run(SEMOP, [0, sops, 1, 0, 0, 0]), 0);
    assert_eq!(run(SEMCTL, [0, 1, 12, 0, 0, 0]), 1);
    assert_eq!(
        run(SEMCTL, [0, 1, 11, 0, 0, 0]),
        1,
        "GETPID: the container pid"
    );
    let ds = arena.alloc(104);
    assert_eq!(run(SEMCTL, [0, 0, 2, ds, 0, 0]), 0);
    let bytes = arena.get_bytes(ds, 104);
    assert_eq!(get_u32(&bytes, 0), 7, "key");
    assert_eq!(get_u32(&bytes, 20), 0o600, "mode");
    assert!(word(&bytes, 48) > 0, "sem_otime");
    assert_eq!(word(&bytes, 80), 2, "sem_nsems");
    assert_eq!(run(SEMCTL, [0, 0, 0, 0, 0, 0]), 0);
    assert_eq!(run(SEMCTL, [0, 0, 12, 0, 0, 0]), errno(LxError::EINVAL));
}

#[test]
fn messages_through_the_table() {
    let machine = TestMachine::new();
    let init = machine.init();
    let arena = UserArena::new(1);
    let run = |nr, args| machine.run(&init, 1, nr, args);
    let id = run(MSGGET, [0, 0o600, 0, 0, 0, 0]) as usize;
    let message = arena.put_bytes(&[5i64.to_le_bytes().as_slice(), b"hello"].concat());
    assert_eq!(run(MSGSND, [id, message, 5, 0, 0, 0]), 0);
    let buf = arena.alloc(16);
    assert_eq!(
        run(MSGRCV, [id, buf, 3, 0, 0o4000, 0]),
        errno(LxError::E2BIG)
    );
    assert_eq!(run(MSGRCV, [id, buf, 8, 5, 0o4000, 0]), 5);
    assert_eq!(
        arena.get_bytes(buf, 13),
        [5i64.to_le_bytes().as_slice(), b"hello"].concat()
    );
    assert_eq!(
        run(MSGRCV, [id, buf, 8, 0, 0o4000, 0]),
        errno(LxError::ENOMSG)
    );
    let ds = arena.alloc(120);
    assert_eq!(run(MSGCTL, [id, 2, ds, 0, 0, 0]), 0);
    let bytes = arena.get_bytes(ds, 120);
    assert_eq!(word(&bytes, 88), 16384, "msg_qbytes");
    assert_eq!(get_u32(&bytes, 96), 1, "msg_lspid");
    assert_eq!(get_u32(&bytes, 100), 1, "msg_lrpid");
    assert_eq!(run(MSGCTL, [id, 0, 0, 0, 0, 0]), 0);
    assert_eq!(
        run(MSGSND, [id, message, 5, 0, 0, 0]),
        errno(LxError::EINVAL)
    );
}

#[test]
fn shared_memory_attachments_and_removal() {
    let machine = TestMachine::new();
    let init = machine.init();
    let arena = UserArena::new(1);
    let run = |nr, args| machine.run(&init, 1, nr, args);
    assert_eq!(run(SHMGET, [9, 0, 0o1600, 0, 0, 0]), errno(LxError::EINVAL));
    let id = run(SHMGET, [9, 5000, 0o1600, 0, 0, 0]);
    assert_eq!(id, 0);
    assert_eq!(run(SHMAT, [0, 0x1001, 0, 0, 0, 0]), errno(LxError::EINVAL));
    let addr = run(SHMAT, [0, 0, 0, 0, 0, 0]);
    assert!(addr > 0);
    let ds = arena.alloc(112);
    let nattch = |ds: usize| {
        assert_eq!(run(SHMCTL, [0, 2, ds, 0, 0, 0]), 0);
        let bytes = arena.get_bytes(ds, 112);
        (word(&bytes, 48), word(&bytes, 88), get_u32(&bytes, 20))
    };
    assert_eq!(nattch(ds), (5000, 1, 0o600));
    assert_eq!(
        run(SHMDT, [addr as usize + 4096, 0, 0, 0, 0, 0]),
        errno(LxError::EINVAL)
    );
    // Removed while attached: still there, marked, its key free.
    assert_eq!(run(SHMCTL, [0, 0, 0, 0, 0, 0]), 0);
    assert_eq!(nattch(ds), (5000, 1, 0o1600));
    assert_eq!(run(SHMGET, [9, 0, 0, 0, 0, 0]), errno(LxError::ENOENT));
    assert_eq!(run(SHMDT, [addr as usize, 0, 0, 0, 0, 0]), 0);
    assert_eq!(run(SHMCTL, [0, 2, ds, 0, 0, 0]), errno(LxError::EINVAL));
}

#[test]
fn posix_message_queues_through_the_table() {
    const MQ_OPEN: u32 = 240;
    const MQ_UNLINK: u32 = 241;
    const MQ_TIMEDSEND: u32 = 242;
    const MQ_TIMEDRECEIVE: u32 = 243;
    const MQ_NOTIFY: u32 = 244;
    const MQ_GETSETATTR: u32 = 245;
    let machine = TestMachine::new();
    let init = machine.init();
    let arena = UserArena::new(4);
    let run = |nr, args| machine.run(&init, 1, nr, args);
    let name = arena.put_cstr("queue");
    assert_eq!(
        run(MQ_OPEN, [name, 2, 0o600, 0, 0, 0]),
        errno(LxError::ENOENT)
    );
    let fd = run(MQ_OPEN, [name, 0o4102, 0o600, 0, 0, 0]);
    assert!(fd >= 0);
    assert!(
        init.files().cloexec(fd as i32).unwrap(),
        "always close-on-exec"
    );
    let fd = fd as usize;
    let text = arena.put_bytes(b"hi");
    assert_eq!(
        run(MQ_TIMEDSEND, [fd, text, 2, 32768, 0, 0]),
        errno(LxError::EINVAL)
    );
    assert_eq!(run(MQ_TIMEDSEND, [fd, text, 2, 3, 0, 0]), 0);
    let attr = arena.alloc(64);
    assert_eq!(run(MQ_GETSETATTR, [fd, 0, attr, 0, 0, 0]), 0);
    let bytes = arena.get_bytes(attr, 64);
    assert_eq!(
        (
            word(&bytes, 0),
            word(&bytes, 8),
            word(&bytes, 16),
            word(&bytes, 24)
        ),
        (0o4000, 10, 8192, 1)
    );
    let buf = arena.alloc(8192);
    let prio = arena.alloc(4);
    assert_eq!(
        run(MQ_TIMEDRECEIVE, [fd, buf, 100, prio, 0, 0]),
        errno(LxError::EMSGSIZE)
    );
    assert_eq!(run(MQ_TIMEDRECEIVE, [fd, buf, 8192, prio, 0, 0]), 2);
    assert_eq!(arena.get_bytes(buf, 2), b"hi");
    assert_eq!(get_u32(&arena.get_bytes(prio, 4), 0), 3);
    assert_eq!(
        run(MQ_TIMEDRECEIVE, [fd, buf, 8192, 0, 0, 0]),
        errno(LxError::EAGAIN)
    );
    // SIGEV_SIGNAL with SIGUSR1, then a message to the empty queue notifies once.
    let sigevent = arena.put_bytes(
        &[
            &7u64.to_le_bytes()[..],
            &10u32.to_le_bytes(),
            &0u32.to_le_bytes(),
            &[0; 48],
        ]
        .concat(),
    );
    assert_eq!(run(MQ_NOTIFY, [fd, sigevent, 0, 0, 0, 0]), 0);
    assert_eq!(
        run(MQ_NOTIFY, [fd, sigevent, 0, 0, 0, 0]),
        errno(LxError::EBUSY)
    );
    assert_eq!(run(MQ_TIMEDSEND, [fd, text, 2, 0, 0, 0]), 0);
    assert_eq!(machine.signals().len(), 1);
    assert_eq!(run(MQ_NOTIFY, [99, 0, 0, 0, 0, 0]), errno(LxError::EBADF));
    assert_eq!(run(MQ_UNLINK, [name, 0, 0, 0, 0, 0]), 0);
    assert_eq!(
        run(MQ_UNLINK, [name, 0, 0, 0, 0, 0]),
        errno(LxError::ENOENT)
    );
}
