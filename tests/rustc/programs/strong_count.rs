// Arc::strong_count before the clones, with one clone per waiting thread, and after they end.
use std::sync::{Arc, Mutex};
use std::thread;

fn main() {
    let counter = Arc::new(Mutex::new(0));
    println!("before: {}", Arc::strong_count(&counter));
    let mut handles = vec![];
    {
        let _held = counter.lock().unwrap();
        for _ in 0..3 {
            let counter_clone = Arc::clone(&counter);
            handles.push(thread::spawn(move || {
                *counter_clone.lock().unwrap() += 1;
            }));
        }
        println!("during: {}", Arc::strong_count(&counter));
    }
    for handle in handles {
        handle.join().unwrap();
    }
    println!("after: {}", Arc::strong_count(&counter));
    println!("Result: {}", *counter.lock().unwrap());
}
