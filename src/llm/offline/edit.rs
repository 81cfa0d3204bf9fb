//! editScene offline: read the request as a list of operations ("make the title blue and
//! bigger" = a color change and a size change), then apply each one to the code through the
//! spans the [`SceneModel`] locates.

use std::collections::BTreeMap;

use super::patch::{self, Patch};
use super::scene_model::{
    Element, PropValue, Range, SceneModel, Style, StyleObject, TextKind, js_string, jsx_text,
};
use super::words::{self, NamedColor};
use crate::llm::StyleHints;

/// A part of a scene a request can name.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Title,
    Subtitle,
    Background,
    Button,
    /// Every element with text ("make the text white", "change the font").
    AllText,
    /// An element mentioned by a word: "the logo", "the eyebrow", "the image".
    Named(String),
    /// The element showing this text.
    WithText(String),
}

impl Part {
    fn label(&self) -> String {
        match self {
            Part::Title => "title".into(),
            Part::Subtitle => "subtitle".into(),
            Part::Background => "background".into(),
            Part::Button => "button".into(),
            Part::AllText => "text".into(),
            Part::Named(word) => word.clone(),
            Part::WithText(text) => format!("\"{text}\""),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ColorSource {
    /// Written in the request: `#2563EB`, `rgb(...)`.
    Literal(String),
    /// Named in words: "dark navy".
    Named(NamedColor),
    /// A stored preference such as `brand_color`.
    Preference(&'static str),
}

#[derive(Debug, Clone, PartialEq)]
pub enum FontSource {
    Literal(String),
    Preference(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddKind {
    Subtitle,
    Heading,
    Button,
}

/// One change a request asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    Color { part: Part, color: ColorSource },
    Text { part: Part, text: String },
    FontFamily { part: Part, font: FontSource },
    FontScale { part: Part, factor: f64 },
    FontSize { part: Part, size: f64 },
    Add { kind: AddKind, text: String },
    Remove { part: Part },
}

impl Operation {
    /// A short name for logs and tool arguments.
    pub fn kind(&self) -> &'static str {
        match self {
            Operation::Color { .. } => "color",
            Operation::Text { .. } => "text",
            Operation::FontFamily { .. } => "font_family",
            Operation::FontScale { .. } | Operation::FontSize { .. } => "font_size",
            Operation::Add { .. } => "add_element",
            Operation::Remove { .. } => "remove_element",
        }
    }
}

/// Reads every operation in `request`. `Err` says why nothing usable was found.
pub fn parse_operations(request: &str) -> Result<Vec<Operation>, String> {
    let mut operations = Vec::new();
    let mut problems = Vec::new();
    let mut carried: Option<Part> = None;
    for clause in split_clauses(request) {
        match parse_clause(&clause, carried.as_ref()) {
            Ok(Some(operation)) => {
                carried = operation_part(&operation).cloned().or(carried);
                operations.push(operation);
            }
            Ok(None) => {}
            Err(problem) => problems.push(problem),
        }
    }
    if operations.is_empty() {
        return Err(problems.into_iter().next().unwrap_or_else(|| {
            format!("no change the offline model can make was found in \"{request}\"")
        }));
    }
    Ok(operations)
}

fn operation_part(operation: &Operation) -> Option<&Part> {
    match operation {
        Operation::Color { part, .. }
        | Operation::Text { part, .. }
        | Operation::FontFamily { part, .. }
        | Operation::FontScale { part, .. }
        | Operation::FontSize { part, .. }
        | Operation::Remove { part } => Some(part),
        Operation::Add { .. } => None,
    }
}

/// Splits at " and ", ", ", "; " and " then " outside quotes.
fn split_clauses(request: &str) -> Vec<String> {
    let bytes: Vec<char> = request.chars().collect();
    let mut clauses = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(q) = quote {
            current.push(c);
            let closes = c == closing(q) && bytes.get(i + 1).is_none_or(|n| !n.is_alphanumeric());
            if closes {
                quote = None;
            }
            i += 1;
            continue;
        }
        let opens =
            matches!(c, '"' | '\'' | '“' | '‘') && (i == 0 || !bytes[i - 1].is_alphanumeric());
        if opens {
            quote = Some(c);
            current.push(c);
            i += 1;
            continue;
        }
        let rest: String = bytes[i..bytes.len().min(i + 6)]
            .iter()
            .collect::<String>()
            .to_lowercase();
        let separator = [" and ", ", ", "; ", " then "]
            .iter()
            .find(|s| rest.starts_with(**s))
            .map(|s| s.chars().count());
        if let Some(len) = separator {
            clauses.push(std::mem::take(&mut current));
            i += len;
            continue;
        }
        current.push(c);
        i += 1;
    }
    clauses.push(current);
    clauses
        .into_iter()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect()
}

fn closing(open: char) -> char {
    match open {
        '“' => '”',
        '‘' => '’',
        other => other,
    }
}

/// Fonts the request parser recognises by name (longest first when matching).
const KNOWN_FONTS: &[&str] = &[
    "Archivo",
    "Arial",
    "Barlow",
    "Bebas Neue",
    "Cormorant Garamond",
    "Courier New",
    "DM Sans",
    "EB Garamond",
    "Figtree",
    "Fira Sans",
    "Geist",
    "Georgia",
    "Helvetica",
    "IBM Plex Mono",
    "IBM Plex Sans",
    "Inter",
    "JetBrains Mono",
    "Josefin Sans",
    "Karla",
    "Lato",
    "Lexend",
    "Libre Baskerville",
    "Lora",
    "Manrope",
    "Merriweather",
    "Montserrat",
    "Mulish",
    "Nunito",
    "Open Sans",
    "Oswald",
    "Outfit",
    "Playfair Display",
    "Plus Jakarta Sans",
    "Poppins",
    "Quicksand",
    "Raleway",
    "Roboto",
    "Rubik",
    "Sora",
    "Source Sans Pro",
    "Space Grotesk",
    "Times New Roman",
    "Ubuntu",
    "Urbanist",
    "Work Sans",
];

fn parse_clause(clause: &str, carried: Option<&Part>) -> Result<Option<Operation>, String> {
    let quotes = words::quoted(clause);
    let plain = words::without_quotes(clause);
    let w = words::words(&plain);
    let has = |xs: &[&str]| w.iter().any(|x| xs.contains(&x.as_str()));
    let joined = format!(" {} ", w.join(" "));
    // "our heading font" names a kind of font, not the heading.
    let part_words: Vec<String> = w
        .iter()
        .enumerate()
        .filter(|(i, x)| {
            let before_font = w.get(i + 1).is_some_and(|n| n == "font" || n == "fonts");
            !(before_font && matches!(x.as_str(), "heading" | "body" | "brand"))
        })
        .map(|(_, x)| x.clone())
        .collect();
    let part = detect_part(&part_words);
    let part_or = |fallback: Part| {
        part.clone()
            .or_else(|| carried.cloned())
            .unwrap_or(fallback)
    };

    // Removing an element.
    if has(&["remove", "delete", "hide", "drop"]) || joined.contains(" get rid of ") {
        let target = part
            .clone()
            .filter(|p| *p != Part::AllText)
            .or_else(|| quotes.first().map(|q| Part::WithText(q.clone())));
        return match target {
            Some(part) => Ok(Some(Operation::Remove { part })),
            None => Err(format!(
                "what should be removed? \"{clause}\" names no element"
            )),
        };
    }

    // Adding a text element.
    if has(&["add", "insert", "put", "include", "append"]) {
        let kind = if has(&["button", "cta"]) {
            Some(AddKind::Button)
        } else if has(&["headline", "heading", "title"]) && !has(&["subtitle"]) {
            Some(AddKind::Heading)
        } else if has(&[
            "subtitle",
            "subheading",
            "caption",
            "tagline",
            "line",
            "text",
            "note",
            "label",
            "sentence",
            "subline",
        ]) {
            Some(AddKind::Subtitle)
        } else {
            None
        };
        if let Some(kind) = kind {
            let text = quotes.first().cloned().or_else(|| text_after_cue(clause));
            return match text {
                Some(text) => Ok(Some(Operation::Add { kind, text })),
                None => Err("what should the new element say? Put the text in quotes".into()),
            };
        }
    }

    // Replacing one text with another: change 'A' to 'B'.
    if quotes.len() >= 2 && has(&["change", "replace", "rename", "swap", "turn", "edit"]) {
        return Ok(Some(Operation::Text {
            part: Part::WithText(quotes[0].clone()),
            text: quotes[1].clone(),
        }));
    }

    // Font size.
    if let Some(operation) = size_operation(&w, &joined, part_or(Part::Title)) {
        return Ok(Some(operation));
    }

    // Font family: a known font anywhere, or a capitalised name in a clause about fonts.
    let about_fonts = has(&["font", "fonts", "typeface", "typography"]);
    let named_font = known_font(&plain);
    if about_fonts || named_font.is_some() {
        let font = if joined.contains(" heading font ")
            || joined.contains(" brand font ")
            || (joined.contains(" title font ") && joined.contains(" our "))
        {
            Some(FontSource::Preference("heading_font"))
        } else if joined.contains(" body font ") {
            Some(FontSource::Preference("body_font"))
        } else {
            named_font
                .or_else(|| capitalised_after_cue(&plain))
                .map(FontSource::Literal)
        };
        if let Some(font) = font {
            let target = part
                .clone()
                .or_else(|| carried.cloned())
                .unwrap_or(Part::AllText);
            return Ok(Some(Operation::FontFamily { part: target, font }));
        }
    }

    // New text for a part: change the headline to 'Ship faster'.
    if let Some(text) = quotes.first()
        && (has(&[
            "change", "rename", "replace", "say", "says", "read", "reads", "set", "update", "make",
            "text", "headline", "title", "heading", "copy", "wording", "to",
        ]) || part.is_some())
    {
        return Ok(Some(Operation::Text {
            part: part_or(Part::Title),
            text: text.clone(),
        }));
    }

    // Color.
    let color = if joined.contains(" brand color ")
        || joined.contains(" brand colour ")
        || joined.contains(" brand colors ")
        || joined.contains(" primary color ")
        || joined.contains(" our brand ")
    {
        Some(ColorSource::Preference("brand_color"))
    } else if joined.contains(" accent color ") || joined.contains(" accent colour ") {
        Some(ColorSource::Preference("accent_color"))
    } else if let Some(literal) = words::literal_color(&plain) {
        Some(ColorSource::Literal(literal))
    } else {
        words::color_word(&w).map(ColorSource::Named)
    };
    if let Some(color) = color {
        return Ok(Some(Operation::Color {
            part: part_or(Part::Title),
            color,
        }));
    }
    Ok(None)
}

fn detect_part(w: &[String]) -> Option<Part> {
    let mut generic = false;
    for word in w {
        let part = match word.as_str() {
            "background" | "backgrounds" | "bg" | "backdrop" => Part::Background,
            "title" | "headline" | "heading" | "header" | "h1" => Part::Title,
            "subtitle" | "subheading" | "subline" | "tagline" | "caption" | "description"
            | "subtext" => Part::Subtitle,
            "button" | "cta" => Part::Button,
            "logo" | "image" | "photo" | "picture" | "screenshot" | "eyebrow" | "underline"
            | "quote" | "author" | "date" | "url" | "link" | "icon" | "badge" | "label"
            | "bullet" | "bullets" | "card" | "chart" | "bars" | "timeline" => {
                Part::Named(word.clone())
            }
            "text" | "texts" | "copy" | "words" | "font" | "fonts" | "everything"
            | "everywhere" | "all" => {
                generic = true;
                continue;
            }
            _ => continue,
        };
        return Some(part);
    }
    generic.then_some(Part::AllText)
}

fn size_operation(w: &[String], joined: &str, part: Part) -> Option<Operation> {
    let has = |xs: &[&str]| w.iter().any(|x| xs.contains(&x.as_str()));
    let strong = has(&["much", "lot", "way", "huge", "massive"]);
    let slight = has(&["slightly", "bit", "little", "tad"]);
    let grow = has(&[
        "bigger", "larger", "enlarge", "increase", "grow", "huge", "bolder",
    ]);
    let shrink = has(&["smaller", "shrink", "decrease", "reduce", "tiny", "smaller"]);
    if joined.contains(" twice as big ")
        || joined.contains(" double the size ")
        || joined.contains(" double ")
    {
        return Some(Operation::FontScale { part, factor: 2.0 });
    }
    if joined.contains(" half the size ") || joined.contains(" half as big ") {
        return Some(Operation::FontScale { part, factor: 0.5 });
    }
    // "font size 64", "size 64px", "make the title 80px", "to 64 pixels".
    let sized = has(&["size", "px", "pixels", "pt"]) || w.iter().any(|x| x.ends_with("px"));
    if sized {
        for (i, word) in w.iter().enumerate() {
            let number = word.strip_suffix("px").unwrap_or(word);
            if let Ok(size) = number.parse::<f64>()
                && size > 0.0
                && size < 1000.0
            {
                let after = w.get(i + 1).map(String::as_str);
                if word.ends_with("px")
                    || matches!(after, Some("px" | "pixels" | "pt"))
                    || i > 0 && w[i - 1] == "size"
                    || i > 1 && w[i - 2] == "size"
                {
                    return Some(Operation::FontSize { part, size });
                }
            }
        }
    }
    if grow {
        let factor = if strong {
            1.5
        } else if slight {
            1.1
        } else {
            1.25
        };
        return Some(Operation::FontScale { part, factor });
    }
    if shrink {
        let factor = if strong {
            0.6
        } else if slight {
            0.9
        } else {
            0.8
        };
        return Some(Operation::FontScale { part, factor });
    }
    None
}

/// The new element's text without quotes: "add a subtitle saying Now in beta".
fn text_after_cue(clause: &str) -> Option<String> {
    let lower = clause.to_lowercase();
    for cue in [
        " saying ",
        " that says ",
        " which says ",
        " reading ",
        " with the text ",
        " that reads ",
    ] {
        if let Some(at) = lower.find(cue) {
            let text = clause
                .get(at + cue.len()..)?
                .trim()
                .trim_end_matches(['.', '!']);
            if !text.is_empty() {
                return Some(text.to_string());
            }
        }
    }
    None
}

/// A known font named anywhere in `text` (case-insensitive, longest name first).
fn known_font(text: &str) -> Option<String> {
    let lower = format!(" {} ", words::words(text).join(" "));
    let mut fonts: Vec<&str> = KNOWN_FONTS.to_vec();
    fonts.sort_by_key(|f| std::cmp::Reverse(f.len()));
    fonts
        .into_iter()
        .find(|font| lower.contains(&format!(" {} ", font.to_lowercase())))
        .map(str::to_string)
}

/// A capitalised name after "use" / "to": "use Gotham for the title" -> "Gotham".
fn capitalised_after_cue(clause: &str) -> Option<String> {
    let tokens: Vec<&str> = clause.split_whitespace().collect();
    for (i, token) in tokens.iter().enumerate() {
        if !matches!(token.to_lowercase().as_str(), "use" | "to" | "with" | "in") {
            continue;
        }
        let name: Vec<&str> = tokens[i + 1..]
            .iter()
            .map(|t| t.trim_matches(|c: char| !c.is_alphanumeric()))
            .take_while(|t| t.chars().next().is_some_and(char::is_uppercase))
            .collect();
        if !name.is_empty() {
            return Some(name.join(" "));
        }
    }
    None
}

/// What the operations may draw on besides the code.
pub(super) struct EditContext<'a> {
    pub preferences: &'a BTreeMap<String, String>,
    pub style: &'a StyleHints,
}

/// Applies one operation to `code`; returns the new code and a one-line summary.
pub(super) fn apply(
    code: &str,
    operation: &Operation,
    ctx: &EditContext<'_>,
) -> Result<(String, String), String> {
    let model = SceneModel::build(code)?;
    let (patches, summary) = match operation {
        Operation::Color { part, color } => color_patches(code, &model, part, color, ctx)?,
        Operation::Text { part, text } => text_patches(code, &model, part, text)?,
        Operation::FontFamily { part, font } => font_patches(code, &model, part, font, ctx)?,
        Operation::FontScale { part, factor } => {
            size_patches(code, &model, part, SizeChange::Scale(*factor))?
        }
        Operation::FontSize { part, size } => {
            size_patches(code, &model, part, SizeChange::Set(*size))?
        }
        Operation::Add { kind, text } => add_patches(code, &model, *kind, text, ctx)?,
        Operation::Remove { part } => remove_patches(code, &model, part)?,
    };
    let new_code = patch::apply(code, patches)?;
    Ok((new_code, summary))
}

/// The elements a part names, for a style or text change.
fn resolve(code: &str, model: &SceneModel, part: &Part) -> Result<Vec<usize>, String> {
    resolve_for(code, model, part, Purpose::Style)
}

/// Styling a component means styling what it renders; removing it means removing its use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Style,
    Remove,
}

fn resolve_for(
    code: &str,
    model: &SceneModel,
    part: &Part,
    purpose: Purpose,
) -> Result<Vec<usize>, String> {
    let found: Vec<usize> = match part {
        Part::Title => model.title().into_iter().collect(),
        Part::Background => model.root().into_iter().collect(),
        Part::Subtitle => {
            let title = model.title();
            mention(
                code,
                model,
                &[
                    "subtitle",
                    "subline",
                    "subheading",
                    "tagline",
                    "caption",
                    "description",
                ],
            )
            .or_else(|| {
                (0..model.elements.len())
                    .find(|&i| model.elements[i].name == "p" && Some(i) != title)
            })
            .into_iter()
            .collect()
        }
        Part::Button => {
            let dom = model.elements.iter().position(|e| e.name == "button");
            let is_button =
                |name: &str| name.ends_with("Button") || name == "Cta" || name.ends_with("CTA");
            let usage = || model.elements.iter().position(|e| is_button(&e.name));
            let inner = || model.component_root(is_button);
            let found = match purpose {
                Purpose::Style => dom.or_else(inner).or_else(usage),
                Purpose::Remove => dom.or_else(usage).or_else(inner),
            };
            found
                .or_else(|| mention(code, model, &["button", "cta"]))
                .into_iter()
                .collect()
        }
        Part::AllText => model
            .elements
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.texts.is_empty() || !e.dynamic_texts.is_empty())
            .map(|(i, _)| i)
            .collect(),
        Part::Named(word) => {
            let itself = [word.as_str()];
            let synonyms: &[&str] = match word.as_str() {
                "image" | "photo" | "picture" | "screenshot" => {
                    &["img", "image", "photo", "picture", "screenshot"]
                }
                "bullet" | "bullets" => &["bullet"],
                _ => &itself,
            };
            mention(code, model, synonyms).into_iter().collect()
        }
        Part::WithText(text) => {
            let wanted = words::collapse(text).to_lowercase();
            let exact = model
                .elements
                .iter()
                .position(|e| e.texts.iter().any(|t| t.text.to_lowercase() == wanted));
            exact
                .or_else(|| {
                    model.elements.iter().position(|e| {
                        e.texts
                            .iter()
                            .any(|t| t.text.to_lowercase().contains(&wanted))
                    })
                })
                .into_iter()
                .collect()
        }
    };
    if found.is_empty() {
        return Err(format!("no {} found in the scene", part.label()));
    }
    Ok(found)
}

