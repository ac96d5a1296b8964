fn main() {
    // Sets the linker flags a Node addon needs. Harmless for `cargo test`,
    // which builds the core without the `node` feature.
    napi_build::setup();
}
