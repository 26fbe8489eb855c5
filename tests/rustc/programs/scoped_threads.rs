// thread::scope: the threads end with the scope, so they may borrow without Arc.
use std::sync::Mutex;
use std::thread;

fn main() {
    let counter = Mutex::new(0);
    let names = vec!["a", "b", "c"];
    thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| *counter.lock().unwrap() += 1);
        }
        s.spawn(|| println!("{}", names.len()));
    });
    println!("{}", counter.into_inner().unwrap());
    println!("{}", names.join(" "));
}
