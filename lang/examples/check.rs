use kiln_lang::*;
struct L;
impl SourceLoader for L {
    fn load_module(
        &mut self,
        path: &[String],
        dir: Option<&std::path::Path>,
    ) -> Result<SourceFile, String> {
        let p = dir.unwrap().join(path.join("/") + ".kiln");
        let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        Ok(SourceFile {
            name: p.display().to_string(),
            dir: p.parent().map(|d| d.to_path_buf()),
            text,
        })
    }
}
fn main() {
    let path = std::path::PathBuf::from(std::env::args().nth(1).unwrap());
    let text = std::fs::read_to_string(&path).unwrap();
    let mut sm = SourceMap::new();
    let f = SourceFile {
        name: path.display().to_string(),
        dir: path.parent().map(|d| d.to_path_buf()),
        text,
    };
    let (p, d) = check_program(f, &mut L, &mut sm);
    print!("{}", diag::render_all(&d.list, &sm, false));
    println!("{} kernels", p.kernels.len());
    if std::env::args().nth(2).is_some() {
        println!("{:#?}", p.kernels.last());
    }
}
