// A thread hands a RefCell back through join; a new `let` gives it its old name again.
use std::cell::RefCell;
use std::thread;

fn main() {
    let log = RefCell::new(vec![1]);
    let handle = thread::spawn(move || {
        log.borrow_mut().push(2);
        log
    });
    let back = handle.join().unwrap();
    let log = back;
    log.borrow_mut().push(3);
    println!("{:?}", log.borrow());
}
