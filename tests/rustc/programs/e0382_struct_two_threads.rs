// A struct of our own moved into two threads.
use std::thread;

#[derive(Clone, Debug)]
struct Config {
    retries: u32,
}

fn main() {
    let config = Config { retries: 3 };
    let first = thread::spawn(move || format!("{:?}", config));
    let second = thread::spawn(move || format!("{:?}", config));
    println!("{} {}", first.join().unwrap(), second.join().unwrap());
}
