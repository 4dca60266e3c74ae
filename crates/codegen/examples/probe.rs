//! scratch
use rainbond_codegen::*;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args[1] == "--write" {
        let spec = Spec::load(&args[2]).unwrap();
        let files = generate(&spec).unwrap();
        write_files(std::path::Path::new(&args[3]), &files).unwrap();
        return;
    }
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
        match generate(&spec) {
            Ok(_) => println!("{name}: progenitor={prog_ok} codegen=OK"),
            Err(e) => {
                println!("{name}: progenitor={prog_ok} codegen=ERR {}", e.to_string().lines().next().unwrap_or(""))
            }
        }
    }
}