/// The first element (not the root) whose tag name or opening tag mentions one of `needles`:
/// `<Img src={staticFile("logo.png")}>`, `<div style={{ opacity: subtitleOpacity }}>`.
fn mention(code: &str, model: &SceneModel, needles: &[&str]) -> Option<usize> {
    let root = model.root();
    model.elements.iter().enumerate().find_map(|(i, e)| {
        if Some(i) == root {
            return None;
        }
        let opening = code[e.opening.start..e.opening.end].to_lowercase();
        needles
            .iter()
            .any(|n| opening.contains(n) || e.name.to_lowercase().contains(n))
            .then_some(i)
    })
}

/// The quote style most string literals of the scene use.
fn preferred_quote(model: &SceneModel) -> char {
    let single = model.strings.iter().filter(|s| s.quote == '\'').count();
    let double = model.strings.iter().filter(|s| s.quote == '"').count();
    if double > single { '"' } else { '\'' }
}

/// Sets `key` of an element's style to `value` (already a JS expression), replacing the first
/// of `keys` present or inserting `insert_key`. Returns the patch and the old value.
fn set_style(
    code: &str,
    model: &SceneModel,
    element: &Element,
    keys: &[&str],
    insert_key: &str,
    value: &str,
) -> Result<(Patch, Option<String>), String> {
    match model.style_of(element) {
        Some(object) => {
            if let Some(prop) = keys.iter().find_map(|k| object.prop(k)) {
                let old = match &prop.value {
                    PropValue::Str { text, .. } => text.clone(),
                    PropValue::Named {
                        text: Some(text), ..
                    } => text.clone(),
                    _ => code[prop.value_range.start..prop.value_range.end].to_string(),
                };
                return Ok((Patch::replace(prop.value_range, value), Some(old)));
            }
            Ok((insert_property(code, object, insert_key, value), None))
        }
        None => match &element.style {
            Style::None => Ok((
                Patch::insert(
                    element.name_end,
                    format!(" style={{{{ {insert_key}: {value} }}}}"),
                ),
                None,
            )),
            Style::Reference(name) => Err(format!(
                "the <{}> style `{name}` is not a constant object in this file",
                element.name
            )),
            _ => Err(format!(
                "the <{}> style is computed, not a literal object",
                element.name
            )),
        },
    }
}

