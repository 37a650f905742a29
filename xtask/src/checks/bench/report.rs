//! What a benchmark run found, and where it is written: the table (stdout and README.md),
//! `docs/bench.json` with every sample, and `docs/bench.svg`.

use std::fmt::Write as _;
use std::fs;

use anyhow::{Result, bail};
use serde_json::json;
use support::mode::Mode;
use support::process::step;
use support::workspace::Workspace;

use super::fixtures::{STARTUP_RUNS, Variant};

/// The samples of one scenario, per variant (`reference` stays empty for a fixture without
/// one).
#[derive(Default)]
pub struct Samples {
    pub dev: Vec<f64>,
    pub dynamic: Vec<f64>,
    pub reference: Vec<f64>,
}

impl Samples {
    pub fn of(&mut self, variant: Variant) -> &mut Vec<f64> {
        match variant {
            Variant::Profile(Mode::Dev) => &mut self.dev,
            Variant::Profile(Mode::Dynamic) => &mut self.dynamic,
            Variant::Reference => &mut self.reference,
        }
    }
}

/// One measured scenario.
pub struct Measured {
    pub fixture: &'static str,
    pub scenario: &'static str,
    pub unit: &'static str,
    pub samples: Samples,
    /// The name of the fixture's reference, if it has one.
    pub reference: Option<&'static str>,
}

impl Measured {
    /// dynamic / dev, of the medians.
    pub fn ratio(&self) -> f64 {
        median(&self.samples.dynamic) / median(&self.samples.dev)
    }

    /// The reference's name and samples, if the fixture has one.
    fn reference_samples(&self) -> Option<(&'static str, &[f64])> {
        Some((self.reference?, &self.samples.reference))
    }

    /// dynamic / reference, of the medians.
    pub fn reference_ratio(&self) -> Option<f64> {
        let (_, samples) = self.reference_samples()?;
        Some(median(&self.samples.dynamic) / median(samples))
    }

    /// One line for the progress output: both medians and their ratio.
    pub fn summary_line(&self) -> String {
        let unit = self.unit;
        let against_reference = match (self.reference_samples(), self.reference_ratio()) {
            (Some((name, samples)), Some(ratio)) => format!(
                ", {name} {} {unit} (dynamic / it {ratio:.2})",
                fmt_value(median(samples))
            ),
            _ => String::new(),
        };
        format!(
            "{} {}: dev {} {unit}, dynamic {} {unit}, ratio {:.2}{against_reference}",
            self.fixture,
            self.scenario,
            fmt_value(median(&self.samples.dev)),
            fmt_value(median(&self.samples.dynamic)),
            self.ratio()
        )
    }
}

/// A whole run.
pub struct Report {
    pub results: Vec<Measured>,
    pub machine: String,
    pub toolchain: String,
    pub rounds: usize,
    pub minutes: f64,
}

impl Report {
    /// Prints the tables, with the machine and the toolchain; returns the tables.
    pub fn print(&self) -> String {
        let table = table(&self.results) + &reference_table(&self.results);
        println!("\n{table}");
        println!(
            "machine: {}\ntoolchain: {}\n{} rounds, {:.1} minutes",
            self.machine, self.toolchain, self.rounds, self.minutes
        );
        table
    }

    /// Prints the tables, and writes `docs/bench.json`, `docs/bench.svg` and README.md's table.
    pub fn publish(&self, ws: &Workspace) -> Result<()> {
        let (results, machine, toolchain, rounds, minutes) = (
            &self.results,
            &self.machine,
            &self.toolchain,
            self.rounds,
            self.minutes,
        );
        let table = self.print();

        let docs = ws.root().join("docs");
        fs::create_dir_all(&docs)?;
        let report = json!({
            "machine": machine,
            "toolchain": toolchain,
            "rounds": rounds,
            "minutes": minutes,
            "results": results.iter().map(|m| json!({
                "fixture": m.fixture,
                "scenario": m.scenario,
                "unit": m.unit,
                "dev": summary(&m.samples.dev),
                "dynamic": summary(&m.samples.dynamic),
                "ratio": m.ratio(),
                "reference": m.reference_samples().map(|(name, samples)| json!({
                    "name": name,
                    "samples": summary(samples),
                    "dynamic_over_reference": m.reference_ratio(),
                })),
            })).collect::<Vec<_>>(),
        });
        fs::write(
            docs.join("bench.json"),
            serde_json::to_string_pretty(&report)? + "\n",
        )?;
        fs::write(docs.join("bench.svg"), svg(results, machine, toolchain))?;
        update_readme(ws, &table, machine, toolchain, rounds)?;
        step(
            "Wrote",
            "docs/bench.json, docs/bench.svg and the table in README.md",
        );
        Ok(())
    }
}

pub fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

fn min_max(samples: &[f64]) -> (f64, f64) {
    let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
    let max = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (min, max)
}

fn summary(samples: &[f64]) -> serde_json::Value {
    let (min, max) = min_max(samples);
    json!({ "median": median(samples), "min": min, "max": max, "samples": samples })
}

