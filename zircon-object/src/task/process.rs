//! Processes: an address space, its futexes and its threads.

use super::{Job, TaskError, Thread};
use crate::{
    futex::{FutexError, FutexTable, FutexWait},
    object::{KObjectBase, KernelObject, Signal},
    vm::VmAddressRegion,
};
use alloc::{sync::Arc, vec::Vec};
use core::time::Duration;
use kernel_hal_lkm::sync::Mutex;
use kernel_hal_lkm::VirtAddr;

/// Whether a process runs or has exited, and with what code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessStatus {
    /// Not exited yet.
    Running,
    /// Exited with this return code.
    Exited(i64),
}

/// A process: an address space in a job, with futexes and threads.
pub struct Process {
    base: KObjectBase,
    job: Arc<Job>,
    vmar: Arc<VmAddressRegion>,
    futexes: Arc<FutexTable>,
    inner: Mutex<ProcessInner>,
}

struct ProcessInner {
    status: ProcessStatus,
    /// Threads that have not exited; they keep the process alive, and it keeps them.
    threads: Vec<Arc<Thread>>,
}

impl Process {
    /// A process named `name` in `job`, with an empty address space on a new page table of
    /// the job's physical memory.
    pub fn create(job: &Arc<Job>, name: &str) -> Result<Arc<Self>, TaskError> {
        let page_table = job.physical_memory().clone().new_page_table()?;
        let process = Arc::new(Self {
            base: KObjectBase::new(),
            job: job.clone(),
            vmar: VmAddressRegion::new_root(page_table),
            futexes: FutexTable::new(),
            inner: Mutex::new(ProcessInner {
                status: ProcessStatus::Running,
                threads: Vec::new(),
            }),
        });
        process.set_name(name);
        job.add_process(&process)?;
        Ok(process)
    }

    /// The job the process is in.
    pub fn job(&self) -> &Arc<Job> {
        &self.job
    }

    /// The root region of the process's address space.
    pub fn vmar(&self) -> &Arc<VmAddressRegion> {
        &self.vmar
    }

    /// The futex queues of the address space.
    pub fn futexes(&self) -> &Arc<FutexTable> {
        &self.futexes
    }

    /// Running, or exited with its code.
    pub fn status(&self) -> ProcessStatus {
        self.inner.lock().status
    }

    pub(super) fn has_exited(&self) -> bool {
        self.status() != ProcessStatus::Running
    }

    /// The threads that have not exited.
    pub fn threads(&self) -> Vec<Arc<Thread>> {
        self.inner.lock().threads.clone()
    }

    /// Ends the process with return code `code`: its threads die, its address space is torn
    /// down, and it signals [`Signal::TASK_TERMINATED`]. Only the first exit counts.
    pub fn exit(&self, code: i64) {
        let threads = {
            let mut inner = self.inner.lock();
            if inner.status != ProcessStatus::Running {
                return;
            }
            inner.status = ProcessStatus::Exited(code);
            core::mem::take(&mut inner.threads)
        };
        for thread in threads {
            thread.die();
        }
        if let Err(error) = self.vmar.destroy() {
            log::warn!(
                "tearing down the address space of process {}: {error}",
                self.id()
            );
        }
        self.signal_set(Signal::TASK_TERMINATED);
    }

    /// Waits until the process has exited, and gives its status then: `Exited`, as the
    /// status changes before the signal is set.
    pub async fn wait_exit(&self) -> ProcessStatus {
        self.wait_signal(Signal::TASK_TERMINATED).await;
        self.status()
    }

    /// Waits on the futex at `addr` if the word there, read through the address space,
    /// holds `expected`; see [`FutexTable::wait`].
    pub fn futex_wait(
        &self,
        addr: VirtAddr,
        expected: u32,
        deadline: Option<Duration>,
    ) -> Result<FutexWait, FutexError> {
        let vmar = &self.vmar;
        self.futexes
            .wait(addr, expected, || load_word(vmar, addr), deadline)
    }

    /// Wakes up to `count` waiters on the futex at `addr`.
    pub fn futex_wake(&self, addr: VirtAddr, count: usize) -> usize {
        self.futexes.wake(addr, count)
    }

    /// Requeues futex waiters if the word at `addr` holds `expected`; see
    /// [`FutexTable::requeue`].
    pub fn futex_requeue(
        &self,
        addr: VirtAddr,
        expected: u32,
        wake_count: usize,
        new_addr: VirtAddr,
        requeue_count: usize,
    ) -> Result<(usize, usize), FutexError> {
        let vmar = &self.vmar;
        self.futexes.requeue(
            addr,
            expected,
            || load_word(vmar, addr),
            wake_count,
            new_addr,
            requeue_count,
        )
    }

