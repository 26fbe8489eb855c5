// A thread hands the value it was given back through join; the main thread owns it again.
use std::thread;

fn main() {
    let log = vec![1, 2, 3];
    let handle = thread::spawn(move || {
        let mut log = log;
        log.push(4);
        log
    });
    let log = handle.join().unwrap();
    let again = thread::spawn(move || log.len());
    println!("{}", again.join().unwrap());
}
