// Arc::get_mut, try_unwrap and into_inner: the value to oneself, only while the count is 1.
use std::sync::Arc;

fn main() {
    let mut first = Arc::new(vec![1]);
    Arc::get_mut(&mut first).unwrap().push(2);
    let second = Arc::clone(&first);
    println!("{:?}", Arc::get_mut(&mut first));
    let first = match Arc::try_unwrap(first) {
        Ok(value) => panic!("unexpected {value:?}"),
        Err(arc) => arc,
    };
    println!("{}", Arc::strong_count(&first));
    println!("{:?}", Arc::into_inner(second));
    println!("{:?}", Arc::try_unwrap(first));
}
