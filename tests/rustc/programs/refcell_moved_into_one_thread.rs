// A RefCell is Send: it may move into one other thread, as long as no one else keeps it.
use std::cell::RefCell;
use std::thread;

fn main() {
    let cell = RefCell::new(vec![1]);
    let handle = thread::spawn(move || {
        cell.borrow_mut().push(2);
        cell.into_inner()
    });
    println!("{:?}", handle.join().unwrap());
}
