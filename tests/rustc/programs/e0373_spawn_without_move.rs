// Without `move`, the closure borrows `v`, and the thread may outlive it.
use std::thread;

fn main() {
    let v = vec![1, 2, 3];
    let handle = thread::spawn(|| println!("{v:?}"));
    handle.join().unwrap();
}
