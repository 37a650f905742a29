//! The library half of the example.

use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Greeting {
    pub name: String,
    pub times: u32,
}

impl Greeting {
    /// The text of the greeting: the name, and how many times it was said.
    pub fn text(&self) -> String {
        let mut count = itoa::Buffer::new();
        format!("hello, {} (x{})", self.name, count.format(self.times))
    }
}

/// Reads a greeting from JSON.
///
/// ```
/// let g = greeting::parse(r#"{"name":"doc","times":2}"#).unwrap();
/// assert_eq!(g.text(), "hello, doc (x2)");
/// ```
pub fn parse(json: &str) -> serde_json::Result<Greeting> {
    serde_json::from_str(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json() {
        let g = Greeting { name: "unit".into(), times: 3 };
        assert_eq!(parse(&serde_json::to_string(&g).unwrap()).unwrap(), g);
    }
}
