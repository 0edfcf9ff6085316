pub fn run(_: &[String]) -> Result<u8, String> { Err("todo".into()) }
