use std::sync::Mutex;

fn main() {
    let count = Mutex::new(0);
    *count += 1;
    println!("count = {count:?}");
}
