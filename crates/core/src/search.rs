//! Commune search: finds communes (and former communes, and municipal
//! arrondissements) by name, by postal code or by INSEE code, while the
//! person is still typing and despite typos.
//!
//! # Matching
//!
//! Names and queries are folded ([`crate::text::fold`]) and cut into words
//! ([`crate::text::tokens`]). A name matches when every word of the query
//! starts some word of the name (each query word its own name word, in any
//! order), so leading articles are optional: `havre` finds Le Havre. When
//! that gives fewer results than asked for, typos are forgiven: a query word
//! of 4 characters or more may be one edit away from the start of a name
//! word, one of 8 or more two edits (optimal string alignment distance: a
//! swap of two neighbouring letters is one edit).
//!
//! A query of 5 digits (or `2A`/`2B` and 3 digits) is a postal code or an
//! INSEE code; 2 to 4 of them are the start of one.
//!
//! # Ranking
//!
//! [`MatchKind::Exact`] (the whole name, or a whole code), then
//! [`MatchKind::Prefix`], then [`MatchKind::Fuzzy`]; within a kind, larger
//! population first, entries without a population last, then by name and
//! code. The former communes sharing the code of a current commune come
//! right after it.
//!
//! # Design
//!
//! Entries get internal ids in ranking order, so "smaller id" means "better"
//! and any list of ids sorted ascending is ranked. The distinct words of all
//! names form a sorted vocabulary: the words starting with a query word are
//! a contiguous range of it, and, as the posting lists (ids of the entries
//! using each word) are laid out in vocabulary order, the entries of a range
//! are one contiguous slice. Typos are looked for by walking a trie of the
//! vocabulary (children side by side) while keeping, as bitsets, which
//! starts of the query word are within 0, 1 or 2 edits of the branch
//! (bit-parallel edit distance): a branch is left as soon as none is within
//! the budget, and taken whole, as a range of the vocabulary, as soon as
//! the whole query word is.

use std::collections::HashMap;

use crate::codes::InseeCode;
use crate::territory::{Commune, CommuneKind};
use crate::text;

/// Longer queries are cut: no name is that long.
const MAX_QUERY_CHARS: usize = 100;
/// Name words that a query word can be matched with (bits of a `u32`).
const MAX_MATCHED_WORDS: usize = 32;
/// Longer query words are not checked for typos.
const MAX_FUZZY_LEN: usize = 24;
/// The most edits forgiven in one word ([`Typo::step`] is written for 2).
const MAX_EDITS: usize = 2;
const _: () = assert!(MAX_EDITS == 2);
/// When a query word matches no more entries than this, the typos of the
/// other query words are looked for among these entries' words only.
const FEW_ENTRIES: usize = 300;
const NO_PARENT: u32 = u32::MAX;

/// How a result matched, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchKind {
    /// The whole name (folded), or a whole INSEE or postal code.
    Exact,
    /// Every query word starts a word of the name; or the start of a code.
    Prefix,
    /// As `Prefix`, but with typos.
    Fuzzy,
}

/// One search result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Index into the communes slice given to [`SearchIndex::build`].
    pub index: u32,
    pub kind: MatchKind,
}

/// Which way to gather the entries matching a set of query words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gather {
    /// Whichever should be faster.
    Auto,
    /// Walk all entries in ranking order, stop once enough are found.
    Scan,
    /// Gather the posting lists of the rarest query word.
    Postings,
}

/// The search index over a list of communes. Immutable once built; cheap to
/// share between threads.
#[derive(Debug, Clone, Default)]
pub struct SearchIndex {
    /// Internal id (ranking order) → index in the communes slice.
    order: Vec<u32>,
    /// Internal id → internal id of the current commune whose code it
    /// shares (the chef-lieu delegated commune of a commune nouvelle).
    same_code_parent: Vec<u32>,
    /// Distinct folded words, sorted: word `w` is
    /// `vocab_text[vocab_off[w]..vocab_off[w + 1]]`.
    vocab_text: String,
    vocab_off: Vec<u32>,
    /// Entries using word `w`, ascending: `postings[post_off[w]..post_off[w + 1]]`.
    post_off: Vec<u32>,
    postings: Vec<u32>,
    /// Words of entry `id`, in name order: `name_words[name_off[id]..name_off[id + 1]]`.
    name_off: Vec<u32>,
    name_words: Vec<u32>,
    /// A trie of the vocabulary, breadth first so that the children of a
    /// node are side by side; node 0 is the root (the empty prefix).
    trie: Trie,
    /// (INSEE code, id), sorted.
    insee: Vec<([u8; 5], u32)>,
    /// (postal code, id), sorted.
    postal: Vec<([u8; 5], u32)>,
    /// The most words in one name.
    max_name_words: usize,
}

/// What one query word matches: one or two ranges of the vocabulary, and
/// when typos are forgiven more ranges.
#[derive(Debug, Clone)]
struct Matcher {
    ranges: Vec<(u32, u32)>,
    fuzzy_ranges: Vec<(u32, u32)>,
    /// The words of `fuzzy_ranges`, as a bitset over the vocabulary.
    fuzzy: Option<Vec<u64>>,
}

impl Matcher {
    #[inline]
    fn matches(&self, word: u32) -> bool {
        self.ranges.iter().any(|&(lo, hi)| lo <= word && word < hi)
            || self
                .fuzzy
                .as_ref()
                .is_some_and(|bits| bits[(word / 64) as usize] & (1 << (word % 64)) != 0)
    }

    fn is_empty(&self) -> bool {
        self.ranges.iter().all(|&(lo, hi)| lo >= hi) && self.fuzzy_ranges.is_empty()
    }

    fn all_ranges(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.ranges.iter().chain(&self.fuzzy_ranges).copied()
    }

    /// Adds the words of `ranges` (typos) to what the matcher matches.
    fn set_fuzzy(&mut self, ranges: Vec<(u32, u32)>, vocab_len: usize) {
        if !ranges.is_empty() {
            let mut bits = vec![0u64; vocab_len.div_ceil(64)];
            for &(lo, hi) in &ranges {
                for w in lo..hi {
                    bits[(w / 64) as usize] |= 1 << (w % 64);
                }
            }
            self.fuzzy = Some(bits);
        }
        self.fuzzy_ranges = ranges;
    }
}

