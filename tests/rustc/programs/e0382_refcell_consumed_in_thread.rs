// A RefCell moved into a thread that consumes it with into_inner(); the main thread borrows it after.
use std::cell::RefCell;
use std::thread;

fn main() {
    let log = RefCell::new(vec![1]);
    let handle = thread::spawn(move || {
        log.borrow_mut().push(2);
        log.into_inner()
    });
    println!("{:?}", handle.join().unwrap());
    println!("{:?}", log.borrow());
}
