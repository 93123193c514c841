fn main() {
    println!("ringcast {}", env!("CARGO_PKG_VERSION"));
}
