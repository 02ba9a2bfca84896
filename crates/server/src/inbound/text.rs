//! Message bodies as plain text: HTML turned into lines (quotes marked with
//! `>` so that [`super::strip_reply`] removes them), `format=flowed` text
//! unwrapped.

use mail_parser::decoders::html::add_html_token;

/// Plain text from an HTML body: the text of the elements, one line per
/// `<br>` and per block (`p`, `div`, `li`, `tr`, headings…), text inside
/// `<blockquote>` prefixed with `> `, nothing from `head`, `style`, `script`,
/// `title` or `template`, entities decoded, runs of blank lines kept to one.
pub fn html_to_text(html: &str) -> String {
    let mut out = Out::default();
    let mut skip: Option<String> = None; // inside an element whose text is not shown
    let mut pre = 0usize;
    let mut rest = html;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        let is_tag = rest.starts_with('<')
            && rest[1..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!');
        if is_tag {
            let (tag, after) = match tag_end(rest) {
                Some(end) => (&rest[1..end - 1], &rest[end..]),
                None => (&rest[1..], ""),
            };
            rest = after;
            let (closing, name) = tag_name(tag);
            if let Some(open) = &skip {
                if closing && name == *open {
                    skip = None;
                }
                continue;
            }
            match name.as_str() {
                "head" | "style" | "script" | "title" | "template"
                    if !closing && !tag.ends_with('/') =>
                {
                    skip = Some(name);
                }
                "br" => out.newline_always(),
                "blockquote" => {
                    out.newline();
                    if closing {
                        out.depth = out.depth.saturating_sub(1);
                    } else {
                        out.depth += 1;
                    }
                }
                "pre" => {
                    out.newline();
                    pre = if closing {
                        pre.saturating_sub(1)
                    } else {
                        pre + 1
                    };
                }
                "li" if !closing => {
                    out.newline();
                    out.text("- ", true);
                }
                "p" | "div" | "li" | "tr" | "table" | "ul" | "ol" | "dl" | "dt" | "dd" | "h1"
                | "h2" | "h3" | "h4" | "h5" | "h6" | "hr" | "address" | "section" | "article"
                | "header" | "footer" | "center" => out.newline(),
                "td" | "th" if closing => out.text(" ", pre > 0),
                _ => {}
            }
            continue;
        }
        // Text up to the next tag (a `<` that opens none is text).
        let first = rest.chars().next().map_or(1, char::len_utf8);
        let end = rest[first..].find('<').map_or(rest.len(), |i| i + first);
        let chunk = &rest[..end];
        rest = &rest[end..];
        if skip.is_none() {
            out.text(&decode_entities(chunk), pre > 0);
        }
    }
    out.finish()
}

/// The length of the tag at the start of `s` (which starts with `<`), up to
/// and including its `>`, quoted attribute values skipped; `None` when it is
/// not closed.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// Whether a tag closes, and its lowercase name (`o:p` for Office tags).
fn tag_name(tag: &str) -> (bool, String) {
    let tag = tag.trim_start();
    let (closing, tag) = match tag.strip_prefix('/') {
        Some(t) => (true, t),
        None => (false, tag),
    };
    let name: String = tag
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == ':' || *c == '-')
        .collect();
    (closing, name.to_ascii_lowercase())
}

fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let entity_end = rest
            .char_indices()
            .take(34)
            .find(|&(_, c)| c == ';')
            .map(|(i, _)| i);
        match entity_end {
            Some(end)
                if rest[1..end]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '#') =>
            {
                add_html_token(&mut out, &rest.as_bytes()[..=end], false);
                rest = &rest[end + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text being built, line by line.
#[derive(Default)]
struct Out {
    lines: Vec<String>,
    line: String,
    /// The blockquote depth the current line started at.
    line_depth: usize,
    depth: usize,
    /// Whether the last thing pushed on the line was a space.
    space: bool,
}

impl Out {
    fn text(&mut self, text: &str, pre: bool) {
        if pre {
            let mut parts = text.split('\n');
            if let Some(first) = parts.next() {
                self.push(first.trim_end_matches('\r'));
            }
            for part in parts {
                self.newline_always();
                self.push(part.trim_end_matches('\r'));
            }
            return;
        }
        for (i, word) in text.split(is_collapsible).enumerate() {
            if i > 0 && !self.space && !self.line.is_empty() {
                self.line.push(' ');
                self.space = true;
            }
            if !word.is_empty() {
                self.push(word);
            }
        }
    }

    fn push(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        if self.line.is_empty() {
            self.line_depth = self.depth;
        }
        self.line.push_str(s);
        self.space = s.ends_with(' ');
    }

    /// Ends the current line at a block boundary, unless it is empty (a
    /// line holding only a non-breaking space, as Outlook writes blank
    /// paragraphs, gives a blank line).
    fn newline(&mut self) {
        if !self.line.is_empty() {
            self.newline_always();
        }
    }

    fn newline_always(&mut self) {
        let line = std::mem::take(&mut self.line);
        let line = line.trim_end();
        let prefix = "> ".repeat(self.line_depth);
        self.lines.push(if line.trim().is_empty() {
            prefix.trim_end().to_string()
        } else {
            format!("{prefix}{}", line.trim_start())
        });
        self.line_depth = self.depth;
        self.space = false;
    }

    fn finish(mut self) -> String {
        if !self.line.trim().is_empty() {
            self.newline_always();
        }
        let mut out: Vec<String> = Vec::new();
        for line in self.lines {
            let blank = line.is_empty();
            if blank && out.last().is_none_or(|l| l.is_empty()) {
                continue;
            }
            out.push(line);
        }
        while out.last().is_some_and(|l| l.is_empty()) {
            out.pop();
        }
        out.join("\n")
    }
}

/// Spaces HTML collapses (not the non-breaking space).
fn is_collapsible(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{C}')
}

/// Unwraps `format=flowed` text (RFC 3676): a line ending with a space
/// continues on the next line of the same quote depth; with `delsp=yes` that
/// space is removed too. Space-stuffing is undone; the signature separator
/// `-- ` is never joined.
pub fn unflow(text: &str, delsp: bool) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut open: Option<(usize, String)> = None; // (depth, text) of a flowed paragraph
    for raw in text.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let depth = raw.chars().take_while(|&c| c == '>').count();
        let body = &raw[depth..];
        let body = body.strip_prefix(' ').unwrap_or(body);
        let flowed = body.ends_with(' ') && body != "-- ";
        let piece = if flowed && delsp {
            &body[..body.len() - 1]
        } else {
            body
        };
        match &mut open {
            Some((d, acc)) if *d == depth => acc.push_str(piece),
            _ => {
                if let Some((d, acc)) = open.take() {
                    out.push(quoted(d, &acc));
                }
                open = Some((depth, piece.to_string()));
            }
        }
        if !flowed && let Some((d, acc)) = open.take() {
            out.push(quoted(d, &acc));
        }
    }
    if let Some((d, acc)) = open.take() {
        out.push(quoted(d, &acc));
    }
    out.join("\n")
}

fn quoted(depth: usize, text: &str) -> String {
    if depth == 0 {
        text.to_string()
    } else {
        format!("{} {text}", ">".repeat(depth))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_blocks_become_lines() {
        let html = "<html><head><title>x</title><style>p{color:red}</style></head>\
            <body><div>Bonjour,</div><div><br></div><div>Voici l&#39;acte de naissance&nbsp;:</div>\
            <p class=MsoNormal>Cordialement<o:p></o:p></p><script>alert(1)</script></body></html>";
        assert_eq!(
            html_to_text(html),
            "Bonjour,\n\nVoici l'acte de naissance\u{A0}:\nCordialement"
        );
    }

    #[test]
    fn html_whitespace_collapses_and_entities_decode() {
        let html = "<p>Archives   d&eacute;partementales\n  d&#x27;Ille-et-Vilaine &amp; co &lt;3 &bogus; a&b</p>";
        assert_eq!(
            html_to_text(html),
            "Archives départementales d'Ille-et-Vilaine & co <3 &bogus; a&b"
        );
    }

    #[test]
    fn html_blockquotes_become_quoted_lines() {
        let html = "<div>Merci.</div><div class=\"gmail_quote\">Le 3 déc. 2026, X a écrit :<br>\
            <blockquote style=\"margin:0 0 0 .8ex\"><div>Bonjour</div><div>Cordialement</div></blockquote></div>";
        assert_eq!(
            html_to_text(html),
            "Merci.\nLe 3 déc. 2026, X a écrit :\n> Bonjour\n> Cordialement"
        );
    }

    #[test]
    fn html_attributes_with_angle_brackets_and_comments() {
        let html = "<a title=\"a > b\" href='x'>lien</a><!-- <p>caché</p> --> visible";
        assert_eq!(html_to_text(html), "lien visible");
    }

    #[test]
    fn html_pre_keeps_lines() {
        assert_eq!(html_to_text("<pre>a  b\nc</pre>d"), "a  b\nc\nd");
        assert_eq!(html_to_text("é<b>x</b> 1 < 2 <p>fin"), "éx 1 < 2\nfin");
        // Unclosed tags, comments and entities at the end.
        assert_eq!(html_to_text("texte<a href=\"é"), "texte");
        assert_eq!(html_to_text("texte<!-- é"), "texte");
        assert_eq!(html_to_text("texte &eacute"), "texte &eacute");
    }

    #[test]
    fn flowed_text_unwraps() {
        let text = "Bonjour, je vous envoie \r\nla copie demand\u{e9}e.\r\n \r\n>> cit\u{e9} \r\n>> suite\r\n-- \r\nJeanne";
        assert_eq!(
            unflow(text, false),
            "Bonjour, je vous envoie la copie demandée.\n\n>> cité suite\n-- \nJeanne"
        );
        assert_eq!(unflow("mot \ncoup\u{e9}", true), "motcoupé");
    }
}