/// Inserts `key: value,` as the first property of `object`, matching its layout.
fn insert_property(code: &str, object: &StyleObject, key: &str, value: &str) -> Patch {
    let open = object.range.start + 1;
    match object.props.first() {
        Some(first) if code[open..first.range.start].contains('\n') => {
            let indent = patch::indentation_at(code, first.range.start);
            Patch::insert(open, format!("\n{indent}{key}: {value},"))
        }
        Some(_) => Patch::insert(open, format!(" {key}: {value},")),
        None => Patch::insert(open, format!(" {key}: {value} ")),
    }
}

fn color_patches(
    code: &str,
    model: &SceneModel,
    part: &Part,
    color: &ColorSource,
    ctx: &EditContext<'_>,
) -> Result<(Vec<Patch>, String), String> {
    let (value, how) = match color {
        ColorSource::Literal(c) => (c.clone(), String::new()),
        ColorSource::Named(named) => (named.hex.clone(), format!(" ({})", named.words)),
        ColorSource::Preference(key) => match ctx.preferences.get(*key) {
            Some(v) => (v.clone(), format!(" ({key} preference)")),
            None => match ctx.style.colors.first() {
                // Without a stored brand color, the project's most used color stands in.
                Some(c) if *key == "brand_color" => (
                    c.clone(),
                    " (most used project color; no brand_color preference)".to_string(),
                ),
                _ => return Err(format!("no {key} is stored in project memory")),
            },
        },
    };
    let (keys, insert_key): (&[&str], &str) = match part {
        Part::Background => (&["backgroundColor", "background"], "backgroundColor"),
        Part::Button => (&["backgroundColor", "background"], "backgroundColor"),
        _ => (&["color"], "color"),
    };
    let quote = preferred_quote(model);
    let literal = js_string(&value, quote);
    let mut patches = Vec::new();
    let mut olds = Vec::new();
    let mut seen_objects = Vec::new();
    for index in resolve(code, model, part)? {
        let element = &model.elements[index];
        if let Some(object) = model.style_of(element) {
            if seen_objects.contains(&object.range) {
                continue;
            }
            seen_objects.push(object.range);
        }
        match set_style(code, model, element, keys, insert_key, &literal) {
            Ok((patch, old)) => {
                patches.push(patch);
                olds.push(old.unwrap_or_else(|| "unset".into()));
            }
            Err(e) if *part != Part::AllText => return Err(e),
            Err(_) => {}
        }
    }
    if patches.is_empty() {
        return Err(format!("no {} style could be changed", part.label()));
    }
    olds.dedup();
    let place = if patches.len() > 1 {
        format!(" ({} elements)", patches.len())
    } else {
        String::new()
    };
    Ok((
        patches,
        format!(
            "{} color {} -> {value}{how}{place}",
            part.label(),
            olds.join(", ")
        ),
    ))
}