impl SearchIndex {
    /// Indexes every entry of `communes`; [`Hit::index`] refers to this slice.
    pub fn build(communes: &[Commune]) -> SearchIndex {
        let n = communes.len();
        assert!(n < u32::MAX as usize, "too many communes");
        let folded: Vec<String> = communes.iter().map(|c| text::fold(&c.name)).collect();

        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_by(|&a, &b| {
            let (ca, cb) = (&communes[a as usize], &communes[b as usize]);
            // Descending, and `None` (smallest) last.
            cb.population
                .cmp(&ca.population)
                .then_with(|| folded[a as usize].cmp(&folded[b as usize]))
                .then_with(|| ca.name.cmp(&cb.name))
                .then_with(|| ca.code.cmp(&cb.code))
                .then_with(|| {
                    (ca.kind != CommuneKind::Current).cmp(&(cb.kind != CommuneKind::Current))
                })
                .then(a.cmp(&b))
        });

        // Words of every entry, in id order.
        let mut name_off = Vec::with_capacity(n + 1);
        let mut tokens: Vec<&str> = Vec::with_capacity(n * 2);
        name_off.push(0u32);
        let mut max_name_words = 0;
        for &i in &order {
            let before = tokens.len();
            tokens.extend(text::tokens(&folded[i as usize]));
            max_name_words = max_name_words.max(tokens.len() - before);
            name_off.push(tokens.len() as u32);
        }

        // Distinct words, numbered as met, then sorted and renumbered.
        let mut met: HashMap<&str, u32> = HashMap::with_capacity(n);
        let name_words: Vec<u32> = tokens
            .iter()
            .map(|&t| {
                let next = met.len() as u32;
                *met.entry(t).or_insert(next)
            })
            .collect();
        let mut sorted: Vec<(&str, u32)> = met.into_iter().collect();
        sorted.sort_unstable();
        let mut renumber = vec![0u32; sorted.len()];
        for (w, &(_, first)) in sorted.iter().enumerate() {
            renumber[first as usize] = w as u32;
        }
        let name_words: Vec<u32> = name_words.iter().map(|&w| renumber[w as usize]).collect();
        let vocab: Vec<&str> = sorted.into_iter().map(|(w, _)| w).collect();
        let mut vocab_text = String::with_capacity(vocab.iter().map(|w| w.len()).sum());
        let mut vocab_off = Vec::with_capacity(vocab.len() + 1);
        vocab_off.push(0u32);
        for w in &vocab {
            vocab_text.push_str(w);
            vocab_off.push(vocab_text.len() as u32);
        }

        // Posting lists, by counting sort; ids come in ascending order.
        let words_of = |id: usize| &name_words[name_off[id] as usize..name_off[id + 1] as usize];
        let first_use = |ws: &[u32], j: usize| !ws[..j].contains(&ws[j]);
        let mut post_off = vec![0u32; vocab.len() + 1];
        for id in 0..n {
            let ws = words_of(id);
            for j in 0..ws.len() {
                if first_use(ws, j) {
                    post_off[ws[j] as usize + 1] += 1;
                }
            }
        }
        for w in 0..vocab.len() {
            post_off[w + 1] += post_off[w];
        }
        let mut postings = vec![0u32; post_off[vocab.len()] as usize];
        let mut fill: Vec<u32> = post_off[..vocab.len()].to_vec();
        for id in 0..n {
            let ws = words_of(id);
            for j in 0..ws.len() {
                if first_use(ws, j) {
                    let slot = &mut fill[ws[j] as usize];
                    postings[*slot as usize] = id as u32;
                    *slot += 1;
                }
            }
        }

        let trie = Trie::build(&vocab);

        // Codes.
        let mut insee = Vec::with_capacity(n);
        let mut postal = Vec::with_capacity(n + n / 8);
        let mut current_id: HashMap<InseeCode, u32> = HashMap::with_capacity(n);
        for (id, &i) in order.iter().enumerate() {
            let c = &communes[i as usize];
            insee.push((code_bytes(c.code.as_str()), id as u32));
            for p in &c.postal_codes {
                if p.len() == 5 && p.is_ascii() {
                    postal.push((code_bytes(p), id as u32));
                }
            }
            if c.kind == CommuneKind::Current {
                current_id.entry(c.code).or_insert(id as u32);
            }
        }
        insee.sort_unstable();
        postal.sort_unstable();
        postal.dedup();
        let same_code_parent = order
            .iter()
            .map(|&i| {
                let c = &communes[i as usize];
                match c.current {
                    Some(code) if code == c.code => {
                        current_id.get(&code).copied().unwrap_or(NO_PARENT)
                    }
                    _ => NO_PARENT,
                }
            })
            .collect();

        SearchIndex {
            order,
            same_code_parent,
            vocab_text,
            vocab_off,
            post_off,
            postings,
            name_off,
            name_words,
            trie,
            insee,
            postal,
            max_name_words,
        }
    }

    /// The number of entries indexed.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The heap memory the index holds, in bytes.
    pub fn heap_bytes(&self) -> usize {
        fn bytes<T>(v: &Vec<T>) -> usize {
            v.capacity() * std::mem::size_of::<T>()
        }
        let t = &self.trie;
        bytes(&self.order)
            + bytes(&self.same_code_parent)
            + self.vocab_text.capacity()
            + bytes(&self.vocab_off)
            + bytes(&self.post_off)
            + bytes(&self.postings)
            + bytes(&self.name_off)
            + bytes(&self.name_words)
            + bytes(&t.byte)
            + bytes(&t.lo)
            + bytes(&t.hi)
            + bytes(&t.first)
            + bytes(&t.count)
            + bytes(&t.kids)
            + bytes(&self.insee)
            + bytes(&self.postal)
    }

