use std::cell::RefCell;

fn main() {
    let notes = RefCell::new(vec!["first"]);
    let reading = notes.borrow();
    println!("reading {} note(s)", reading.len());
    notes.borrow_mut().push("second");
    println!("{:?}", notes.borrow());
}
