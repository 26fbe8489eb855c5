// A RefCell moved into a thread, then printed by the main thread.
use std::cell::RefCell;
use std::thread;

fn main() {
    let log = RefCell::new(vec![1]);
    let handle = thread::spawn(move || {
        log.borrow_mut().push(2);
    });
    handle.join().unwrap();
    println!("{log:?}");
}