    /// Records a new thread, unless the process has exited.
    pub(super) fn add_thread(&self, thread: &Arc<Thread>) -> Result<(), TaskError> {
        let mut inner = self.inner.lock();
        if inner.status != ProcessStatus::Running {
            return Err(TaskError::ProcessExited);
        }
        inner.threads.push(thread.clone());
        Ok(())
    }

    /// Forgets an exited thread; the last one to go ends the process with code 0.
    pub(super) fn remove_thread(&self, thread: &Thread) {
        let last_gone = {
            let mut inner = self.inner.lock();
            let before = inner.threads.len();
            inner
                .threads
                .retain(|known| !core::ptr::eq(Arc::as_ptr(known), thread));
            before > 0 && inner.threads.is_empty() && inner.status == ProcessStatus::Running
        };
        if last_gone {
            self.exit(0);
        }
    }
}

/// Reads the 32-bit futex word at `addr` of `vmar`.
fn load_word(vmar: &VmAddressRegion, addr: VirtAddr) -> Result<u32, FutexError> {
    let mut bytes = [0; 4];
    vmar.read_memory(addr, &mut bytes)?;
    Ok(u32::from_ne_bytes(bytes))
}

impl KernelObject for Process {
    fn base(&self) -> &KObjectBase {
        &self.base
    }

    fn type_name(&self) -> &'static str {
        "Process"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        tests::block_on,
        vm::{Placement, VmObject},
    };
    use kernel_async::spawn;
    use kernel_hal_lkm::{platform, MmuFlags, PAGE_SIZE};

    fn container() -> Arc<Job> {
        Job::root(platform().unwrap().new_physical_memory(32).unwrap())
    }

    #[test]
    fn exit_tears_down_the_address_space_and_signals() {
        let job = container();
        let process = Process::create(&job, "worker").unwrap();
        assert_eq!(process.name(), "worker");
        let vmo = VmObject::new_paged(job.physical_memory(), 1).unwrap();
        let addr = process
            .vmar()
            .map(
                Placement::Anywhere,
                &vmo,
                0,
                PAGE_SIZE,
                MmuFlags::READ | MmuFlags::WRITE,
            )
            .unwrap();
        platform().unwrap().copy_to_user(addr, b"alive").unwrap();

        let waiter = {
            let process = process.clone();
            spawn(async move { process.wait_exit().await })
        };
        process.exit(3);
        process.exit(4);
        assert_eq!(block_on(waiter), ProcessStatus::Exited(3));
        assert_eq!(process.status(), ProcessStatus::Exited(3));
        assert!(process.vmar().is_destroyed());
        let mut byte = [0];
        assert!(platform().unwrap().copy_from_user(addr, &mut byte).is_err());
        assert!(job.processes().is_empty());
    }

    #[test]
    fn a_futex_word_written_through_its_address_is_seen_by_wait_and_wake() {
        let job = container();
        let process = Process::create(&job, "futex").unwrap();
        let vmo = VmObject::new_paged(job.physical_memory(), 1).unwrap();
        let page = process
            .vmar()
            .map(
                Placement::Anywhere,
                &vmo,
                0,
                PAGE_SIZE,
                MmuFlags::READ | MmuFlags::WRITE,
            )
            .unwrap();
        let word = page + 64;
        let hal = platform().unwrap();
        hal.copy_to_user(word, &5u32.to_ne_bytes()).unwrap();
        assert_eq!(
            process.futex_wait(word, 4, None).map(|_| ()),
            Err(FutexError::ValueChanged)
        );
        let wait = process.futex_wait(word, 5, None).unwrap();

        let unlocker = {
            let process = process.clone();
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(20));
                // The user stores through the address, then the kernel wakes.
                platform()
                    .unwrap()
                    .copy_to_user(word, &6u32.to_ne_bytes())
                    .unwrap();
                assert_eq!(
                    process.futex_requeue(word, 5, 0, word + 4, 1),
                    Err(FutexError::ValueChanged)
                );
                process.futex_wake(word, 1)
            })
        };
        assert_eq!(block_on(wait), Ok(()));
        assert_eq!(unlocker.join().unwrap(), 1);
        // A word in no mapping cannot be waited on.
        assert_eq!(
            process.futex_wait(page + PAGE_SIZE, 0, None).map(|_| ()),
            Err(FutexError::Vm(crate::vm::VmError::NotMapped))
        );
    }
}
