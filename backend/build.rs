//! The built frontend (`dist/`, its `.br` and `.gz` copies included) goes into the binary, so a
//! release is one file to deploy (web.rs). Built before `make dist` ran (or without the `embed`
//! feature), nothing is embedded and the console reads `dist/` at start.

use std::path::Path;

fn main() {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    let mut table = String::from("pub static FILES: &[(&str, &[u8])] = &[\n");
    let embed = std::env::var_os("CARGO_FEATURE_EMBED").is_some();
    if embed && dist.join("index.html").is_file() {
        let mut files: Vec<_> = std::fs::read_dir(&dist)
            .expect("dist/ is readable")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for path in files {
            let name = path.file_name().expect("a file name").to_string_lossy();
            let full = path.canonicalize().expect("a path to the file");
            table.push_str(&format!(
                "    ({name:?}, include_bytes!({:?})),\n",
                full.display().to_string()
            ));
        }
    } else if embed {
        println!(
            "cargo:warning=no dist/index.html: the page is not embedded; `make dist` builds it"
        );
    }
    table.push_str("];\n");
    // Written only when it changes: a new file would rebuild the crate on every build.
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("embedded.rs");
    if std::fs::read_to_string(&out).ok().as_deref() != Some(table.as_str()) {
        std::fs::write(&out, table).expect("write the embedded table");
    }
}
