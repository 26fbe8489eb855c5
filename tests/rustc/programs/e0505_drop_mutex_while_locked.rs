// A guard borrows its mutex: the mutex cannot be dropped while the guard lives.
use std::sync::Mutex;

fn main() {
    let jar = Mutex::new(5);
    let guard = jar.lock().unwrap();
    drop(jar);
    println!("{}", *guard);
}