fn text_patches(
    code: &str,
    model: &SceneModel,
    part: &Part,
    new_text: &str,
) -> Result<(Vec<Patch>, String), String> {
    if let Part::WithText(old) = part {
        return replace_text_anywhere(code, model, old, new_text);
    }
    let index = resolve(code, model, part)?[0];
    let element = &model.elements[index];
    if let Some((first, rest)) = element.texts.split_first() {
        let mut patches = vec![Patch::replace(
            first.range,
            render_text(new_text, first.kind),
        )];
        patches.extend(rest.iter().map(|t| Patch::replace(t.range, "")));
        let old: Vec<&str> = element.texts.iter().map(|t| t.text.as_str()).collect();
        return Ok((
            patches,
            format!(
                "{} text \"{}\" -> \"{new_text}\"",
                part.label(),
                old.join(" ")
            ),
        ));
    }
    if let Some(name) = element.dynamic_texts.first() {
        if let Some(site) = model.string_consts.get(name) {
            return Ok((
                vec![Patch::replace(site.range, js_string(new_text, site.quote))],
                format!(
                    "{} text \"{}\" -> \"{new_text}\" (constant {name})",
                    part.label(),
                    site.value
                ),
            ));
        }
        return Err(format!(
            "the {} shows `{{{name}}}`, a value passed in from outside this scene's code",
            part.label()
        ));
    }
    Err(format!("the {} has no text to change", part.label()))
}

