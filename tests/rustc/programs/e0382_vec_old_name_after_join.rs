// A thread hands a Vec back through join under a new name; the old name stays moved.
use std::thread;

fn main() {
    let log = vec![1];
    let handle = thread::spawn(move || {
        let mut log = log;
        log.push(2);
        log
    });
    let back = handle.join().unwrap();
    println!("{back:?}");
    println!("{}", log.len());
}
