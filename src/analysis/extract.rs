//! The analysing visitor: one walk over a parsed scene collects everything a
//! [`SceneAnalysis`](super::SceneAnalysis) reports.

use std::collections::{BTreeMap, HashSet};

use oxc_ast::ast::{
    BindingPattern, Expression, JSXAttribute, JSXAttributeItem, JSXAttributeName,
    JSXAttributeValue, JSXChild, JSXElement, JSXOpeningElement, ObjectProperty,
    VariableDeclarationKind, VariableDeclarator,
};
use oxc_span::GetSpan;

use super::colors::{StringRole, colors_in, is_color_property};
use super::values::{Consts, array_texts, eval_number, is_constant, literal_string, unwrap};
use super::walk::Visitor;

/// JSX attributes whose string value is shown on screen (`<Title text="Hello" />`).
const TEXT_ATTRIBUTES: &[&str] = &[
    "text", "title", "label", "subtitle", "heading", "headline", "caption",
];

/// What one walk found, before it becomes a `SceneAnalysis`.
pub(crate) struct Extractor<'s> {
    source: &'s str,
    consts: &'s Consts,
    pub colors: OrderedSet,
    pub fonts: OrderedSet,
    pub font_sizes: Vec<f64>,
    pub texts: OrderedSet,
    pub animations: BTreeMap<String, usize>,
    pub elements: BTreeMap<String, usize>,
    /// Declared durations: `*DURATION*` constants and `durationInFrames` values outside
    /// `<Sequence>` (a composition, a config object).
    pub durations: Vec<f64>,
    /// Where each `<Sequence>` with a constant length ends (`from + durationInFrames`, or the
    /// length alone when `from` is computed): the fallback when nothing is declared.
    pub sequence_ends: Vec<f64>,
    /// Start offsets of string literals that are visible text, so they are not read as colors.
    text_literals: HashSet<u32>,
    /// Start offsets of values of color-bearing properties (`border: "2px solid white"`).
    color_values: HashSet<u32>,
}

/// Strings in first-appearance order without duplicates.
#[derive(Debug, Default)]
pub(crate) struct OrderedSet {
    seen: HashSet<String>,
    pub items: Vec<String>,
}

impl OrderedSet {
    fn insert(&mut self, value: String) {
        if !value.is_empty() && self.seen.insert(value.clone()) {
            self.items.push(value);
        }
    }
}

impl<'s> Extractor<'s> {
    pub fn new(source: &'s str, consts: &'s Consts) -> Self {
        Extractor {
            source,
            consts,
            colors: OrderedSet::default(),
            fonts: OrderedSet::default(),
            font_sizes: Vec::new(),
            texts: OrderedSet::default(),
            animations: BTreeMap::new(),
            elements: BTreeMap::new(),
            durations: Vec::new(),
            sequence_ends: Vec::new(),
            text_literals: HashSet::new(),
            color_values: HashSet::new(),
        }
    }

    fn count_animation(&mut self, kind: &str) {
        *self.animations.entry(kind.to_string()).or_insert(0) += 1;
    }

    fn add_colors(&mut self, text: &str, role: StringRole) {
        for color in colors_in(text, role) {
            self.colors.insert(color);
        }
    }

    fn add_text(&mut self, raw: &str) {
        let collapsed = collapse_whitespace(&decode_entities(raw));
        self.texts.insert(collapsed);
    }

    fn add_font_family(&mut self, value: &str) {
        if let Some(family) = first_family(value) {
            self.fonts.insert(family);
        }
    }

    fn add_font_size(&mut self, expr: &Expression<'_>) {
        let size = eval_number(expr, self.consts)
            .or_else(|| literal_string(expr, self.consts).and_then(|s| parse_px(&s)));
        if let Some(size) = size
            && size > 0.0
            && !self.font_sizes.contains(&size)
        {
            self.font_sizes.push(size);
        }
    }

    /// Handles a style-like `key: value` pair, from an object literal or a JSX attribute.
    fn style_value(&mut self, key: &str, value: &Expression<'_>) {
        if is_color_property(key) {
            self.color_values.insert(unwrap(value).span().start);
        }
        match key {
            "fontFamily" => {
                if let Some(family) = literal_string(value, self.consts) {
                    self.add_font_family(&family);
                }
            }
            "fontSize" => self.add_font_size(value),
            "opacity" | "transform" if !is_constant(value, self.consts) => {
                self.count_animation(key)
            }
            "durationInFrames" => {
                if let Some(frames) = eval_number(value, self.consts) {
                    self.durations.push(frames);
                }
            }
            _ => {}
        }
    }