fn fmt_value(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// "median unit (min–max)", or the one sample.
fn cell(samples: &[f64], unit: &str) -> String {
    let (min, max) = min_max(samples);
    if samples.len() == 1 {
        format!("{} {unit}", fmt_value(samples[0]))
    } else {
        format!(
            "{} {unit} ({}–{})",
            fmt_value(median(samples)),
            fmt_value(min),
            fmt_value(max)
        )
    }
}

/// The rows of fixtures with a reference, against it; empty when none has one.
fn reference_table(results: &[Measured]) -> String {
    let rows: Vec<_> = results.iter().filter(|m| m.reference.is_some()).collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "\nAgainst the framework's own dylib mode, measured in the same rounds:\n\n\
         | fixture | scenario | reference median (min–max) | dynamic median (min–max) | dynamic / reference |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    for m in rows {
        let (name, samples) = m.reference_samples().expect("filtered");
        writeln!(
            out,
            "| {} | {} | {name}: {} | {} | {:.2} |",
            m.fixture,
            m.scenario,
            cell(samples, m.unit),
            cell(&m.samples.dynamic, m.unit),
            m.reference_ratio().unwrap_or(f64::NAN)
        )
        .unwrap();
    }
    out
}

fn table(results: &[Measured]) -> String {
    let mut out = String::from(
        "| fixture | scenario | dev median (min–max) | dynamic median (min–max) | dynamic / dev |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    for m in results {
        writeln!(
            out,
            "| {} | {} | {} | {} | {:.2} |",
            m.fixture,
            m.scenario,
            cell(&m.samples.dev, m.unit),
            cell(&m.samples.dynamic, m.unit),
            m.ratio()
        )
        .unwrap();
    }
    out
}

/// Horizontal bars of the ratios, one per scenario, with the line of parity at 1.
fn svg(results: &[Measured], machine: &str, toolchain: &str) -> String {
    let (label_w, bar_w, row_h, top) = (330.0, 420.0, 26.0, 64.0);
    let max_ratio = results
        .iter()
        .map(Measured::ratio)
        .filter(|r| r.is_finite())
        .fold(1.5_f64, f64::max)
        .ceil();
    let x = |ratio: f64| label_w + bar_w * ratio / max_ratio;
    let height = top + row_h * results.len() as f64 + 40.0;
    let width = label_w + bar_w + 80.0;
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"20\" font-size=\"15\" font-weight=\"bold\">cargo --dynamic vs dev: \
         median time (or size) ratio, lower is better</text>\n\
         <text x=\"10\" y=\"38\" fill=\"#555\">{}</text>\n\
         <text x=\"10\" y=\"54\" fill=\"#555\">{}</text>\n",
        escape(machine),
        escape(toolchain)
    );
    for (i, m) in results.iter().enumerate() {
        let y = top + row_h * i as f64;
        let ratio = m.ratio();
        let color = if ratio <= 1.0 { "#2e7d32" } else { "#c62828" };
        writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}: {}</text>\n\
             <rect x=\"{label_w}\" y=\"{}\" width=\"{:.1}\" height=\"{}\" fill=\"{color}\"/>\n\
             <text x=\"{:.1}\" y=\"{}\">{ratio:.2}</text>",
            label_w - 8.0,
            y + 16.0,
            escape(m.fixture),
            escape(m.scenario),
            y + 4.0,
            (x(ratio) - label_w).max(1.0),
            row_h - 8.0,
            x(ratio) + 4.0,
            y + 16.0
        )
        .unwrap();
    }
    let bottom = top + row_h * results.len() as f64;
    writeln!(
        out,
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"black\" stroke-dasharray=\"4 3\"/>\n\
         <text x=\"{0}\" y=\"{3}\" text-anchor=\"middle\">1.0 = as fast as dev</text>\n</svg>",
        x(1.0),
        top - 4.0,
        bottom,
        bottom + 18.0
    )
    .unwrap();
    out
}

/// Replaces the benchmark block of README.md (between its `bench:begin` and `bench:end`
/// markers) with this run's table.
fn update_readme(
    ws: &Workspace,
    table: &str,
    machine: &str,
    toolchain: &str,
    rounds: usize,
) -> Result<()> {
    let path = ws.root().join("README.md");
    let text = fs::read_to_string(&path)?;
    let (begin, end) = ("<!-- bench:begin -->", "<!-- bench:end -->");
    let (Some(a), Some(b)) = (text.find(begin), text.find(end)) else {
        bail!("README.md has no `{begin}` ... `{end}` block for the benchmark table");
    };
    let block = format!(
        "{begin}\n![dynamic / dev per scenario](docs/bench.svg)\n\n{table}\n\
         Measured by `cargo xtask bench` ({rounds} alternated rounds per scenario, fewer \
         where one round takes minutes; start-up: {STARTUP_RUNS} runs per mode) on {machine}, with {toolchain}. Raw samples: `docs/bench.json`.\n"
    );
    fs::write(&path, format!("{}{block}{}", &text[..a], &text[b..]))?;
    Ok(())
}

pub fn machine_description() -> String {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|kb| kb.trim().trim_end_matches(" kB").parse::<f64>().ok())
        })
        .map_or("? GiB".into(), |kb| {
            format!("{:.0} GiB", kb / 1024.0 / 1024.0)
        });
    format!("{cores} cores of {cpu}, {memory}, {}", std::env::consts::OS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
