use std::sync::{Arc, Mutex};
use std::thread;

fn main() {
    let m = Arc::new(Mutex::new(0));
    let m2 = Arc::clone(&m);
    let _ = thread::spawn(move || {
        let mut num = m2.lock().unwrap();
        *num += 1;
        panic!("gave up halfway");
    })
    .join();
    println!("poisoned: {}", m.is_poisoned());
    let recovered = m.lock().unwrap_or_else(|err| err.into_inner());
    println!("data: {}", *recovered);
}
