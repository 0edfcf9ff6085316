//! Jobs: a container's root, and groups of processes under it.

use super::{Process, TaskError};
use crate::object::{KObjectBase, KernelObject, Signal};
use alloc::{sync::Arc, sync::Weak, vec::Vec};
use kernel_hal_lkm::sync::Mutex;
use kernel_hal_lkm::PhysicalMemory;

/// The return code of a process that was killed with its job.
pub const KILLED_RETURN_CODE: i64 = -1024;

/// A group of processes and child jobs, sharing one physical memory.
///
/// The root job of a container owns the container's physical memory; its descendants use
/// the same one, so the frames of a container never mix with another's.
pub struct Job {
    base: KObjectBase,
    parent: Option<Arc<Job>>,
    physical_memory: Arc<dyn PhysicalMemory>,
    inner: Mutex<JobInner>,
}

struct JobInner {
    children: Vec<Weak<Job>>,
    processes: Vec<Weak<Process>>,
    killed: bool,
}

impl Job {
    /// The root job of a container whose physical memory is `physical_memory`.
    pub fn root(physical_memory: Arc<dyn PhysicalMemory>) -> Arc<Self> {
        Self::with_parent(None, physical_memory)
    }

    fn with_parent(
        parent: Option<Arc<Job>>,
        physical_memory: Arc<dyn PhysicalMemory>,
    ) -> Arc<Self> {
        Arc::new(Self {
            base: KObjectBase::new(),
            parent,
            physical_memory,
            inner: Mutex::new(JobInner {
                children: Vec::new(),
                processes: Vec::new(),
                killed: false,
            }),
        })
    }

    /// A child job.
    pub fn create_child(self: &Arc<Self>) -> Result<Arc<Self>, TaskError> {
        let mut inner = self.inner.lock();
        if inner.killed {
            return Err(TaskError::JobKilled);
        }
        let child = Self::with_parent(Some(self.clone()), self.physical_memory.clone());
        inner.children.retain(|child| child.strong_count() > 0);
        inner.children.push(Arc::downgrade(&child));
        Ok(child)
    }

    /// The parent job; `None` for a container's root.
    pub fn parent(&self) -> Option<&Arc<Job>> {
        self.parent.as_ref()
    }

    /// The container's physical memory.
    pub fn physical_memory(&self) -> &Arc<dyn PhysicalMemory> {
        &self.physical_memory
    }

    /// The processes of the job that are alive and have not exited.
    pub fn processes(&self) -> Vec<Arc<Process>> {
        self.inner
            .lock()
            .processes
            .iter()
            .filter_map(Weak::upgrade)
            .filter(|process| !process.has_exited())
            .collect()
    }

    /// The child jobs that are alive.
    pub fn children(&self) -> Vec<Arc<Job>> {
        self.inner
            .lock()
            .children
            .iter()
            .filter_map(Weak::upgrade)
            .collect()
    }

    /// Whether the job was killed.
    pub fn is_killed(&self) -> bool {
        self.inner.lock().killed
    }

    /// Kills the job: its processes exit with [`KILLED_RETURN_CODE`], its child jobs are
    /// killed, and it takes no new process or child.
    pub fn kill(&self) {
        let (children, processes) = {
            let mut inner = self.inner.lock();
            if inner.killed {
                return;
            }
            inner.killed = true;
            (
                core::mem::take(&mut inner.children),
                core::mem::take(&mut inner.processes),
            )
        };
        // Killed outside the lock: an exiting process looks at its job.
        for child in children.iter().filter_map(Weak::upgrade) {
            child.kill();
        }
        for process in processes.iter().filter_map(Weak::upgrade) {
            process.exit(KILLED_RETURN_CODE);
        }
        self.signal_set(Signal::TASK_TERMINATED);
    }

    /// Records a new process of the job.
    pub(super) fn add_process(&self, process: &Arc<Process>) -> Result<(), TaskError> {
        let mut inner = self.inner.lock();
        if inner.killed {
            return Err(TaskError::JobKilled);
        }
        inner
            .processes
            .retain(|known| known.upgrade().is_some_and(|process| !process.has_exited()));
        inner.processes.push(Arc::downgrade(process));
        Ok(())
    }
}

impl KernelObject for Job {
    fn base(&self) -> &KObjectBase {
        &self.base
    }

    fn type_name(&self) -> &'static str {
        "Job"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::ProcessStatus;
    use kernel_hal_lkm::platform;

    fn container() -> Arc<Job> {
        Job::root(platform().unwrap().new_physical_memory(16).unwrap())
    }

    #[test]
    fn jobs_form_a_tree_over_one_physical_memory() {
        let root = container();
        let child = root.create_child().unwrap();
        assert!(root.parent().is_none());
        assert!(Arc::ptr_eq(child.parent().unwrap(), &root));
        assert!(Arc::ptr_eq(child.physical_memory(), root.physical_memory()));
        assert_eq!(root.children().len(), 1);
        drop(child);
        assert!(root.children().is_empty());
    }

    #[test]
    fn killing_a_job_ends_its_processes_and_children() {
        let root = container();
        let child = root.create_child().unwrap();
        let outer = Process::create(&root, "outer").unwrap();
        let inner = Process::create(&child, "inner").unwrap();
        assert_eq!(root.processes().len(), 1);
        root.kill();
        assert_eq!(outer.status(), ProcessStatus::Exited(KILLED_RETURN_CODE));
        assert_eq!(inner.status(), ProcessStatus::Exited(KILLED_RETURN_CODE));
        assert!(child.is_killed());
        assert!(root.signal().contains(Signal::TASK_TERMINATED));
        assert!(root.processes().is_empty());
        assert_eq!(
            Process::create(&root, "late").map(|_| ()),
            Err(TaskError::JobKilled)
        );
        assert_eq!(root.create_child().map(|_| ()), Err(TaskError::JobKilled));
    }
}
