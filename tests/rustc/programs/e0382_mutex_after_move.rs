// A Mutex moved into one thread, then locked by the main thread.
use std::sync::Mutex;
use std::thread;

fn main() {
    let counter = Mutex::new(0);
    let handle = thread::spawn(move || {
        *counter.lock().unwrap() += 1;
    });
    handle.join().unwrap();
    println!("{}", *counter.lock().unwrap());
}
