use std::thread;

fn main() {
    let mut count = 0;
    let a = thread::spawn(move || {
        count += 1;
        count
    });
    let b = thread::spawn(move || {
        count += 1;
        count
    });
    println!("{} {} {}", a.join().unwrap(), b.join().unwrap(), count);
}
