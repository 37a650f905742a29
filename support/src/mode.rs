//! The two profiles every comparison of ours runs side by side.

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Mode {
    Dev,
    Dynamic,
}

impl Mode {
    pub const BOTH: [Mode; 2] = [Mode::Dev, Mode::Dynamic];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Dev => "dev",
            Mode::Dynamic => "dynamic",
        }
    }

    /// The profile's folder in the target directory.
    pub fn dir(self) -> &'static str {
        match self {
            Mode::Dev => "debug",
            Mode::Dynamic => "dynamic",
        }
    }

    /// The arguments that select it on Cargo's command line.
    pub fn flags(self) -> &'static [&'static str] {
        match self {
            Mode::Dev => &[],
            Mode::Dynamic => &["--dynamic"],
        }
    }
}
