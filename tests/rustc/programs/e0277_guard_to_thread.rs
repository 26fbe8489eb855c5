// A MutexGuard captured by a spawned closure: a guard is not Send.
use std::sync::Mutex;
use std::thread;

fn main() {
    let m = Mutex::new(0);
    let guard = m.lock().unwrap();
    let handle = thread::spawn(move || {
        println!("{}", *guard);
    });
    handle.join().unwrap();
}
