//! Benchmarks of DIP grouping and directory building.
fn main() {}
