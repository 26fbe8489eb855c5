// compare_exchange returns Ok(previous) when it stored, Err(current) when it did not.
use std::sync::atomic::{AtomicUsize, Ordering};

fn main() {
    let flag = AtomicUsize::new(5);
    println!("{:?}", flag.compare_exchange(5, 6, Ordering::SeqCst, Ordering::SeqCst));
    println!("{:?}", flag.compare_exchange(5, 7, Ordering::AcqRel, Ordering::Acquire));
    let mut seen = flag.load(Ordering::Relaxed);
    loop {
        match flag.compare_exchange_weak(seen, seen * 2, Ordering::SeqCst, Ordering::Relaxed) {
            Ok(previous) => {
                println!("{previous}");
                break;
            }
            Err(current) => seen = current,
        }
    }
    println!("{}", flag.swap(1, Ordering::SeqCst));
    println!("{}", flag.fetch_sub(1, Ordering::SeqCst));
    println!("{:?}", flag);
}
