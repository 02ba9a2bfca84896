//! Duplicate keys within one file.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::Hash;

use super::report::Report;

/// Reports every row whose key already appeared on an earlier line, naming
/// both lines. Returns the lines of the later duplicates.
pub(crate) fn report_duplicates<K: Hash + Eq>(
    keys: impl IntoIterator<Item = (u64, K)>,
    report: &mut Report,
    describe: impl Fn(&K) -> String,
) -> Vec<u64> {
    let mut first: HashMap<K, u64> = HashMap::new();
    let mut dups = Vec::new();
    for (line, key) in keys {
        match first.entry(key) {
            Entry::Occupied(e) => {
                report.error(
                    line,
                    None,
                    format!("même clé que la ligne {} ({})", e.get(), describe(e.key())),
                );
                dups.push(line);
            }
            Entry::Vacant(e) => {
                e.insert(line);
            }
        }
    }
    dups
}
