// try_lock never waits: while a guard is alive it fails with WouldBlock.
use std::sync::Mutex;

fn main() {
    let m = Mutex::new(1);
    let guard = m.lock().unwrap();
    match m.try_lock() {
        Ok(_) => println!("got it"),
        Err(err) => println!("{}", err),
    }
    drop(guard);
    println!("{:?}", m.try_lock().map(|g| *g));
}
