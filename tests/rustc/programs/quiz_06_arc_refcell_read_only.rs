use std::cell::RefCell;
use std::sync::Arc;
use std::thread;

fn main() {
    let tally = Arc::new(RefCell::new(0));
    let tally2 = Arc::clone(&tally);
    let handle = thread::spawn(move || *tally2.borrow());
    println!("{}", handle.join().unwrap());
}
