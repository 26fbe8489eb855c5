// Rc<RefCell<_>>, the single-threaded pair, sent to a thread.
use std::cell::RefCell;
use std::rc::Rc;
use std::thread;

fn main() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let writer = Rc::clone(&log);
    let handle = thread::spawn(move || writer.borrow_mut().push(1));
    handle.join().unwrap();
}