fn render_text(text: &str, kind: TextKind) -> String {
    match kind {
        TextKind::Jsx => jsx_text(text),
        TextKind::Literal(quote) => js_string(text, quote),
    }
}

/// "change 'A' to 'B'": the JSX text or string literal showing A, wherever it is.
fn replace_text_anywhere(
    code: &str,
    model: &SceneModel,
    old: &str,
    new_text: &str,
) -> Result<(Vec<Patch>, String), String> {
    let wanted = words::collapse(old).to_lowercase();
    for element in &model.elements {
        for site in &element.texts {
            let text = site.text.to_lowercase();
            if text == wanted {
                return Ok((
                    vec![Patch::replace(site.range, render_text(new_text, site.kind))],
                    format!("text \"{}\" -> \"{new_text}\"", site.text),
                ));
            }
            if site.kind == TextKind::Jsx && text.contains(&wanted) {
                let raw = &code[site.range.start..site.range.end];
                let found = raw.to_lowercase().find(&old.to_lowercase()).filter(|&at| {
                    raw.get(at..at + old.len())
                        .is_some_and(|s| s.to_lowercase() == old.to_lowercase())
                });
                if let Some(at) = found {
                    let range = Range {
                        start: site.range.start + at,
                        end: site.range.start + at + old.len(),
                    };
                    return Ok((
                        vec![Patch::replace(range, jsx_text(new_text))],
                        format!("text \"{old}\" -> \"{new_text}\" in \"{}\"", site.text),
                    ));
                }
            }
        }
    }
    if let Some(site) = model
        .strings
        .iter()
        .find(|s| words::collapse(&s.value).to_lowercase() == wanted)
    {
        return Ok((
            vec![Patch::replace(site.range, js_string(new_text, site.quote))],
            format!("text \"{}\" -> \"{new_text}\"", site.value),
        ));
    }
    Err(format!("the text \"{old}\" does not appear in the scene"))
}

