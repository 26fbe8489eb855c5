// Arc<RefCell<_>>: the count is atomic, but the RefCell's borrows are not.
use std::cell::RefCell;
use std::sync::Arc;
use std::thread;

fn main() {
    let cell = Arc::new(RefCell::new(0));
    let writer = Arc::clone(&cell);
    let handle = thread::spawn(move || *writer.borrow_mut());
    handle.join().unwrap();
}
