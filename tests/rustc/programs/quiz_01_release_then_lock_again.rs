use std::sync::Mutex;

fn main() {
    let mic = Mutex::new(Vec::new());
    let mut host = mic.lock().unwrap();
    host.push("host");
    drop(host);
    let mut guest = mic.lock().unwrap();
    guest.push("guest");
    println!("{:?}", *guest);
}
