// The sole owner of a Mutex reaches its data without locking.
use std::sync::Mutex;

fn main() {
    let mut m = Mutex::new(0);
    *m.get_mut().unwrap() += 1;
    println!("{:?}", m);
    println!("{}", m.into_inner().unwrap());
}
