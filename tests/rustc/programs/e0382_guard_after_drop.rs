// A guard given up with drop(), then read: drop took the guard by value.
use std::sync::Mutex;

fn main() {
    let jar = Mutex::new(5);
    let guard = jar.lock().unwrap();
    drop(guard);
    println!("{}", *guard);
}
