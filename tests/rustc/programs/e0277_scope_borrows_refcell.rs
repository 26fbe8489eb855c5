// A scoped thread may borrow, but only what is Sync: a RefCell is not.
use std::cell::RefCell;
use std::thread;

fn main() {
    let cell = RefCell::new(0);
    thread::scope(|s| {
        s.spawn(|| *cell.borrow_mut());
    });
    println!("{}", cell.into_inner());
}
