use std::sync::atomic::{AtomicUsize, Ordering};

fn main() {
    let hits = AtomicUsize::new(0);
    hits.fetch_add(1);
    println!("hits: {}", hits.load(Ordering::SeqCst));
}
