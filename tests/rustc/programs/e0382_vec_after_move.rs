// A Vec moved into one thread, then used again by the main thread.
use std::thread;

fn main() {
    let mut log = vec![1, 2, 3];
    let handle = thread::spawn(move || {
        println!("{:?}", log);
    });
    log.push(4);
    handle.join().unwrap();
}
