//! authwire-dev.
fn main() {}
