// Copy values (integers, string slices, tuples of them) are copied into each closure, not moved.
use std::thread;

fn main() {
    let step = 2;
    let name = "worker";
    let pair = (1, 2);
    let mut handles = Vec::new();
    for i in 0..3 {
        handles.push(thread::spawn(move || format!("{name} {} {:?}", i * step, pair)));
    }
    for handle in handles {
        println!("{}", handle.join().unwrap());
    }
    println!("{step} {name} {:?}", pair);
}
