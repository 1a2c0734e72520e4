//! The shipped demo directory loads from its embedded copy and from its folder.

use grouping_dip::{Directory, demo_dir, load_demo};

#[test]
fn demo_loads_embedded_and_from_disk_identically() {
    let embedded = load_demo().expect("demo directory is valid");
    let on_disk = Directory::load(&demo_dir()).expect("demo folder is valid");
    assert_eq!(embedded, on_disk);
    let counts = embedded.counts();
    assert!(counts.core_groups + counts.basic_groups >= 200);
    assert!(counts.basic_groups > 0);
    assert!(counts.comprehensive_groups >= 100);
}
