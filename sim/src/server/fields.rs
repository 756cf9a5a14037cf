//! The Graph API `fields=` language: `id,username,business_discovery.username(x){followers_count,
//! media.limit(10).after(c){id,caption}}`, `reactions.summary(total_count).limit(0)`.

/// One requested field with its modifiers and nested selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSel {
    pub name: String,
    /// `.limit(10)`, `.after(abc)`, `.summary(true)`, `.username(x)` in the order written.
    pub modifiers: Vec<(String, String)>,
    pub children: Vec<FieldSel>,
}

impl FieldSel {
    pub fn modifier(&self, name: &str) -> Option<&str> {
        self.modifiers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Writes fields back as an expression (`parse` reads it back the same).
pub fn to_text(fields: &[FieldSel]) -> String {
    fields
        .iter()
        .map(|field| {
            let mut text = field.name.clone();
            for (modifier, argument) in &field.modifiers {
                text.push_str(&format!(".{modifier}({argument})"));
            }
            if !field.children.is_empty() {
                text.push_str(&format!("{{{}}}", to_text(&field.children)));
            }
            text
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Parses a fields expression; an empty string selects nothing.
pub fn parse(text: &str) -> Result<Vec<FieldSel>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut pos = 0;
    let fields = parse_list(&chars, &mut pos, 0)?;
    if pos != chars.len() {
        return Err(format!("unexpected `{}` at position {pos}", chars[pos]));
    }
    Ok(fields)
}

/// Deeper nesting than any real request needs is refused (and the parser never recurses
/// without bound on hostile input).
const MAX_DEPTH: usize = 8;

fn parse_list(chars: &[char], pos: &mut usize, depth: usize) -> Result<Vec<FieldSel>, String> {
    if depth > MAX_DEPTH {
        return Err(format!("fields are nested more than {MAX_DEPTH} levels deep"));
    }
    let mut out = Vec::new();
    loop {
        skip_space(chars, pos);
        if *pos >= chars.len() || chars[*pos] == '}' {
            return Ok(out);
        }
        out.push(parse_field(chars, pos, depth)?);
        skip_space(chars, pos);
        if *pos < chars.len() && chars[*pos] == ',' {
            *pos += 1;
        } else {
            return Ok(out);
        }
    }
}

fn parse_field(chars: &[char], pos: &mut usize, depth: usize) -> Result<FieldSel, String> {
    let name = ident(chars, pos)?;
    let mut modifiers = Vec::new();
    while *pos < chars.len() && chars[*pos] == '.' {
        *pos += 1;
        let modifier = ident(chars, pos)?;
        if *pos >= chars.len() || chars[*pos] != '(' {
            return Err(format!("modifier `{modifier}` needs an argument in parentheses"));
        }
        *pos += 1;
        let start = *pos;
        while *pos < chars.len() && chars[*pos] != ')' {
            *pos += 1;
        }
        if *pos >= chars.len() {
            return Err("unclosed `(`".into());
        }
        modifiers.push((modifier, chars[start..*pos].iter().collect()));
        *pos += 1;
    }
    let mut children = Vec::new();
    if *pos < chars.len() && chars[*pos] == '{' {
        *pos += 1;
        children = parse_list(chars, pos, depth + 1)?;
        if *pos >= chars.len() || chars[*pos] != '}' {
            return Err("unclosed `{`".into());
        }
        *pos += 1;
    }
    Ok(FieldSel { name, modifiers, children })
}

fn ident(chars: &[char], pos: &mut usize) -> Result<String, String> {
    let start = *pos;
    while *pos < chars.len() && (chars[*pos].is_ascii_alphanumeric() || chars[*pos] == '_') {
        *pos += 1;
    }
    if start == *pos {
        return Err(format!("expected a field name at position {start}"));
    }
    Ok(chars[start..*pos].iter().collect())
}

fn skip_space(chars: &[char], pos: &mut usize) {
    while *pos < chars.len() && chars[*pos].is_whitespace() {
        *pos += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_expansions_parse() {
        let fields = parse("id,business_discovery.username(ana.fit){followers_count,media.limit(10).after(QVE){id,caption}}").unwrap();
        assert_eq!(fields.len(), 2);
        let bd = &fields[1];
        assert_eq!(bd.name, "business_discovery");
        assert_eq!(bd.modifier("username"), Some("ana.fit"));
        let media = &bd.children[1];
        assert_eq!((media.modifier("limit"), media.modifier("after")), (Some("10"), Some("QVE")));
        assert_eq!(media.children.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["id", "caption"]);
        let text = "id,business_discovery.username(ana.fit){followers_count,media.limit(10).after(QVE){id,caption}}";
        assert_eq!(to_text(&fields), text, "written back as it was read");
        let summary = parse("reactions.summary(total_count).limit(0)").unwrap();
        assert_eq!(summary[0].modifiers, vec![("summary".into(), "total_count".into()), ("limit".into(), "0".into())]);
    }

    #[test]
    fn malformed_expressions_are_rejected() {
        assert!(parse("media{id").is_err());
        assert!(parse("media.limit{id}").is_err());
        assert!(parse("id,,name").is_err());
        assert!(parse("id)").is_err());
        let hostile = format!("{}{}", "a{".repeat(50_000), "}".repeat(50_000));
        assert!(parse(&hostile).unwrap_err().contains("nested more than"));
    }
}