fn font_patches(
    code: &str,
    model: &SceneModel,
    part: &Part,
    font: &FontSource,
    ctx: &EditContext<'_>,
) -> Result<(Vec<Patch>, String), String> {
    let family = match font {
        FontSource::Literal(f) => f.clone(),
        FontSource::Preference(key) => ctx
            .preferences
            .get(*key)
            .cloned()
            .or_else(|| ctx.style.fonts.first().cloned())
            .ok_or_else(|| format!("no {key} is stored in project memory"))?,
    };
    let family = crate::analysis::first_family(&family).unwrap_or(family);
    let quote = preferred_quote(model);
    // Every style object declaring a font, or just the named part's.
    let objects: Vec<&StyleObject> = if *part == Part::AllText {
        let mut objects: Vec<&StyleObject> = model
            .elements
            .iter()
            .filter_map(|e| model.style_of(e))
            .chain(model.objects.values())
            .filter(|o| o.prop("fontFamily").is_some())
            .collect();
        objects.sort_by_key(|o| o.range);
        objects.dedup_by_key(|o| o.range);
        objects
    } else {
        let mut objects: Vec<&StyleObject> = resolve(code, model, part)?
            .into_iter()
            .filter_map(|i| model.style_of(&model.elements[i]))
            .collect();
        objects.dedup_by_key(|o| o.range);
        objects
    };
    let mut patches = Vec::new();
    let mut olds = Vec::new();
    for object in &objects {
        let old = match object.prop("fontFamily").map(|p| (&p.value, p.value_range)) {
            Some((
                PropValue::Str { text, .. }
                | PropValue::Named {
                    text: Some(text), ..
                },
                range,
            )) => Some((text.clone(), range)),
            Some((_, range)) => Some((code[range.start..range.end].to_string(), range)),
            None => None,
        };
        match old {
            Some((old, range)) => {
                let fallback = old.find(',').map(|i| &old[i..]).unwrap_or("");
                patches.push(Patch::replace(
                    range,
                    js_string(&format!("{family}{fallback}"), quote),
                ));
                olds.push(crate::analysis::first_family(&old).unwrap_or(old));
            }
            None => {
                patches.push(insert_property(
                    code,
                    object,
                    "fontFamily",
                    &js_string(&family, quote),
                ));
                olds.push("unset".into());
            }
        }
    }
    if patches.is_empty() {
        // The part has no style object at all: give it one.
        let index = resolve(code, model, part)?[0];
        let element = &model.elements[index];
        let (patch, _) = set_style(
            code,
            model,
            element,
            &["fontFamily"],
            "fontFamily",
            &js_string(&family, quote),
        )?;
        patches.push(patch);
        olds.push("unset".into());
    }
    olds.sort();
    olds.dedup();
    let place = if patches.len() > 1 {
        format!(" ({} places)", patches.len())
    } else {
        String::new()
    };
    Ok((
        patches,
        format!(
            "{} font {} -> {family}{place}",
            part.label(),
            olds.join(", ")
        ),
    ))
}

