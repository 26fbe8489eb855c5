// get_mut and into_inner report the poisoning too, and still give the data.
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;

fn main() {
    let mut m = Mutex::new(1);
    let crashed = catch_unwind(AssertUnwindSafe(|| {
        let _guard = m.lock().unwrap();
        panic!("boom");
    }));
    println!("the update panicked: {}", crashed.is_err());
    match m.get_mut() {
        Ok(_) => println!("not poisoned"),
        Err(err) => {
            println!("get_mut: {}", err);
            *err.into_inner() += 1;
        }
    }
    println!("{:?}", m);
    match m.into_inner() {
        Ok(_) => println!("not poisoned"),
        Err(err) => {
            println!("into_inner: {}", err);
            println!("{}", err.into_inner());
        }
    }
}
