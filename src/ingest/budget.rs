//! A byte budget for the conversations in flight in one pass.
//!
//! A conversation is held whole from the moment the splitter starts buffering
//! it until an extraction thread has read it: its JSON, its parsed form and
//! its reduced form each take about its size. Without a bound, the splitter
//! buffers the next large conversation while the threads still read earlier
//! ones, and two or three large ones multiply the peak. The splitter reserves
//! the bytes of the conversation it buffers as it grows; the reservation goes
//! with the conversation and is given back once it has been read. A reservation
//! that does not fit waits for the others to be given back, except when its
//! holder holds everything reserved: one conversation alone always proceeds.

use std::sync::{Arc, Condvar, Mutex, PoisonError};

/// Conversation bytes the pass may hold at once (see the module comment).
#[derive(Debug)]
pub struct Budget {
    capacity: u64,
    state: Mutex<State>,
    given_back: Condvar,
}

#[derive(Debug, Default)]
struct State {
    reserved: u64,
    /// Highest `reserved` seen, for tests and measurements.
    peak: u64,
    /// No more waiting: whoever gives bytes back is gone.
    open: bool,
}

impl Budget {
    pub fn new(capacity: u64) -> Arc<Budget> {
        Arc::new(Budget {
            capacity,
            state: Mutex::new(State::default()),
            given_back: Condvar::new(),
        })
    }

    /// The most bytes that were reserved at once.
    pub fn peak(&self) -> u64 {
        self.lock().peak
    }

    /// Stops every wait, now and later: called when the threads that give
    /// reservations back stop, so that the reader never waits for them.
    pub fn open(&self) {
        self.lock().open = true;
        self.given_back.notify_all();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds `extra` to a reservation of `held` bytes, waiting while it does
    /// not fit and others hold some of the budget.
    fn take(&self, held: u64, extra: u64) {
        let mut state = self.lock();
        while !state.open
            && state.reserved > held
            && state.reserved.saturating_add(extra) > self.capacity
        {
            state = self
                .given_back
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        state.reserved = state.reserved.saturating_add(extra);
        state.peak = state.peak.max(state.reserved);
    }

    fn give_back(&self, bytes: u64) {
        if bytes == 0 {
            return;
        }
        let mut state = self.lock();
        state.reserved = state.reserved.saturating_sub(bytes);
        drop(state);
        self.given_back.notify_all();
    }
}

/// Bytes held from a [`Budget`], given back when dropped. Without a budget
/// (a pass on one thread), it holds nothing.
#[derive(Debug, Default)]
pub struct Reservation {
    budget: Option<Arc<Budget>>,
    bytes: u64,
}

impl Reservation {
    pub(crate) fn new(budget: Option<Arc<Budget>>) -> Reservation {
        Reservation { budget, bytes: 0 }
    }

    /// Grows the reservation to at least `bytes`, waiting for room if needed.
    pub(crate) fn grow_to(&mut self, bytes: u64) {
        if bytes <= self.bytes {
            return;
        }
        if let Some(budget) = &self.budget {
            budget.take(self.bytes, bytes - self.bytes);
        }
        self.bytes = bytes;
    }

    /// A reservation of nothing on the same budget, leaving this one whole.
    pub(crate) fn split_off(&mut self) -> Reservation {
        let bytes = std::mem::take(&mut self.bytes);
        Reservation {
            budget: self.budget.clone(),
            bytes,
        }
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some(budget) = &self.budget {
            budget.give_back(self.bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn a_reservation_that_does_not_fit_waits_for_the_others() {
        let budget = Budget::new(100);
        let mut first = Reservation::new(Some(Arc::clone(&budget)));
        first.grow_to(70);
        let (grown, wait) = mpsc::channel();
        let waiting = Arc::clone(&budget);
        let second = std::thread::spawn(move || {
            let mut second = Reservation::new(Some(waiting));
            second.grow_to(20);
            second.grow_to(60);
            let _ = grown.send(());
            second
        });
        assert!(
            wait.recv_timeout(Duration::from_millis(200)).is_err(),
            "70 + 60 bytes do not fit in 100"
        );
        drop(first);
        wait.recv_timeout(Duration::from_secs(10))
            .expect("the second reservation proceeds once the first is given back");
        let second = second.join().unwrap();
        assert_eq!(second.bytes(), 60);
        assert_eq!(budget.peak(), 90);
    }

    #[test]
    fn one_reservation_alone_may_exceed_the_budget() {
        let budget = Budget::new(100);
        let mut alone = Reservation::new(Some(Arc::clone(&budget)));
        alone.grow_to(50);
        alone.grow_to(500);
        assert_eq!(budget.peak(), 500);
        let moved = alone.split_off();
        assert_eq!((alone.bytes(), moved.bytes()), (0, 500));
        drop(moved);
        alone.grow_to(100);
        assert_eq!(budget.lock().reserved, 100);
    }
}