    /// At most `limit` results, best first, each entry at most once.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Hit> {
        self.search_with(query, limit, Gather::Auto)
    }

    fn search_with(&self, query: &str, limit: usize, how: Gather) -> Vec<Hit> {
        if limit == 0 || self.order.is_empty() {
            return Vec::new();
        }
        let query = match query.char_indices().nth(MAX_QUERY_CHARS) {
            Some((cut, _)) => &query[..cut],
            None => query,
        };
        let folded = text::fold(query);
        if folded.is_empty() {
            return Vec::new();
        }
        let mut found: Vec<(u32, MatchKind)> = Vec::new();
        if let Some(code) = as_code(&folded) {
            self.search_code(&code, limit, &mut found);
        }
        if found.is_empty() {
            self.search_names(&folded, limit, how, &mut found);
        }
        found
            .into_iter()
            .map(|(id, kind)| Hit {
                index: self.order[id as usize],
                kind,
            })
            .collect()
    }

    /// A whole code (exact) or the start of one (prefix).
    fn search_code(&self, code: &[u8], limit: usize, found: &mut Vec<(u32, MatchKind)>) {
        let mut ids: Vec<u32> = code_range(&self.insee, code)
            .iter()
            .chain(code_range(&self.postal, code))
            .map(|&(_, id)| id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        if code.len() == 5 {
            // A former commune sharing the code of its current commune comes
            // right after it.
            let anchor = |id: u32| {
                let p = self.same_code_parent[id as usize];
                if p != NO_PARENT && ids.binary_search(&p).is_ok() {
                    (p, 1)
                } else {
                    (id, 0)
                }
            };
            let mut keyed: Vec<((u32, u8), u32)> = ids.iter().map(|&id| (anchor(id), id)).collect();
            keyed.sort_unstable();
            found.extend(
                keyed
                    .into_iter()
                    .take(limit)
                    .map(|(_, id)| (id, MatchKind::Exact)),
            );
        } else {
            found.extend(
                ids.into_iter()
                    .take(limit)
                    .map(|id| (id, MatchKind::Prefix)),
            );
        }
    }

    fn search_names(
        &self,
        folded: &str,
        limit: usize,
        how: Gather,
        found: &mut Vec<(u32, MatchKind)>,
    ) {
        let raw: Vec<&str> = text::words(folded).collect();
        if raw.is_empty() || raw.len() > self.max_name_words.min(MAX_MATCHED_WORDS) {
            return;
        }
        let expanded: Vec<&str> = raw.iter().map(|w| text::expand_abbreviation(w)).collect();

        // Exact: the same words in the same order.
        let exact_words: Option<Vec<u32>> = expanded.iter().map(|w| self.word_id(w)).collect();
        if let Some(seq) = exact_words {
            let rarest = seq
                .iter()
                .copied()
                .min_by_key(|&w| self.postings_len(w, w + 1))
                .expect("at least one word");
            for &id in self.postings_of(rarest, rarest + 1) {
                if self.words_of(id) == seq.as_slice() {
                    found.push((id, MatchKind::Exact));
                    if found.len() == limit {
                        return;
                    }
                }
            }
        }

        // Prefix.
        let last = raw.len() - 1;
        let mut matchers: Vec<Matcher> = expanded
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let mut ranges = vec![self.prefix_range(w)];
                // "st" being typed may also be the start of "strasbourg".
                if i == last && raw[i] != *w {
                    ranges.push(self.prefix_range(raw[i]));
                }
                Matcher {
                    ranges,
                    fuzzy_ranges: Vec::new(),
                    fuzzy: None,
                }
            })
            .collect();
        if matchers.iter().all(|m| !m.is_empty()) {
            self.gather(&matchers, limit, MatchKind::Prefix, how, found);
        }
        if found.len() >= limit {
            return;
        }

        // Typos.
        let typos: Vec<Option<Typo<'_>>> =
            expanded.iter().map(|w| Typo::new(w.as_bytes())).collect();
        if typos.iter().all(Option::is_none) {
            return;
        }
        // Walk the trie for the longest words first, until some word
        // narrows the entries enough to check the others on them only.
        let mut by_length: Vec<usize> = (0..typos.len()).filter(|&t| typos[t].is_some()).collect();
        by_length.sort_by_key(|&t| std::cmp::Reverse(expanded[t].len()));
        let mut done: Vec<bool> = typos.iter().map(Option::is_none).collect();
        for &t in &by_length {
            let narrowest = (0..matchers.len())
                .filter(|&u| done[u])
                .map(|u| (self.matcher_postings(&matchers[u]), u))
                .min();
            if let Some((count, u)) = narrowest
                && count <= FEW_ENTRIES
            {
                self.typos_within(&matchers[u].clone(), &typos, &mut done, &mut matchers);
                break;
            }
            let Some(typo) = &typos[t] else { continue };
            matchers[t].set_fuzzy(self.typo_ranges(typo), self.vocab_len());
            done[t] = true;
        }
        if matchers.iter().any(|m| !m.fuzzy_ranges.is_empty())
            && matchers.iter().all(|m| !m.is_empty())
        {
            self.gather(&matchers, limit, MatchKind::Fuzzy, how, found);
        }
    }

    /// For the query words not `done`, the typos among the words of the
    /// (few) entries that `narrow` matches: enough, since only these
    /// entries can match every query word.
    fn typos_within(
        &self,
        narrow: &Matcher,
        typos: &[Option<Typo<'_>>],
        done: &mut [bool],
        matchers: &mut [Matcher],
    ) {
        let mut words: Vec<u32> = Vec::new();
        for (lo, hi) in narrow.all_ranges() {
            for &id in self.postings_of(lo, hi) {
                words.extend_from_slice(self.words_of(id));
            }
        }
        words.sort_unstable();
        words.dedup();
        for (t, m) in matchers.iter_mut().enumerate() {
            let Some(typo) = typos[t].as_ref().filter(|_| !done[t]) else {
                continue;
            };
            let ranges = words
                .iter()
                .filter(|&&w| !m.matches(w) && typo.matches_start_of(self.word(w).as_bytes()))
                .map(|&w| (w, w + 1))
                .collect();
            m.set_fuzzy(ranges, self.vocab_len());
            done[t] = true;
        }
    }

    /// Adds to `found`, in ranking order, the entries matching every matcher
    /// (each its own word) that are not in `found` yet, up to `limit`.
    fn gather(
        &self,
        matchers: &[Matcher],
        limit: usize,
        kind: MatchKind,
        how: Gather,
        found: &mut Vec<(u32, MatchKind)>,
    ) {
        let mut seen: Vec<u32> = found.iter().map(|&(id, _)| id).collect();
        seen.sort_unstable();
        let n = self.order.len();
        let counts: Vec<usize> = matchers.iter().map(|m| self.matcher_postings(m)).collect();
        let (driver, &driver_count) = counts
            .iter()
            .enumerate()
            .min_by_key(|&(_, c)| *c)
            .expect("at least one matcher");

        let how = match how {
            Gather::Auto => {
                // Expected hits if the words were independent.
                let est_hits = counts
                    .iter()
                    .fold(n as f64, |acc, &c| acc * (c as f64 / n as f64).min(1.0));
                let wanted = (limit + seen.len()) as f64;
                let scan_len = if est_hits < 1.0 {
                    n as f64
                } else {
                    (wanted * n as f64 / est_hits).min(n as f64)
                };
                let scan_cost = scan_len * 2.0 * matchers.len() as f64;
                let c = driver_count as f64;
                let postings_cost = c * (2.0 * matchers.len() as f64 + c.max(2.0).log2());
                if scan_cost < postings_cost {
                    Gather::Scan
                } else {
                    Gather::Postings
                }
            }
            s => s,
        };

        let mut consider = |id: u32| -> bool {
            if seen.binary_search(&id).is_err() && self.entry_matches(id, matchers) {
                found.push((id, kind));
            }
            found.len() < limit
        };
        match how {
            Gather::Scan | Gather::Auto => {
                for id in 0..n as u32 {
                    if !consider(id) {
                        break;
                    }
                }
            }
            Gather::Postings => {
                let m = &matchers[driver];
                let mut ids: Vec<u32> = Vec::with_capacity(driver_count);
                for (lo, hi) in m.all_ranges() {
                    ids.extend_from_slice(self.postings_of(lo, hi));
                }
                ids.sort_unstable();
                ids.dedup();
                for id in ids {
                    if !consider(id) {
                        break;
                    }
                }
            }
        }
    }

    /// Whether every matcher matches its own word of the entry's name.
    fn entry_matches(&self, id: u32, matchers: &[Matcher]) -> bool {
        let words = self.words_of(id);
        if let [m] = matchers {
            return words.iter().any(|&w| m.matches(w));
        }
        if matchers.len() > words.len() || matchers.len() > MAX_MATCHED_WORDS {
            return false;
        }
        let mut masks = [0u32; MAX_MATCHED_WORDS];
        for (mask, m) in masks.iter_mut().zip(matchers) {
            for (j, &w) in words.iter().enumerate().take(MAX_MATCHED_WORDS) {
                if m.matches(w) {
                    *mask |= 1 << j;
                }
            }
            if *mask == 0 {
                return false;
            }
        }
        assign(&masks[..matchers.len()], 0)
    }

    /// The words having a prefix within the typo budget of `typo`, as
    /// ranges of the vocabulary.
    fn typo_ranges(&self, typo: &Typo<'_>) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        if self.trie.byte.len() > 1 {
            self.walk(typo, &mut out, 0, 0, typo.start(), [0; MAX_EDITS + 1]);
        }
        out
    }

    /// Visits the children of trie node `node`, whose branch has `j`
    /// letters; `rows` are its edit states, `before` those of its parent.
    fn walk(
        &self,
        typo: &Typo<'_>,
        out: &mut Vec<(u32, u32)>,
        node: usize,
        j: usize,
        rows: Rows,
        before: Rows,
    ) {
        let (q, k, n) = (typo.q, typo.k, typo.q.len());
        let t = &self.trie;
        // The node's own letter, for swaps.
        let a_at = if j >= 1 {
            typo.at[t.byte[node] as usize]
        } else {
            0
        };
        let room = typo.room(&rows);
        let mut letters = u64::MAX;
        if !room {
            // Only a matching letter keeps the branch within the budget.
            letters = 0;
            let mut cells = rows[k] & (typo.all >> 1);
            while cells != 0 {
                letters |= letter_bit(q[cells.trailing_zeros() as usize]);
                cells &= cells - 1;
            }
            if k > 0 {
                let mut swaps = before[k - 1] & (a_at >> 2);
                while swaps != 0 {
                    letters |= letter_bit(q[swaps.trailing_zeros() as usize]);
                    swaps &= swaps - 1;
                }
            }
            if letters & t.kids[node] == 0 {
                return;
            }
        }
        let first = t.first[node] as usize;
        let children = first..first + t.count[node] as usize;
        for (child, &c) in children.clone().zip(&t.byte[children]) {
            if letters & letter_bit(c) == 0 {
                continue;
            }
            let next = typo.step(&rows, &before, a_at, c);
            if typo.accepts(&next) {
                // Every word of the branch starts within the budget.
                out.push((t.lo[child], t.hi[child]));
            } else if j + 1 < n + k && t.count[child] > 0 && (next[k] != 0 || room) {
                self.walk(typo, out, child, j + 1, next, rows);
            }
        }
    }

    fn vocab_len(&self) -> usize {
        self.vocab_off.len().saturating_sub(1)
    }

    fn word(&self, w: u32) -> &str {
        &self.vocab_text
            [self.vocab_off[w as usize] as usize..self.vocab_off[w as usize + 1] as usize]
    }

    fn word_id(&self, word: &str) -> Option<u32> {
        let (lo, hi) = self.prefix_range(word);
        (lo < hi && self.word(lo) == word).then_some(lo)
    }

    /// The words starting with `prefix`: a range of the sorted vocabulary.
    fn prefix_range(&self, prefix: &str) -> (u32, u32) {
        let len = self.vocab_len() as u32;
        let lo = partition_point(0, len, |w| self.word(w) < prefix);
        let hi = partition_point(lo, len, |w| self.word(w).starts_with(prefix));
        (lo, hi)
    }

    fn postings_len(&self, lo: u32, hi: u32) -> usize {
        (self.post_off[hi as usize] - self.post_off[lo as usize]) as usize
    }

    /// The postings of words `lo..hi`, one slice (ascending within each word).
    fn postings_of(&self, lo: u32, hi: u32) -> &[u32] {
        &self.postings[self.post_off[lo as usize] as usize..self.post_off[hi as usize] as usize]
    }

    fn matcher_postings(&self, m: &Matcher) -> usize {
        m.all_ranges()
            .map(|(lo, hi)| self.postings_len(lo, hi))
            .sum()
    }

    fn words_of(&self, id: u32) -> &[u32] {
        &self.name_words
            [self.name_off[id as usize] as usize..self.name_off[id as usize + 1] as usize]
    }
}

