//! "Did you mean": the existing names closest to a misspelt one, by edit distance
//! (insertions, deletions, substitutions and swaps of neighbours each cost one), plus names
//! that contain the given one.

/// Up to `max` candidates closest to `name`, best first; only reasonably close ones.
pub fn closest<'a, I>(name: &str, candidates: I, max: usize) -> Vec<String>
where
    I: IntoIterator<Item = &'a str>,
{
    let want = name.to_ascii_lowercase();
    // Allow about one edit per three characters, at least two.
    let limit = (want.len() / 3).max(2);
    let mut scored: Vec<(usize, &str)> = Vec::new();
    for cand in candidates {
        let c = cand.to_ascii_lowercase();
        if c == want {
            continue;
        }
        let d = distance(&want, &c);
        let score = if d <= limit {
            d
        } else if want.len() >= 3 && c.contains(&want) {
            // "switch" for "sched_switch": a part of the name, ranked after close spellings.
            limit + 1 + (c.len() - want.len())
        } else {
            continue;
        };
        scored.push((score, cand));
    }
    scored.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored
        .into_iter()
        .take(max)
        .map(|(_, s)| s.to_string())
        .collect()
}

/// Optimal string alignment distance.
fn distance(a: &str, b: &str) -> usize {
    let a = a.as_bytes();
    let b = b.as_bytes();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspellings_find_the_name() {
        let names = [
            "sched_switch",
            "sched_wakeup",
            "sched_waking",
            "irq_handler_entry",
        ];
        assert_eq!(closest("sched_swich", names, 3), ["sched_switch"]);
        assert_eq!(closest("shced_switch", names, 3), ["sched_switch"]);
        assert_eq!(closest("sched_wakup", names, 1), ["sched_wakeup"]);
        assert!(closest("xyzzy", names, 3).is_empty());
    }

    #[test]
    fn parts_of_names_are_suggested_after_spellings() {
        let names = ["sched_switch", "switch_mm", "nop"];
        assert_eq!(closest("switch", names, 3), ["switch_mm", "sched_switch"]);
    }

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("abc", "acb"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
