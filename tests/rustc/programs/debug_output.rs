// What `{:?}` prints for a mutex (free and locked), its guard, a RefCell, an Rc, an Arc, an atomic.
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

fn main() {
    let m = Mutex::new(6);
    {
        let guard = m.lock().unwrap();
        println!("while locked: {:?}", m);
        println!("the guard: {:?}", guard);
        if let Err(e) = m.try_lock() {
            println!("try_lock: {}", e);
        }
    }
    println!("after: {:?}", m);
    println!("a string: {:?}", Mutex::new(String::from("hi")));
    println!("a vector: {:?}", Mutex::new(vec![1, 2]));
    println!("a tuple: {:?}", Mutex::new((1, "a", true)));
    let cell = RefCell::new(5);
    {
        let _writing = cell.borrow_mut();
        println!("refcell while borrowed: {:?}", cell);
    }
    println!("refcell: {:?}", cell);
    println!("rc: {:?}", Rc::new(RefCell::new(vec![1])));
    println!("arc: {:?}", Arc::new(Mutex::new(1)));
    let hits = AtomicUsize::new(5);
    hits.fetch_add(1, Ordering::SeqCst);
    println!("atomic: {:?}", hits);
}