/// Edit states after some letters of a word: bit i of `rows[e]` tells
/// that the first i letters of the query word are within e edits of them.
type Rows = [u32; MAX_EDITS + 1];

/// A query word and its typo budget, for bit-parallel edit distance
/// (optimal string alignment: insertions, deletions, substitutions and
/// swaps of neighbours) between it and the start of name words.
struct Typo<'a> {
    q: &'a [u8],
    k: usize,
    /// Bit i + 1 of `at[c]`: q[i] == c.
    at: [u32; 256],
    /// Bits 0 to q.len().
    all: u32,
}

impl<'a> Typo<'a> {
    /// `None` when no typo is forgiven for `q`.
    fn new(q: &'a [u8]) -> Option<Self> {
        let k = match q.len() {
            0..=3 => return None,
            4..=7 => 1,
            8..=MAX_FUZZY_LEN => 2,
            _ => return None,
        };
        Some(Self::with_budget(q, k))
    }

    fn with_budget(q: &'a [u8], k: usize) -> Self {
        assert!(k <= MAX_EDITS && q.len() <= MAX_FUZZY_LEN);
        let mut at = [0u32; 256];
        for (i, &c) in q.iter().enumerate() {
            at[c as usize] |= 1 << (i + 1);
        }
        Typo {
            q,
            k,
            at,
            all: (1 << (q.len() + 1)) - 1,
        }
    }

    /// Before any letter: the first e letters of the query are e edits away.
    fn start(&self) -> Rows {
        let mut rows = [0u32; MAX_EDITS + 1];
        for (e, row) in rows.iter_mut().enumerate().take(self.k + 1) {
            *row = (1 << (e + 1)) - 1;
        }
        rows
    }

    /// The states after one more letter `c`; `before` are the states one
    /// letter earlier and `a_at` the `at` of the last letter (0 if none).
    #[inline]
    fn step(&self, rows: &Rows, before: &Rows, a_at: u32, c: u8) -> Rows {
        let c_at = self.at[c as usize];
        let swap = a_at & (c_at << 1);
        // Rows past the budget are computed too (cheaper than a loop), and
        // never read.
        let more = |e: usize, less: u32| {
            (((rows[e] << 1) & c_at)
                | (rows[e - 1] << 1)
                | rows[e - 1]
                | (less << 1)
                | ((before[e - 1] << 2) & swap))
                & self.all
        };
        let r0 = (rows[0] << 1) & c_at;
        let r1 = more(1, r0);
        let r2 = more(2, r1);
        [r0, r1, r2]
    }

    /// The whole query is within the budget.
    fn accepts(&self, rows: &Rows) -> bool {
        rows[self.k] & (1 << self.q.len()) != 0
    }

    /// Room for one more edit: any letter may follow.
    fn room(&self, rows: &Rows) -> bool {
        self.k > 0 && rows[self.k - 1] != 0
    }

