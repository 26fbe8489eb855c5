// into_inner takes `self`: it cannot move the Mutex out of an Arc.
use std::sync::{Arc, Mutex};

fn main() {
    let jar = Arc::new(Mutex::new(vec![1]));
    let inside = jar.into_inner().unwrap();
    println!("{:?}", inside);
}
