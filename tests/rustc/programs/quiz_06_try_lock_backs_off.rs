use std::sync::{Arc, Mutex};
use std::thread;

fn main() {
    let fork = Arc::new(Mutex::new(0));
    let knife = Arc::new(Mutex::new(0));
    let held = fork.lock().unwrap();
    let (fork2, knife2) = (Arc::clone(&fork), Arc::clone(&knife));
    let diner = thread::spawn(move || {
        let _knife = knife2.lock().unwrap();
        match fork2.try_lock() {
            Ok(_) => "ate",
            Err(_) => "put the knife down",
        }
    });
    println!("diner 2: {}", diner.join().unwrap());
    drop(held);
    println!("fork free again: {}", fork.try_lock().is_ok());
}
