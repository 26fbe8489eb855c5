use std::rc::Rc;
use std::thread;

fn main() {
    let a = Rc::new(5);
    let b = Rc::clone(&a);
    let handle = thread::spawn(move || *b + 1);
    println!("{}", handle.join().unwrap());
}