    /// Visible strings of an expression child: `{"Hello"}`, `{cond ? "A" : "B"}`,
    /// `{show && "Hi"}`, `{["A", "B"].map(...)}`, `{ITEMS.map(...)}`.
    fn child_texts(&mut self, expr: &Expression<'_>) {
        match unwrap(expr) {
            Expression::StringLiteral(s) => {
                self.text_literals.insert(s.span.start);
                self.add_text(s.value.as_str());
            }
            Expression::TemplateLiteral(t) if t.expressions.is_empty() => {
                self.text_literals.insert(t.span.start);
                if let Some(text) = literal_string(expr, self.consts) {
                    self.add_text(&text);
                }
            }
            Expression::ConditionalExpression(c) => {
                self.child_texts(&c.consequent);
                self.child_texts(&c.alternate);
            }
            Expression::LogicalExpression(l) => self.child_texts(&l.right),
            Expression::CallExpression(call) => {
                let Expression::StaticMemberExpression(member) = unwrap(&call.callee) else {
                    return;
                };
                if member.property.name.as_str() != "map" {
                    return;
                }
                match unwrap(&member.object) {
                    Expression::Identifier(id) => {
                        if let Some(list) = self.consts.string_lists.get(id.name.as_str()) {
                            for text in list.clone() {
                                self.add_text(&text);
                            }
                        }
                    }
                    array => {
                        for (text, start) in array_texts(array) {
                            self.text_literals.insert(start);
                            self.add_text(&text);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn sequence_end(&self, opening: &JSXOpeningElement<'_>) -> Option<f64> {
        let mut from = 0.0;
        let mut duration = None;
        for item in &opening.attributes {
            let JSXAttributeItem::Attribute(attribute) = item else {
                continue;
            };
            let value = attribute_number(attribute, self.consts);
            match attribute_name(attribute) {
                // A computed start (`from={i * 20}`): the length alone is a lower bound.
                Some("from") => from = value.unwrap_or(0.0),
                Some("durationInFrames") => duration = value,
                _ => {}
            }
        }
        duration.map(|d| from + d)
    }
}

impl<'a> Visitor<'a> for Extractor<'_> {
    fn variable_declarator(
        &mut self,
        decl: &VariableDeclarator<'a>,
        kind: VariableDeclarationKind,
        top_level: bool,
    ) {
        if kind != VariableDeclarationKind::Const || !top_level {
            return;
        }
        let (BindingPattern::BindingIdentifier(id), Some(init)) = (&decl.id, &decl.init) else {
            return;
        };
        if id.name.as_str().to_ascii_uppercase().contains("DURATION")
            && let Some(frames) = eval_number(init, self.consts)
        {
            self.durations.push(frames);
        }
    }

    fn enter_expression(&mut self, expr: &Expression<'a>) {
        match expr {
            Expression::CallExpression(call) => {
                if let Expression::Identifier(callee) = unwrap(&call.callee) {
                    match callee.name.as_str() {
                        "interpolate" | "interpolateColors" => self.count_animation("interpolate"),
                        "spring" => self.count_animation("spring"),
                        _ => {}
                    }
                }
            }
            Expression::StringLiteral(s) if !self.text_literals.contains(&s.span.start) => {
                let role = self.role_at(s.span.start);
                self.add_colors(s.value.as_str(), role);
            }
            Expression::TemplateLiteral(t) if !self.text_literals.contains(&t.span.start) => {
                let role = self.role_at(t.span.start);
                // The source between the backticks, so a functional color that spans an
                // interpolation (`rgba(0, 0, 0, ${alpha})`) is kept whole.
                let inner = self
                    .source
                    .get(t.span.start as usize + 1..(t.span.end as usize).saturating_sub(1))
                    .unwrap_or("");
                self.add_colors(inner, role);
            }
            _ => {}
        }
    }

    fn object_property(&mut self, prop: &ObjectProperty<'a>) {
        if prop.computed {
            return;
        }
        if let Some(key) = prop.key.static_name() {
            self.style_value(&key, &prop.value);
        }
    }

    fn enter_jsx_element(&mut self, element: &JSXElement<'a>) {
        let name = element.opening_element.name.to_string();
        if is_sequence(&name) {
            self.count_animation("sequence");
            if let Some(end) = self.sequence_end(&element.opening_element) {
                self.sequence_ends.push(end);
            }
        }
        *self.elements.entry(name).or_insert(0) += 1;
    }

    fn jsx_attribute(&mut self, owner: &JSXOpeningElement<'a>, attribute: &JSXAttribute<'a>) {
        let Some(name) = attribute_name(attribute) else {
            return;
        };
        if name == "durationInFrames" && is_sequence(&owner.name.to_string()) {
            // Part of the scene's timing, counted by `sequence_end`, not a declaration.
            return;
        }
        match &attribute.value {
            Some(JSXAttributeValue::StringLiteral(s)) => {
                let value = s.value.as_str();
                if TEXT_ATTRIBUTES.contains(&name) {
                    self.add_text(value);
                    return;
                }
                let role = if is_color_property(name) {
                    StringRole::ColorProperty
                } else {
                    StringRole::Other
                };
                self.add_colors(value, role);
                match name {
                    "fontFamily" => self.add_font_family(value),
                    "fontSize" => {
                        if let Some(size) = parse_px(value)
                            && !self.font_sizes.contains(&size)
                        {
                            self.font_sizes.push(size);
                        }
                    }
                    _ => {}
                }
            }
            Some(JSXAttributeValue::ExpressionContainer(container)) => {
                if let Some(expr) = container.expression.as_expression() {
                    if TEXT_ATTRIBUTES.contains(&name)
                        && let Some(text) = literal_string(expr, self.consts)
                    {
                        self.text_literals.insert(unwrap(expr).span().start);
                        self.add_text(&text);
                        return;
                    }
                    self.style_value(name, expr);
                }
            }
            _ => {}
        }
    }

    fn jsx_child(&mut self, child: &JSXChild<'a>) {
        match child {
            JSXChild::Text(text) => self.add_text(text.value.as_str()),
            JSXChild::ExpressionContainer(container) => {
                if let Some(expr) = container.expression.as_expression() {
                    self.child_texts(expr);
                }
            }
            _ => {}
        }
    }
}

impl Extractor<'_> {
    fn role_at(&self, start: u32) -> StringRole {
        if self.color_values.contains(&start) {
            StringRole::ColorProperty
        } else {
            StringRole::Other
        }
    }
}

/// Whether a JSX element name is Remotion's `<Sequence>` (also `<Series.Sequence>`).
fn is_sequence(name: &str) -> bool {
    name == "Sequence" || name.ends_with(".Sequence")
}

/// The plain name of a JSX attribute (`None` for namespaced names such as `xlink:href`).
pub(crate) fn attribute_name<'n>(attribute: &'n JSXAttribute<'_>) -> Option<&'n str> {
    match &attribute.name {
        JSXAttributeName::Identifier(id) => Some(id.name.as_str()),
        JSXAttributeName::NamespacedName(_) => None,
    }
}

/// The constant number of an attribute: `from={30}`, `durationInFrames={2 * FPS}`.
fn attribute_number(attribute: &JSXAttribute<'_>, consts: &Consts) -> Option<f64> {
    match &attribute.value {
        Some(JSXAttributeValue::ExpressionContainer(container)) => {
            eval_number(container.expression.as_expression()?, consts)
        }
        Some(JSXAttributeValue::StringLiteral(s)) => s.value.as_str().trim().parse().ok(),
        _ => None,
    }
}

/// The first family of a CSS font list: `"'Inter', sans-serif"` -> `Inter`.
pub fn first_family(value: &str) -> Option<String> {
    let first = value.split(',').next()?.trim();
    let unquoted = first.trim_matches(|c| c == '"' || c == '\'').trim();
    (!unquoted.is_empty()).then(|| unquoted.to_string())
}

/// `"48px"` or `"48"` -> 48. Other units (rem, em, %, vw) depend on context and are skipped.
pub fn parse_px(value: &str) -> Option<f64> {
    let trimmed = value.trim();
    let number = trimmed.strip_suffix("px").unwrap_or(trimmed).trim();
    number.parse::<f64>().ok().filter(|n| n.is_finite())
}

pub fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// JSX text keeps HTML entities as written; decode the ones scene authors use.
pub fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    text.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}
