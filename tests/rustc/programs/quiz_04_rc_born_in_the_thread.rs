use std::rc::Rc;
use std::thread;

fn main() {
    let handle = thread::spawn(|| {
        let a = Rc::new(5);
        let b = Rc::clone(&a);
        Rc::strong_count(&b)
    });
    println!("owners: {}", handle.join().unwrap());
}
