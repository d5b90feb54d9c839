//! `--report FILE.html` of `simulate`, `analyze` and `diff`: the HTML comes from the
//! library (`regain::report`, feature `report`); this writes it.

use std::path::Path;

use regain::analyze::{diff::Diff, Analysis};
use regain::simulate::Report;
use regain::{Engine, Policy};

use super::EXIT_BAD_INPUT;

fn write(out: &Path, html: Result<String, String>) -> Result<(), i32> {
    let html = html.map_err(|e| {
        eprintln!("error: {e}");
        EXIT_BAD_INPUT
    })?;
    std::fs::write(out, html).map_err(|e| {
        eprintln!("error: cannot write `{}`: {e}", out.display());
        EXIT_BAD_INPUT
    })
}

#[cfg(feature = "report")]
fn revision(source: &str) -> String {
    regain::simulate::model::sha256_hex(source.as_bytes())
}

/// Write the simulation report of `report` to `out`.
pub fn simulation(
    out: &Path,
    report: &Report,
    engine: &Engine,
    policy: &Path,
    model: &Path,
) -> Result<(), i32> {
    #[cfg(feature = "report")]
    let html = regain::report::simulation(
        report,
        &regain::report::SimulationRun {
            policy_file: policy.display().to_string(),
            model_file: model.display().to_string(),
            revision: revision(engine.policy().source()),
        },
    )
    .map_err(|e| e.to_string());
    #[cfg(not(feature = "report"))]
    let html = {
        let _ = (report, engine, policy, model);
        Err("this regain was built without the `report` feature".to_string())
    };
    write(out, html)
}

/// Write the analysis report of `analysis` to `out`.
pub fn analysis(out: &Path, analysis: &Analysis, policy: &Policy, file: &Path) -> Result<(), i32> {
    #[cfg(feature = "report")]
    let html = regain::report::analysis(analysis, policy, &file.display().to_string())
        .map_err(|e| e.to_string());
    #[cfg(not(feature = "report"))]
    let html = {
        let _ = (analysis, policy, file);
        Err("this regain was built without the `report` feature".to_string())
    };
    write(out, html)
}

/// Write the diff report of `d` to `out`.
pub fn diff(out: &Path, d: &Diff, old: &Path, new: &Path) -> Result<(), i32> {
    #[cfg(feature = "report")]
    let html = regain::report::diff(
        d,
        &regain::report::DiffRun {
            old_file: old.display().to_string(),
            new_file: new.display().to_string(),
        },
    )
    .map_err(|e| e.to_string());
    #[cfg(not(feature = "report"))]
    let html = {
        let _ = (d, old, new);
        Err("this regain was built without the `report` feature".to_string())
    };
    write(out, html)
}
