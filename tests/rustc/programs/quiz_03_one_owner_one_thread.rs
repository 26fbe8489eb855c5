use std::sync::Mutex;
use std::thread;

fn main() {
    let counter = Mutex::new(0);
    let handle = thread::spawn(move || {
        for _ in 0..10 {
            *counter.lock().unwrap() += 1;
        }
        counter.into_inner().unwrap()
    });
    println!("Result: {}", handle.join().unwrap());
}
