// One HashMap moved into two different closures.
use std::collections::HashMap;
use std::thread;

fn main() {
    let mut scores = HashMap::new();
    scores.insert("alice", 1);
    let first = thread::spawn(move || scores.len());
    let second = thread::spawn(move || scores.len());
    println!("{} {}", first.join().unwrap(), second.join().unwrap());
}