#[derive(Debug, Clone, Copy)]
enum SizeChange {
    Scale(f64),
    Set(f64),
}

fn size_patches(
    code: &str,
    model: &SceneModel,
    part: &Part,
    change: SizeChange,
) -> Result<(Vec<Patch>, String), String> {
    let index = resolve(code, model, part)?[0];
    let element = &model.elements[index];
    let format_size = |n: f64| {
        let rounded = n.round();
        if (n - rounded).abs() < 1e-9 {
            format!("{rounded}")
        } else {
            format!("{n:.1}")
        }
    };
    let prop = model.style_of(element).and_then(|o| o.prop("fontSize"));
    let (old, new_value, patch) = match (prop, change) {
        (Some(prop), change) => {
            let (old, quote) = match &prop.value {
                PropValue::Num(n) => (*n, None),
                PropValue::Str { text, quote } => match crate::analysis::parse_px(text) {
                    Some(n) => (n, Some(*quote)),
                    None => {
                        return Err(format!(
                            "the {} font size \"{text}\" is not in pixels",
                            part.label()
                        ));
                    }
                },
                _ => {
                    return Err(format!(
                        "the {} font size `{}` is computed, not a number",
                        part.label(),
                        &code[prop.value_range.start..prop.value_range.end]
                    ));
                }
            };
            let new = match change {
                SizeChange::Scale(factor) => (old * factor).round().max(1.0),
                SizeChange::Set(size) => size,
            };
            let text = match quote {
                Some(q) => js_string(&format!("{}px", format_size(new)), q),
                None => format_size(new),
            };
            (
                format_size(old),
                new,
                Patch::replace(prop.value_range, text),
            )
        }
        (None, SizeChange::Set(size)) => {
            let (patch, _) = set_style(
                code,
                model,
                element,
                &["fontSize"],
                "fontSize",
                &format_size(size),
            )?;
            ("unset".to_string(), size, patch)
        }
        (None, SizeChange::Scale(_)) => {
            return Err(format!("the {} has no font size to scale", part.label()));
        }
    };
    Ok((
        vec![patch],
        format!(
            "{} font size {old} -> {}",
            part.label(),
            format_size(new_value)
        ),
    ))
}