    /// Whether a prefix of `word` is within the budget.
    fn matches_start_of(&self, word: &[u8]) -> bool {
        let (mut rows, mut before, mut a_at) = (self.start(), [0; MAX_EDITS + 1], 0);
        for &c in word.iter().take(self.q.len() + self.k) {
            let next = self.step(&rows, &before, a_at, c);
            if self.accepts(&next) {
                return true;
            }
            if next[self.k] == 0 && !self.room(&rows) {
                return false;
            }
            (before, rows, a_at) = (rows, next, self.at[c as usize]);
        }
        false
    }
}

/// Whether each mask can get its own bit (a query word its own name word).
fn assign(masks: &[u32], used: u32) -> bool {
    match masks.split_first() {
        None => true,
        Some((&mask, rest)) => {
            let mut free = mask & !used;
            while free != 0 {
                let bit = free & free.wrapping_neg();
                if assign(rest, used | bit) {
                    return true;
                }
                free &= free - 1;
            }
            false
        }
    }
}

/// A bit for each of `a`–`z` and `0`–`9`; all bits for anything else, so
/// that other letters are never ruled out.
#[inline]
fn letter_bit(b: u8) -> u64 {
    LETTER_BITS[b as usize]
}

const LETTER_BITS: [u64; 256] = {
    let mut bits = [u64::MAX; 256];
    let mut b = 0;
    while b < 26 {
        bits[b'a' as usize + b] = 1 << b;
        b += 1;
    }
    let mut d = 0;
    while d < 10 {
        bits[b'0' as usize + d] = 1 << (26 + d);
        d += 1;
    }
    bits
};

/// A trie of a sorted vocabulary, breadth first.
#[derive(Debug, Clone, Default)]
struct Trie {
    /// The letter leading to each node (0 for the root).
    byte: Vec<u8>,
    /// The words starting with the node's prefix: `lo..hi` in the vocabulary.
    lo: Vec<u32>,
    hi: Vec<u32>,
    /// The children: `first..first + count`.
    first: Vec<u32>,
    count: Vec<u16>,
    /// The letters of the children, as [`letter_bit`]s.
    kids: Vec<u64>,
}

impl Trie {
    fn build(vocab: &[&str]) -> Trie {
        let mut t = Trie::default();
        let mut depth: Vec<u32> = Vec::new();
        let add = |t: &mut Trie, depth: &mut Vec<u32>, b: u8, lo: usize, hi: usize, d: usize| {
            t.byte.push(b);
            t.lo.push(lo as u32);
            t.hi.push(hi as u32);
            t.first.push(0);
            t.count.push(0);
            depth.push(d as u32);
        };
        add(&mut t, &mut depth, 0, 0, vocab.len(), 0);
        let mut x = 0;
        while x < t.byte.len() {
            let (lo, hi, d) = (t.lo[x] as usize, t.hi[x] as usize, depth[x] as usize);
            t.first[x] = t.byte.len() as u32;
            let mut at = lo;
            // The word the node spells, if any, sorts first.
            while at < hi && vocab[at].len() <= d {
                at += 1;
            }
            while at < hi {
                let c = vocab[at].as_bytes()[d];
                let mut stop = at + 1;
                while stop < hi && vocab[stop].as_bytes()[d] == c {
                    stop += 1;
                }
                add(&mut t, &mut depth, c, at, stop, d + 1);
                at = stop;
            }
            t.count[x] = (t.byte.len() - t.first[x] as usize) as u16;
            let kids = t.first[x] as usize..t.byte.len();
            t.kids
                .push(t.byte[kids].iter().fold(0, |m, &b| m | letter_bit(b)));
            x += 1;
        }
        t
    }
}

