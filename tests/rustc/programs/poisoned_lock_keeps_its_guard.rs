// A poisoned lock's error holds the guard: the lock stays taken until that guard is dropped.
use std::sync::{Arc, Mutex};
use std::thread;

fn main() {
    let shared = Arc::new(Mutex::new(0));
    let clone = Arc::clone(&shared);
    let crashed = thread::spawn(move || {
        let mut guard = clone.lock().unwrap();
        *guard += 1;
        panic!("the update failed halfway");
    })
    .join();
    println!("the thread panicked: {}", crashed.is_err());
    println!("{:?}", shared);
    match shared.lock() {
        Ok(_) => println!("not poisoned"),
        Err(err) => {
            println!("lock: {}", err);
            println!("{:?}", err);
            let other = Arc::clone(&shared);
            let busy = thread::spawn(move || other.try_lock().is_err()).join().unwrap();
            println!("another thread finds it locked: {}", busy);
            println!("{:?}", shared);
            let mut guard = err.into_inner();
            println!("the guard from into_inner: {:?}", guard);
            *guard += 10;
        }
    }
    shared.clear_poison();
    println!("{:?}", shared);
}
