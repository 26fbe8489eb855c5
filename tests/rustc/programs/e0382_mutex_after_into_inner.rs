// A Mutex consumed by into_inner(), then locked: the method took the mutex by value.
use std::sync::Mutex;

fn main() {
    let jar = Mutex::new(5);
    let inside = jar.into_inner().unwrap();
    let again = jar.lock();
    println!("{inside} {again:?}");
}
