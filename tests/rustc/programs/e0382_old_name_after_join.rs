// A thread hands a RefCell back through join under a new name; the old name stays moved.
use std::cell::RefCell;
use std::thread;

fn main() {
    let log = RefCell::new(vec![1]);
    let handle = thread::spawn(move || {
        log.borrow_mut().push(2);
        log
    });
    let back = handle.join().unwrap();
    println!("{:?}", back.borrow());
    println!("{:?}", log.borrow());
}
