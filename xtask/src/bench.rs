pub fn run(_: &[String]) -> Result<u8, String> { Err("bench: not written yet".into()) }
