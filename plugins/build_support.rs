// Shared by the build scripts that compile plugins to WebAssembly (`host/build.rs`,
// `tests/build.rs`); included with `include!`, so it holds plain functions only.

/// Builds `packages` of this workspace for `wasm32-wasip2` with the `plugin` profile, each
/// with the given extra cargo features, and returns the directory holding the `.wasm` files.
///
/// The nested cargo gets its own target directory next to the outer one, so it neither
/// blocks on the outer build's lock nor rebuilds from scratch each time.
fn build_wasm(packages: &[&str], features: &[&str]) -> std::path::PathBuf {
    let manifest_dir = std::path::PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let workspace = manifest_dir.parent().unwrap().to_path_buf();
    let out_dir = std::path::PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out.
    let target_root = out_dir.ancestors().nth(4).unwrap_or(&out_dir).to_path_buf();
    let target_dir = target_root.join("wasm-plugins");
    // The WebAssembly build's flags (`[target.wasm32-wasip2]`) live there.
    println!(
        "cargo:rerun-if-changed={}",
        workspace.join(".cargo/config.toml").display()
    );

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = std::process::Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    if !std::path::Path::new(&sysroot).join("lib/rustlib/wasm32-wasip2").exists() {
        panic!(
            "the wasm32-wasip2 Rust target is missing: run `rustup target add wasm32-wasip2` \
             (or `make setup`) to build Caravan's plugins"
        );
    }

    let mut cmd = std::process::Command::new(cargo);
    cmd.current_dir(&workspace)
        .args(["build", "--target", "wasm32-wasip2", "--profile", "plugin", "--target-dir"])
        .arg(&target_dir);
    for package in packages {
        cmd.args(["-p", package]);
    }
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    // Flags meant for the host build must not leak into the WebAssembly one.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_PRIMARY_PACKAGE",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().expect("running cargo for the plugins");
    assert!(status.success(), "building plugins {packages:?} for wasm32-wasip2 failed");
    target_dir.join("wasm32-wasip2").join("plugin")
}
