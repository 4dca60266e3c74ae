use rainbond_codegen::*;
fn main() {
    for path in std::env::args().skip(1) {
        let name = std::path::Path::new(&path).file_name().unwrap().to_string_lossy().into_owned();
        let spec = match Spec::load(&path) {
            Ok(s) => s,
            Err(e) => {
                println!("{name}: SPEC {e}");
                continue;
            }
        };
        let prog = progenitor_limits::catch_panic(|| client::generate_tokens(&spec));
        let prog_ok = matches!(prog, Ok(Ok(_)));
        let full = generate(&spec);
        match full {
            Ok(_) => println!("{name}: progenitor={prog_ok} codegen=OK"),
            Err(e) => {
                println!("{name}: progenitor={prog_ok} codegen=ERR {}", e.to_string().lines().next().unwrap_or(""))
            }
        }
    }
}
