// A load cannot have Release ordering: rustc refuses it.
use std::sync::atomic::{AtomicUsize, Ordering};

fn main() {
    let hits = AtomicUsize::new(0);
    println!("{}", hits.load(Ordering::Release));
}
