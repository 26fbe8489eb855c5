// AtomicUsize: each operation returns the value before it; usize wraps around.
use std::sync::atomic::{AtomicUsize, Ordering};

fn main() {
    let hits = AtomicUsize::new(5);
    println!("{}", hits.fetch_add(3, Ordering::SeqCst));
    println!("{}", hits.fetch_sub(2, Ordering::Relaxed));
    println!("{}", hits.swap(1, Ordering::AcqRel));
    println!("{}", hits.load(Ordering::Acquire));
    hits.store(0, Ordering::Release);
    println!("{}", hits.fetch_sub(1, Ordering::SeqCst));
    println!("{:?}", hits);
}
