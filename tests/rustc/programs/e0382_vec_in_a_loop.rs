// A Vec moved into a thread's closure inside a loop: the second turn has nothing left to move.
use std::thread;

fn main() {
    let log = vec![1, 2, 3];
    let mut handles = Vec::new();
    for i in 0..2 {
        let handle = thread::spawn(move || {
            println!("thread {i} sees {:?}", log);
        });
        handles.push(handle);
    }
    for handle in handles {
        handle.join().unwrap();
    }
}
