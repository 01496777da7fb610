//! Background tasks made when a configuration loads, which may be before there is a tokio
//! runtime to run them (a daemon built for a test, `edgepack package`), and spawned on their
//! first use, which is always inside a request.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Tasks waiting to be spawned.
pub struct Deferred {
    started: AtomicBool,
    tasks: Mutex<Vec<Task>>,
}

impl Deferred {
    pub fn new(tasks: Vec<Task>) -> Deferred {
        Deferred {
            started: AtomicBool::new(false),
            tasks: Mutex::new(tasks),
        }
    }

    /// Spawns the tasks on the running runtime, the first time; false when there is none.
    pub fn start(&self) -> bool {
        if self.started.load(Ordering::Acquire) {
            return true;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return false;
        };
        let mut tasks = self
            .tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for task in tasks.drain(..) {
            runtime.spawn(task);
        }
        self.started.store(true, Ordering::Release);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn tasks_wait_for_a_runtime_and_run_once() {
        let ran = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let r = ran.clone();
        let deferred = Deferred::new(vec![Box::pin(async move {
            r.fetch_add(1, Ordering::SeqCst);
        })]);
        assert!(!deferred.start(), "no runtime yet");
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            assert!(deferred.start());
            assert!(deferred.start());
            tokio::task::yield_now().await;
        });
        assert_eq!(ran.load(Ordering::SeqCst), 1);
    }
}