/// First `x` in `lo..hi` for which `pred` is false (`pred` true then false).
fn partition_point(mut lo: u32, mut hi: u32, pred: impl Fn(u32) -> bool) -> u32 {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

fn code_bytes(s: &str) -> [u8; 5] {
    let mut out = [0u8; 5];
    out.copy_from_slice(&s.as_bytes()[..5]);
    out
}

/// A folded query that is a code or the start of one: 2 to 5 digits, or
/// `2a`/`2b` and up to 3 digits. Uppercased as INSEE writes it.
fn as_code(folded: &str) -> Option<Vec<u8>> {
    let b = folded.as_bytes();
    if !(2..=5).contains(&b.len()) {
        return None;
    }
    let corsica = b[0] == b'2' && matches!(b[1], b'a' | b'b');
    let ok = b[0].is_ascii_digit()
        && (b[1].is_ascii_digit() || corsica)
        && b[2..].iter().all(u8::is_ascii_digit);
    ok.then(|| b.to_ascii_uppercase())
}

/// The entries of a sorted code list starting with `prefix`.
fn code_range<'a>(list: &'a [([u8; 5], u32)], prefix: &[u8]) -> &'a [([u8; 5], u32)] {
    let lo = list.partition_point(|(c, _)| &c[..] < prefix);
    let len = list[lo..].partition_point(|(c, _)| c.starts_with(prefix));
    &list[lo..lo + len]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn commune(
        code: &str,
        kind: CommuneKind,
        name: &str,
        current: Option<&str>,
        postal: &[&str],
        population: Option<u32>,
    ) -> Commune {
        let code = InseeCode::parse(code).unwrap();
        Commune {
            code,
            kind,
            name: name.to_owned(),
            current: current.map(|c| InseeCode::parse(c).unwrap()),
            departement: code.departement().to_owned(),
            region: String::new(),
            epci: None,
            postal_codes: postal.iter().map(|p| (*p).to_owned()).collect(),
            population,
            liaison: None,
            former_codes: Vec::new(),
        }
    }

    fn fixture() -> Vec<Commune> {
        use CommuneKind::*;
        let c = |code, name, postal: &[&str], pop| commune(code, Current, name, None, postal, pop);
        vec![
            c(
                "35238",
                "Rennes",
                &["35000", "35200", "35700"],
                Some(222_485),
            ),
            c("35288", "Saint-Malo", &["35400"], Some(47_000)),
            c(
                "76351",
                "Le Havre",
                &["76600", "76610", "76620"],
                Some(165_830),
            ),
            c("01001", "L'Abergement-Clémenciat", &["01400"], Some(832)),
            c("01002", "L'Abergement-de-Varey", &["01640"], Some(267)),
            c(
                "50129",
                "Cherbourg-en-Cotentin",
                &["50100", "50110"],
                Some(78_258),
            ),
            commune(
                "50129",
                Delegated,
                "Cherbourg-Octeville",
                Some("50129"),
                &[],
                None,
            ),
            commune(
                "50173",
                Delegated,
                "Équeurdreville-Hainneville",
                Some("50129"),
                &[],
                None,
            ),
            c("2A004", "Ajaccio", &["20000", "20090"], Some(71_361)),
            c("13055", "Marseille", &["13001", "13002"], Some(873_076)),
            commune(
                "13201",
                Arrondissement,
                "Marseille 1er Arrondissement",
                Some("13055"),
                &["13001"],
                Some(40_000),
            ),
            c(
                "13001",
                "Aix-en-Provence",
                &["13080", "13090", "13100"],
                Some(147_478),
            ),
            c("34172", "Montpellier", &["34000", "34070"], Some(302_454)),
            c("33063", "Bordeaux", &["33000", "33100"], Some(261_804)),
            c("27229", "Évreux", &["27000"], Some(47_000)),
            c("11309", "Rennes-les-Bains", &["11190"], Some(200)),
            c("25486", "Rennes-sur-Loue", &["25440"], Some(90)),
            c("53188", "Rennes-en-Grenouilles", &["53110"], None),
            c("69202", "Sainte-Foy-lès-Lyon", &["69110"], Some(22_000)),
            c("93066", "Saint-Denis", &["93200", "93210"], Some(113_000)),
            c("93072", "Stains", &["93240"], Some(39_000)),
            c("67482", "Strasbourg", &["67000", "67100"], Some(290_576)),
            c("17300", "La Rochelle", &["17000"], Some(77_000)),
            c("21315", "Sainte-Colombe", &["21350"], Some(100)),
            c("05135", "Sainte-Colombe", &["05700"], Some(100)),
            c("40318", "Toulouzette", &["40250"], Some(309)),
            c("31555", "Toulouse", &["31000", "31100"], Some(504_078)),
            c(
                "52448",
                "Saint-Remy-en-Bouzemont-Saint-Genest-et-Isson",
                &["51290"],
                Some(300),
            ),
            commune(
                "52999",
                Associated,
                "Vieux-Rennes",
                Some("35238"),
                &[],
                None,
            ),
        ]
    }

    fn names(communes: &[Commune], hits: &[Hit]) -> Vec<String> {
        hits.iter()
            .map(|h| communes[h.index as usize].name.clone())
            .collect()
    }

    fn run(query: &str) -> Vec<(String, MatchKind)> {
        let communes = fixture();
        let index = SearchIndex::build(&communes);
        let hits = index.search(query, 10);
        names(&communes, &hits)
            .into_iter()
            .zip(hits.iter().map(|h| h.kind))
            .collect()
    }

    fn first(query: &str) -> (String, MatchKind) {
        run(query)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("nothing for {query:?}"))
    }

    fn exact(name: &str) -> (String, MatchKind) {
        (name.to_owned(), MatchKind::Exact)
    }

    fn prefix(name: &str) -> (String, MatchKind) {
        (name.to_owned(), MatchKind::Prefix)
    }

    fn fuzzy(name: &str) -> (String, MatchKind) {
        (name.to_owned(), MatchKind::Fuzzy)
    }

    #[test]
    fn case_accents_hyphens_and_apostrophes_do_not_matter() {
        for q in ["rennes", "RENNES", "Rénnes", " rennes  "] {
            assert_eq!(first(q), exact("Rennes"), "{q}");
        }
        for q in ["evreux", "Évreux", "EVREUX", "E\u{301}vreux"] {
            assert_eq!(first(q), exact("Évreux"), "{q}");
        }
        for q in [
            "L'Abergement-Clémenciat",
            "l’abergement clemenciat",
            "L ABERGEMENT-CLEMENCIAT",
            "l-abergement--clémenciat",
        ] {
            assert_eq!(first(q), exact("L'Abergement-Clémenciat"), "{q}");
        }
    }

    #[test]
    fn saint_may_be_abbreviated() {
        for q in ["st malo", "St-Malo", "saint malo", "Saint-Malo", "ST MALO"] {
            assert_eq!(first(q), exact("Saint-Malo"), "{q}");
        }
        assert_eq!(first("ste foy"), prefix("Sainte-Foy-lès-Lyon"));
        assert_eq!(first("ste foy les lyon"), exact("Sainte-Foy-lès-Lyon"));
        // "st" being typed: the saints, and the names starting with "st".
        let hits = run("st");
        assert_eq!(hits[0], prefix("Strasbourg"));
        assert!(hits.contains(&prefix("Saint-Denis")), "{hits:?}");
        assert!(hits.contains(&prefix("Stains")), "{hits:?}");
        // Not being typed any more: only the saints.
        assert_eq!(run("st denis"), [exact("Saint-Denis")]);
        assert_eq!(run("st den"), [prefix("Saint-Denis")]);
        // "ste" is "sainte", which "saint" starts.
        let hits = run("saint");
        assert!(hits.contains(&prefix("Sainte-Colombe")), "{hits:?}");
    }

    #[test]
    fn any_word_of_the_name_may_be_started() {
        assert_eq!(run("havre"), [prefix("Le Havre")]);
        assert_eq!(run("hav"), [prefix("Le Havre")]);
        assert_eq!(
            run("abergement"),
            [
                prefix("L'Abergement-Clémenciat"),
                prefix("L'Abergement-de-Varey")
            ]
        );
        assert_eq!(run("clem"), [prefix("L'Abergement-Clémenciat")]);
        assert_eq!(first("roch"), prefix("La Rochelle"));
        assert_eq!(first("octeville"), prefix("Cherbourg-Octeville"));
    }

    #[test]
    fn every_query_word_must_start_its_own_name_word() {
        assert_eq!(first("aix pro"), prefix("Aix-en-Provence"));
        assert_eq!(first("la roch"), prefix("La Rochelle"));
        assert_eq!(first("la rochelle"), exact("La Rochelle"));
        // In any order.
        assert_eq!(first("malo saint"), prefix("Saint-Malo"));
        assert_eq!(
            first("clemenciat l abergement"),
            prefix("L'Abergement-Clémenciat")
        );
        // One name word cannot serve two query words.
        assert!(!run("saint saint").iter().any(|(n, _)| n == "Saint-Malo"));
        assert_eq!(
            run("saint saint"),
            [prefix("Saint-Remy-en-Bouzemont-Saint-Genest-et-Isson")]
        );
        assert!(run("rennes bains lyon").is_empty());
        assert_eq!(run("bains rennes"), [prefix("Rennes-les-Bains")]);
    }

    #[test]
    fn typos_are_forgiven_from_four_letters() {
        assert_eq!(first("rnnes"), fuzzy("Rennes"));
        assert_eq!(first("rennse"), fuzzy("Rennes"));
        assert_eq!(first("montpelier"), fuzzy("Montpellier"));
        assert_eq!(first("marsielle"), fuzzy("Marseille"));
        assert_eq!(first("bordeuax"), fuzzy("Bordeaux"));
        assert_eq!(first("strasbur"), fuzzy("Strasbourg"));
        assert_eq!(first("evrex"), fuzzy("Évreux"));
        // While typing: against the start of a word.
        assert_eq!(first("montpe"), prefix("Montpellier"));
        assert_eq!(first("motnpe"), fuzzy("Montpellier"));
        assert_eq!(first("marsie"), fuzzy("Marseille"));
        // In a later word, with other words exact.
        assert_eq!(first("saint mlao"), fuzzy("Saint-Malo"));
        assert_eq!(first("aix en provnce"), fuzzy("Aix-en-Provence"));
        // A forgotten apostrophe costs one edit.
        assert_eq!(first("labergement"), fuzzy("L'Abergement-Clémenciat"));
        // A true prefix ranks before a typo.
        assert_eq!(run("toulouze"), [prefix("Toulouzette"), fuzzy("Toulouse")]);
    }

    #[test]
    fn typo_budget_grows_with_the_word() {
        // Fewer than 4 letters: no typo.
        assert!(run("rnn").is_empty());
        assert!(run("bro").is_empty());
        // 4 to 7 letters: one edit, not two.
        assert_eq!(first("bodreaux"), fuzzy("Bordeaux")); // 8 letters, a swap
        assert_eq!(first("bordeax"), fuzzy("Bordeaux"));
        assert!(run("bodeax").is_empty(), "{:?}", run("bodeax"));
        assert!(run("rnnse").is_empty(), "{:?}", run("rnnse"));
        // 8 letters and more: two edits, not three.
        assert_eq!(first("montplier"), fuzzy("Montpellier"));
        assert_eq!(first("mnotpelier"), fuzzy("Montpellier"));
        assert!(run("mtnoplier").is_empty(), "{:?}", run("mtnoplier"));
    }

    #[test]
    fn codes_find_communes() {
        assert_eq!(run("35238"), [exact("Rennes")]);
        assert_eq!(run("2A004"), [exact("Ajaccio")]);
        assert_eq!(run("2a004"), [exact("Ajaccio")]);
        assert_eq!(run("35000"), [exact("Rennes")]);
        assert_eq!(run("76610"), [exact("Le Havre")]);
        // A code shared by a commune nouvelle and its delegated commune.
        assert_eq!(
            run("50129"),
            [exact("Cherbourg-en-Cotentin"), exact("Cherbourg-Octeville")]
        );
        // INSEE code of Aix, postal code of Marseille and its 1st arrondissement.
        assert_eq!(
            run("13001"),
            [
                exact("Marseille"),
                exact("Aix-en-Provence"),
                exact("Marseille 1er Arrondissement")
            ]
        );
        // Starts of codes.
        assert_eq!(run("350"), [prefix("Rennes")]);
        assert_eq!(run("352"), [prefix("Rennes"), prefix("Saint-Malo")]);
        assert_eq!(run("35"), [prefix("Rennes"), prefix("Saint-Malo")]);
        assert_eq!(run("2a"), [prefix("Ajaccio")]);
        assert_eq!(run("2A0"), [prefix("Ajaccio")]);
        assert_eq!(
            run("5012"),
            [
                prefix("Cherbourg-en-Cotentin"),
                prefix("Cherbourg-Octeville")
            ]
        );
        assert_eq!(run("99999"), []);
        assert_eq!(run("3"), []);
    }

    #[test]
    fn former_communes_are_found_under_their_own_name() {
        assert_eq!(first("cherbourg octeville"), exact("Cherbourg-Octeville"));
        assert_eq!(
            first("equeurdreville"),
            prefix("Équeurdreville-Hainneville")
        );
        assert_eq!(first("hainneville"), prefix("Équeurdreville-Hainneville"));
        assert_eq!(
            first("marseille 1er"),
            prefix("Marseille 1er Arrondissement")
        );
        assert_eq!(
            run("cherbourg"),
            [
                prefix("Cherbourg-en-Cotentin"),
                prefix("Cherbourg-Octeville")
            ]
        );
    }

    #[test]
    fn ranking_is_kind_then_population_then_name_then_code() {
        // Exact, then prefix by population, those without one last.
        assert_eq!(
            run("rennes"),
            [
                exact("Rennes"),
                prefix("Rennes-les-Bains"),
                prefix("Rennes-sur-Loue"),
                prefix("Rennes-en-Grenouilles"),
                prefix("Vieux-Rennes"),
            ]
        );
        // Same name, same population: by code.
        let communes = fixture();
        let index = SearchIndex::build(&communes);
        let hits = index.search("sainte colombe", 10);
        let codes: Vec<&str> = hits
            .iter()
            .map(|h| communes[h.index as usize].code.as_str())
            .collect();
        assert_eq!(codes, ["05135", "21315"]);
        // Prefix before fuzzy whatever the population.
        let hits = run("toulouz");
        assert_eq!(hits[0], prefix("Toulouzette"));
        assert_eq!(hits[1], fuzzy("Toulouse"));
        // The order given to `build` does not matter.
        let mut reversed = fixture();
        reversed.reverse();
        let index2 = SearchIndex::build(&reversed);
        for q in [
            "rennes",
            "sai",
            "st",
            "sainte colombe",
            "50129",
            "13001",
            "rnnes",
        ] {
            let a = names(&communes, &index.search(q, 10));
            let b = names(&reversed, &index2.search(q, 10));
            assert_eq!(a, b, "{q}");
        }
    }

    #[test]
    fn the_index_is_shareable_and_small() {
        fn shareable<T: Send + Sync + 'static>() {}
        shareable::<SearchIndex>();
        let communes = fixture();
        let index = SearchIndex::build(&communes);
        assert_eq!(index.len(), communes.len());
        assert!(index.heap_bytes() > 0 && index.heap_bytes() < 64 * 1024);
    }

    #[test]
    fn limits_and_degenerate_queries() {
        let communes = fixture();
        let index = SearchIndex::build(&communes);
        assert!(index.search("", 10).is_empty());
        assert!(index.search("   ", 10).is_empty());
        assert!(index.search(" -'’ ", 10).is_empty());
        assert!(index.search("rennes", 0).is_empty());
        assert!(index.search("50129", 0).is_empty());
        assert_eq!(index.search("rennes", 2).len(), 2);
        assert_eq!(index.search("50129", 1).len(), 1);
        assert_eq!(index.search("s", 3).len(), 3);
        let long = "saint malo ".repeat(1000);
        assert!(index.search(&long, 10).is_empty());
        let long = "é".repeat(10_000);
        assert!(index.search(&long, 10).is_empty());
        // The first 100 characters count.
        let long = format!("rennes{}", " ".repeat(10_000));
        assert_eq!(index.search(&long, 10)[0].kind, MatchKind::Exact);
        let empty = SearchIndex::build(&[]);
        assert!(empty.search("rennes", 10).is_empty());
        assert!(empty.search("35000", 10).is_empty());
        assert!(empty.is_empty());
    }

    #[test]
    fn typo_walk_finds_prefixes_within_the_budget() {
        let vocab = [
            "dcba",
            "mont",
            "montpellier",
            "rennes",
            "xbcd",
            "xbcx",
            "abdcefhg",
        ];
        let communes: Vec<Commune> = vocab
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let code = format!("{:05}", 10_001 + i);
                commune(&code, CommuneKind::Current, w, None, &[], None)
            })
            .collect();
        let index = SearchIndex::build(&communes);
        let found = |q: &str, k: usize| {
            let typo = Typo::with_budget(q.as_bytes(), k);
            let mut words: Vec<&str> = index
                .typo_ranges(&typo)
                .into_iter()
                .flat_map(|(lo, hi)| lo..hi)
                .map(|w| index.word(w))
                .collect();
            words.sort_unstable();
            // Checking each word gives the same.
            let mut each: Vec<&str> = vocab
                .iter()
                .copied()
                .filter(|w| typo.matches_start_of(w.as_bytes()))
                .collect();
            each.sort_unstable();
            assert_eq!(words, each, "{q} {k}");
            words
        };
        assert_eq!(found("rnnes", 1), ["rennes"]);
        assert_eq!(found("montpe", 0), ["montpellier"]);
        assert_eq!(found("montpe", 1), ["montpellier"]);
        assert_eq!(found("montpe", 2), ["mont", "montpellier"]);
        assert_eq!(found("abcd", 1), ["abdcefhg", "xbcd"]);
        assert_eq!(found("abcd", 2), ["abdcefhg", "xbcd", "xbcx"]);
        assert_eq!(found("abcdefgh", 2), ["abdcefhg"]);
    }

    // A plain implementation of the matching rules, to check the index
    // (vocabulary ranges, typo walk, both ways of gathering) against.

    fn osa(a: &[u8], b: &[u8]) -> usize {
        let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
        for (i, row) in d.iter_mut().enumerate() {
            row[0] = i;
        }
        for (j, cell) in d[0].iter_mut().enumerate() {
            *cell = j;
        }
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                d[i][j] = (d[i - 1][j] + 1)
                    .min(d[i][j - 1] + 1)
                    .min(d[i - 1][j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
                }
            }
        }
        d[a.len()][b.len()]
    }

    fn reference(communes: &[Commune], query: &str) -> Vec<(u32, MatchKind)> {
        let query: String = query.chars().take(MAX_QUERY_CHARS).collect();
        let folded = text::fold(&query);
        let raw: Vec<&str> = text::words(&folded).collect();
        if raw.is_empty() {
            return Vec::new();
        }
        let expanded: Vec<&str> = text::tokens(&folded).collect();
        let last = raw.len() - 1;
        let mut out = Vec::new();
        for (i, c) in communes.iter().enumerate() {
            let name = text::fold(&c.name);
            let words: Vec<&str> = text::tokens(&name).collect();
            let starts = |t: usize, w: &str| {
                w.starts_with(expanded[t])
                    || (t == last && raw[t] != expanded[t] && w.starts_with(raw[t]))
            };
            let close = |t: usize, w: &str| {
                let q = expanded[t].as_bytes();
                let k = match q.len() {
                    0..=3 => return false,
                    4..=7 => 1,
                    8..=MAX_FUZZY_LEN => 2,
                    _ => return false,
                };
                (0..=w.len()).any(|p| osa(q, &w.as_bytes()[..p]) <= k)
            };
            let all_assigned = |ok: &dyn Fn(usize, &str) -> bool| {
                fn go(
                    t: usize,
                    used: &mut Vec<bool>,
                    words: &[&str],
                    n: usize,
                    ok: &dyn Fn(usize, &str) -> bool,
                ) -> bool {
                    if t == n {
                        return true;
                    }
                    for j in 0..words.len() {
                        if !used[j] && ok(t, words[j]) {
                            used[j] = true;
                            if go(t + 1, used, words, n, ok) {
                                return true;
                            }
                            used[j] = false;
                        }
                    }
                    false
                }
                go(0, &mut vec![false; words.len()], &words, raw.len(), ok)
            };
            let kind = if words == expanded {
                MatchKind::Exact
            } else if all_assigned(&starts) {
                MatchKind::Prefix
            } else if all_assigned(&|t, w| starts(t, w) || close(t, w)) {
                MatchKind::Fuzzy
            } else {
                continue;
            };
            out.push((i as u32, kind, c.population, name, c));
        }
        out.sort_by(|a, b| {
            a.1.cmp(&b.1)
                .then(b.2.cmp(&a.2))
                .then_with(|| a.3.cmp(&b.3))
                .then_with(|| a.4.name.cmp(&b.4.name))
                .then_with(|| a.4.code.cmp(&b.4.code))
                .then_with(|| {
                    (a.4.kind != CommuneKind::Current).cmp(&(b.4.kind != CommuneKind::Current))
                })
                .then(a.0.cmp(&b.0))
        });
        out.into_iter().map(|(i, k, ..)| (i, k)).collect()
    }

    fn check_against_reference(communes: &[Commune], index: &SearchIndex, query: &str) {
        // Typos are only looked for when the exact and prefix results are
        // not enough, and they all come after: the first `limit` results
        // are the same either way.
        let want = reference(communes, query);
        for how in [Gather::Auto, Gather::Scan, Gather::Postings] {
            for limit in [1, 3, communes.len() + 1] {
                let got: Vec<(u32, MatchKind)> = index
                    .search_with(query, limit, how)
                    .into_iter()
                    .map(|h| (h.index, h.kind))
                    .collect();
                let expected: Vec<(u32, MatchKind)> = want.iter().copied().take(limit).collect();
                assert_eq!(got, expected, "{query:?} limit {limit} {how:?}");
            }
        }
    }

    #[test]
    fn the_index_agrees_with_a_plain_scan() {
        let communes = fixture();
        let index = SearchIndex::build(&communes);
        for q in [
            "rennes",
            "ren",
            "r",
            "s",
            "st",
            "ste",
            "saint",
            "sai",
            "saint saint",
            "la",
            "l",
            "le havre",
            "havre",
            "rnnes",
            "rennse",
            "montpelier",
            "marsielle",
            "bordeuax",
            "toulouze",
            "strasbur",
            "aix en provnce",
            "saint mlao",
            "mnotpelier",
            "a",
            "e",
            "en",
            "en aix",
            "cherbourg octeville",
            "cherbourg",
            "marseille 1er",
            "1er",
            "1",
            "bains",
            "sur",
            "vieux",
            "vieux rennes",
            "renens",
            "eaux",
        ] {
            check_against_reference(&communes, &index, q);
        }
    }

    proptest! {
        #[test]
        fn the_index_agrees_with_a_plain_scan_on_any_query(
            query in "[a-zéèç' -]{0,14}|(st|ste|saint|rennes|ren|la|le|mar|bord|aix|en) [a-z]{0,9}"
        ) {
            let communes = fixture();
            let index = SearchIndex::build(&communes);
            check_against_reference(&communes, &index, &query);
        }

        #[test]
        fn never_panics_nor_repeats(query in "\\PC{0,120}", limit in 0usize..40) {
            let communes = fixture();
            let index = SearchIndex::build(&communes);
            let hits = index.search(&query, limit);
            prop_assert!(hits.len() <= limit);
            let mut ids: Vec<u32> = hits.iter().map(|h| h.index).collect();
            ids.sort_unstable();
            ids.dedup();
            prop_assert_eq!(ids.len(), hits.len());
        }
    }
}