fn add_patches(
    code: &str,
    model: &SceneModel,
    kind: AddKind,
    text: &str,
    ctx: &EditContext<'_>,
) -> Result<(Vec<Patch>, String), String> {
    let root_index = model
        .root()
        .ok_or("the scene has no root element to add to")?;
    let root = &model.elements[root_index];
    let Some(closing) = root.closing_start else {
        return Err(format!(
            "the root <{}> has no children to add to",
            root.name
        ));
    };
    let quote = preferred_quote(model);
    let title = model.title().map(|i| &model.elements[i]);
    let subtitle = resolve(code, model, &Part::Subtitle)
        .ok()
        .map(|v| &model.elements[v[0]]);
    let style_str = |element: Option<&Element>, key: &str| -> Option<String> {
        match &model.style_of(element?)?.prop(key)?.value {
            PropValue::Str { text, .. }
            | PropValue::Named {
                text: Some(text), ..
            } => Some(text.clone()),
            _ => None,
        }
    };
    let title_size = title.and_then(|t| model.font_size(t));
    let hint_font = ctx.style.fonts.first().cloned();
    let body_font = ctx.preferences.get("body_font").cloned();
    let light_text = ctx
        .style
        .colors
        .iter()
        .find(|c| words::luminance(c).is_some_and(|l| l > 0.6))
        .cloned();
    let (tag, props): (&str, Vec<(&str, String)>) = match kind {
        AddKind::Subtitle => {
            let reference = subtitle.or(title);
            let font = style_str(subtitle, "fontFamily")
                .or(body_font)
                .or_else(|| style_str(title, "fontFamily"))
                .or(hint_font)
                .unwrap_or_else(|| "Inter, sans-serif".into());
            let size = subtitle
                .and_then(|s| model.font_size(s))
                .or(title_size.map(|t| (t * 0.4).round().max(24.0)))
                .unwrap_or(36.0);
            let color = style_str(reference, "color")
                .or(light_text)
                .unwrap_or_else(|| "#FFFFFF".into());
            (
                "p",
                vec![
                    ("fontFamily", js_string(&font, quote)),
                    ("fontSize", format!("{size}")),
                    ("color", js_string(&color, quote)),
                    ("marginTop", "24".into()),
                ],
            )
        }
        AddKind::Heading => {
            let font = style_str(title, "fontFamily")
                .or_else(|| ctx.preferences.get("heading_font").cloned())
                .or(hint_font)
                .unwrap_or_else(|| "Inter, sans-serif".into());
            let size = title_size.map(|t| (t * 0.75).round()).unwrap_or(64.0);
            let color = style_str(title, "color")
                .or(light_text)
                .unwrap_or_else(|| "#FFFFFF".into());
            (
                "h2",
                vec![
                    ("fontFamily", js_string(&font, quote)),
                    ("fontSize", format!("{size}")),
                    ("fontWeight", "700".into()),
                    ("color", js_string(&color, quote)),
                    ("margin", js_string("24px 0 0", quote)),
                ],
            )
        }
        AddKind::Button => {
            let brand = ctx
                .preferences
                .get("brand_color")
                .cloned()
                .or_else(|| ctx.style.colors.first().cloned())
                .unwrap_or_else(|| "#2563EB".into());
            let font = style_str(subtitle, "fontFamily")
                .or(body_font)
                .or(hint_font)
                .unwrap_or_else(|| "Inter, sans-serif".into());
            (
                "div",
                vec![
                    ("marginTop", "40".into()),
                    ("padding", js_string("20px 48px", quote)),
                    ("borderRadius", "999".into()),
                    ("backgroundColor", js_string(&brand, quote)),
                    ("color", js_string("#FFFFFF", quote)),
                    ("fontFamily", js_string(&font, quote)),
                    ("fontSize", "36".into()),
                    ("fontWeight", "700".into()),
                ],
            )
        }
    };
    let insert_at;
    let rendered;
    match patch::blank_line_start(code, closing) {
        Some(line_start) => {
            let base = patch::indentation_at(code, closing);
            let indent = format!("{base}  ");
            let mut out = format!("{indent}<{tag}\n{indent}  style={{{{\n");
            for (key, value) in &props {
                out.push_str(&format!("{indent}    {key}: {value},\n"));
            }
            out.push_str(&format!(
                "{indent}  }}}}\n{indent}>\n{indent}  {}\n{indent}</{tag}>\n",
                jsx_text(text)
            ));
            insert_at = line_start;
            rendered = out;
        }
        None => {
            let inline: Vec<String> = props.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            insert_at = closing;
            rendered = format!(
                "<{tag} style={{{{ {} }}}}>{}</{tag}>",
                inline.join(", "),
                jsx_text(text)
            );
        }
    }
    let what = match kind {
        AddKind::Subtitle => "subtitle",
        AddKind::Heading => "heading",
        AddKind::Button => "button",
    };
    Ok((
        vec![Patch::insert(insert_at, rendered)],
        format!("added {what} <{tag}> \"{text}\" to <{}>", root.name),
    ))
}

fn remove_patches(
    code: &str,
    model: &SceneModel,
    part: &Part,
) -> Result<(Vec<Patch>, String), String> {
    if *part == Part::Background {
        return Err("the background is the scene itself; change its color instead".into());
    }
    let mut index = resolve_for(code, model, part, Purpose::Remove)?[0];
    if Some(index) == model.root() {
        return Err(format!(
            "the {} is the whole scene; delete the scene instead",
            part.label()
        ));
    }
    // A wrapper that only holds this element goes with it: `<Sequence><Logo /></Sequence>`.
    while let Some(parent) = model.elements[index].parent {
        let wrapper = &model.elements[parent];
        let is_wrapper = wrapper.name == "Sequence" || wrapper.name.ends_with(".Sequence");
        if is_wrapper && wrapper.non_blank_children == 1 && Some(parent) != model.root() {
            index = parent;
        } else {
            break;
        }
    }
    let element = &model.elements[index];
    let patch = if element.direct_child {
        // Remove whole lines when the element sits on lines of its own.
        let rest = &code[element.range.end..];
        let trailing = rest.find('\n').filter(|&n| rest[..n].trim().is_empty());
        match (patch::blank_line_start(code, element.range.start), trailing) {
            (Some(start), Some(n)) => Patch::replace(
                Range {
                    start,
                    end: element.range.end + n + 1,
                },
                "",
            ),
            _ => Patch::replace(element.range, ""),
        }
    } else {
        // Inside an expression (`{show && <Logo />}`): leave a valid value behind.
        Patch::replace(element.range, "null")
    };
    let texts: Vec<&str> = element.texts.iter().map(|t| t.text.as_str()).collect();
    let shown = if texts.is_empty() {
        String::new()
    } else {
        format!(" \"{}\"", texts.join(" "))
    };
    Ok((
        vec![patch],
        format!("removed the {} <{}>{shown}", part.label(), element.name),
    ))
}
