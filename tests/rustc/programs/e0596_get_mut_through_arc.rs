// get_mut needs `&mut self`: an Arc never gives that, whatever its count.
use std::sync::{Arc, Mutex};

fn main() {
    let counter = Arc::new(Mutex::new(0));
    *counter.get_mut().unwrap() += 1;
    println!("{:?}", counter);
}
