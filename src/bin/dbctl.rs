//! The control plane's entry point; everything lives in the library.
fn main() {
    std::process::exit(dbctl::cli::main());
}
