use anyhow::Context;

fn main() -> anyhow::Result<()> {
    let json = std::env::args()
        .nth(1)
        .unwrap_or_else(|| r#"{"name":"dynamic world","times":1}"#.to_owned());
    let greeting = greeting::parse(&json).context("the argument is not a greeting in JSON")?;
    println!("{}", greeting.text());
    Ok(())
}
