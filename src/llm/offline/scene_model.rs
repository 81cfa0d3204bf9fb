//! Where things are in a scene's TSX: elements, their style objects and texts, the declared
//! duration and frame-driven timings, all as byte spans into the code.
//!
//! Edits are made by replacing exactly these spans, so everything the edit does not touch
//! stays byte-for-byte as it was.

use std::collections::{HashMap, HashSet};

use oxc_allocator::Allocator;
use oxc_ast::ast::{
    BindingPattern, Expression, JSXAttribute, JSXAttributeItem, JSXAttributeValue, JSXChild,
    JSXElement, JSXOpeningElement, ObjectExpression, ObjectProperty, ObjectPropertyKind,
    VariableDeclarationKind, VariableDeclarator,
};
use oxc_parser::Parser;
use oxc_span::{GetSpan, SourceType, Span};

use crate::analysis::values::{Consts, eval_number, unwrap};
use crate::analysis::walk::{Visitor, walk_program};

/// A half-open byte range `[start, end)` of the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Range {
    pub start: usize,
    pub end: usize,
}

impl From<Span> for Range {
    fn from(span: Span) -> Self {
        Range {
            start: span.start as usize,
            end: span.end as usize,
        }
    }
}

/// A constant number written as a literal, with where it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct NumberSite {
    pub range: Range,
    pub value: f64,
}

/// The value of a style property, as far as an edit needs to know it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum PropValue {
    /// A string literal (or a template without interpolations); `quote` is its delimiter.
    Str {
        text: String,
        quote: char,
    },
    Num(f64),
    /// An identifier naming a constant string, e.g. `color: BRAND`.
    Named {
        name: String,
        text: Option<String>,
    },
    /// Anything driven by an expression.
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Prop {
    pub key: String,
    /// The whole `key: value`.
    pub range: Range,
    pub value_range: Range,
    pub value: PropValue,
}

/// An object literal used as a style.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct StyleObject {
    /// From `{` to `}` inclusive.
    pub range: Range,
    pub props: Vec<Prop>,
}

impl StyleObject {
    pub fn prop(&self, key: &str) -> Option<&Prop> {
        self.props.iter().find(|p| p.key == key)
    }
}

/// How an element's `style` attribute is given.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Style {
    None,
    Inline(StyleObject),
    /// `style={titleStyle}` or `style={styles.title}`: resolved against top-level constants.
    Reference(String),
    /// `style={props.style}` and the like: cannot be edited here.
    Dynamic,
}

/// How a piece of visible text is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TextKind {
    /// JSX text between tags (escaped with entities).
    Jsx,
    /// A string literal child, `{"Hello"}`, delimited by this quote.
    Literal(char),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct TextSite {
    /// The text without surrounding whitespace.
    pub range: Range,
    /// Whitespace collapsed, entities decoded.
    pub text: String,
    pub kind: TextKind,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Element {
    pub name: String,
    pub range: Range,
    /// The opening tag, `<name ...>` or `<name ... />`.
    pub opening: Range,
    /// Offset just after the tag name, where an attribute can be inserted.
    pub name_end: usize,
    /// Start of `</name>`; `None` when self-closing.
    pub closing_start: Option<usize>,
    pub parent: Option<usize>,
    /// True when the element sits directly between its parent's tags (not inside `{...}`).
    pub direct_child: bool,
    pub style: Style,
    pub texts: Vec<TextSite>,
    /// `{name}` children: text that comes from a variable or prop.
    pub dynamic_texts: Vec<String>,
    /// Number of child elements and non-blank children of any kind.
    pub child_elements: usize,
    pub non_blank_children: usize,
}

/// A `<Sequence from={..} durationInFrames={..}>`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SequenceSite {
    /// `None` when `from` is absent (0) ...
    pub from: Option<NumberSite>,
    /// ... and true when it is present but not a literal.
    pub from_dynamic: bool,
    pub duration: Option<NumberSite>,
}

/// A string literal anywhere in the code.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct StringSite {
    pub range: Range,
    pub value: String,
    pub quote: char,
}

/// Everything an edit can locate in one scene.
#[derive(Debug, Default)]
pub(super) struct SceneModel {
    pub elements: Vec<Element>,
    /// Top-level object constants usable as styles: `name` and `name.key` for nested objects.
    pub objects: HashMap<String, StyleObject>,
    /// Top-level `const *DURATION* = <number>`.
    pub duration_consts: Vec<NumberSite>,
    /// `durationInFrames` literals outside `<Sequence>` (config objects, compositions).
    pub duration_props: Vec<NumberSite>,
    pub sequences: Vec<SequenceSite>,
    /// Input ranges of `interpolate(frame, [a, b, ...], ...)` written as literals.
    pub frame_ranges: Vec<Vec<NumberSite>>,
    /// Top-level string constants: name -> literal.
    pub string_consts: HashMap<String, StringSite>,
    pub strings: Vec<StringSite>,
    /// Where the import block ends (0 if there are no imports).
    pub imports_end: usize,
    /// Top-level components declared as `const Name = () => ...`: name and the function's range.
    pub components: Vec<(String, Range)>,
}

impl SceneModel {
    /// Parses `code` (TSX) and locates everything. `Err` with the parser's first message if the
    /// code does not parse cleanly: edits are only made on well-formed code.
    pub fn build(code: &str) -> Result<SceneModel, String> {
        let allocator = Allocator::default();
        let parsed = Parser::new(&allocator, code, SourceType::tsx()).parse();
        if let Some(error) = parsed.diagnostics.errors().next() {
            return Err(format!(
                "the scene's code does not parse: {}",
                error.message
            ));
        }
        if parsed.panicked {
            return Err("the scene's code does not parse".to_string());
        }
        let consts = Consts::collect(&parsed.program);
        let mut builder = Builder {
            code,
            consts: &consts,
            model: SceneModel::default(),
            stack: Vec::new(),
            direct_children: HashSet::new(),
        };
        walk_program(&mut builder, &parsed.program);
        let mut model = builder.model;
        model.imports_end = parsed
            .program
            .body
            .iter()
            .filter(|s| matches!(s, oxc_ast::ast::Statement::ImportDeclaration(_)))
            .map(|s| s.span().end as usize)
            .max()
            .unwrap_or(0);
        Ok(model)
    }

    /// The style object of an element, resolving `style={name}` / `style={a.b}` references.
    pub fn style_of<'m>(&'m self, element: &'m Element) -> Option<&'m StyleObject> {
        match &element.style {
            Style::Inline(object) => Some(object),
            Style::Reference(name) => self.objects.get(name),
            Style::None | Style::Dynamic => None,
        }
    }

    /// The constant font size of an element, if its style declares one.
    pub fn font_size(&self, element: &Element) -> Option<f64> {
        let prop = self.style_of(element)?.prop("fontSize")?;
        match &prop.value {
            PropValue::Num(n) => Some(*n),
            PropValue::Str { text, .. } => crate::analysis::parse_px(text),
            _ => None,
        }
    }

    /// The element a user calls "the title": the first `h1`, else the first `h2`, else the
    /// text element with the largest constant font size (ignoring one-character texts such as
    /// a big quotation mark or a logo initial).
    pub fn title(&self) -> Option<usize> {
        for tag in ["h1", "h2"] {
            if let Some(i) = self.elements.iter().position(|e| e.name == tag) {
                return Some(i);
            }
        }
        let mut best: Option<(usize, f64)> = None;
        for (i, element) in self.elements.iter().enumerate() {
            let text_len: usize = element.texts.iter().map(|t| t.text.chars().count()).sum();
            if text_len < 2 && element.dynamic_texts.is_empty() {
                continue;
            }
            let Some(size) = self.font_size(element) else {
                continue;
            };
            if best.is_none_or(|(_, s)| size > s) {
                best = Some((i, size));
            }
        }
        best.map(|(i, _)| i)
    }

    /// The scene's root: the first top-level `AbsoluteFill`, else the largest top-level
    /// element of the last component.
    pub fn root(&self) -> Option<usize> {
        let top = || {
            self.elements
                .iter()
                .enumerate()
                .filter(|(_, e)| e.parent.is_none())
        };
        top()
            .find(|(_, e)| e.name == "AbsoluteFill")
            .or_else(|| top().max_by_key(|(_, e)| (e.range.end - e.range.start, e.range.start)))
            .map(|(i, _)| i)
    }

    /// The outermost element returned by a component whose name satisfies `name_matches`
    /// (`const Button = () => <div ...>` gives that `div`).
    pub fn component_root(&self, name_matches: impl Fn(&str) -> bool) -> Option<usize> {
        let (_, range) = self
            .components
            .iter()
            .find(|(name, _)| name_matches(name))?;
        self.elements.iter().position(|e| {
            e.parent.is_none() && e.range.start >= range.start && e.range.end <= range.end
        })
    }
}

struct Builder<'s> {
    code: &'s str,
    consts: &'s Consts,
    model: SceneModel,
    /// Indices of the JSX elements enclosing the current node.
    stack: Vec<usize>,
    /// Start offsets of elements that are direct JSX children of another element.
    direct_children: HashSet<u32>,
}

impl Builder<'_> {
    fn quote_at(&self, offset: u32) -> char {
        self.code[offset as usize..].chars().next().unwrap_or('\'')
    }

    fn style_object(&self, object: &ObjectExpression<'_>) -> StyleObject {
        let mut props = Vec::new();
        for property in &object.properties {
            let ObjectPropertyKind::ObjectProperty(prop) = property else {
                continue;
            };
            if prop.computed {
                continue;
            }
            let Some(key) = prop.key.static_name() else {
                continue;
            };
            props.push(Prop {
                key: key.to_string(),
                range: prop.span.into(),
                value_range: prop.value.span().into(),
                value: self.prop_value(prop),
            });
        }
        StyleObject {
            range: object.span.into(),
            props,
        }
    }

    fn prop_value(&self, prop: &ObjectProperty<'_>) -> PropValue {
        if prop.shorthand {
            return PropValue::Other;
        }
        match unwrap(&prop.value) {
            Expression::StringLiteral(s) => PropValue::Str {
                text: s.value.as_str().to_string(),
                quote: self.quote_at(s.span.start),
            },
            Expression::TemplateLiteral(t) if t.expressions.is_empty() => PropValue::Str {
                text: t
                    .quasis
                    .first()
                    .map(|q| q.value.raw.as_str().to_string())
                    .unwrap_or_default(),
                quote: '`',
            },
            Expression::NumericLiteral(n) => PropValue::Num(n.value),
            Expression::Identifier(id) => PropValue::Named {
                name: id.name.as_str().to_string(),
                text: self.consts.strings.get(id.name.as_str()).cloned(),
            },
            _ => PropValue::Other,
        }
    }

    fn number_site(expr: &Expression<'_>) -> Option<NumberSite> {
        match unwrap(expr) {
            Expression::NumericLiteral(n) => Some(NumberSite {
                range: n.span.into(),
                value: n.value,
            }),
            _ => None,
        }
    }

    fn attribute_expression<'e, 'a>(attribute: &'e JSXAttribute<'a>) -> Option<&'e Expression<'a>> {
        match &attribute.value {
            Some(JSXAttributeValue::ExpressionContainer(container)) => {
                container.expression.as_expression()
            }
            _ => None,
        }
    }

    fn element_style(&self, opening: &JSXOpeningElement<'_>) -> Style {
        for item in &opening.attributes {
            let JSXAttributeItem::Attribute(attribute) = item else {
                continue;
            };
            if crate::analysis::attribute_name(attribute) != Some("style") {
                continue;
            }
            let Some(expr) = Self::attribute_expression(attribute) else {
                return Style::Dynamic;
            };
            return match unwrap(expr) {
                Expression::ObjectExpression(object) => Style::Inline(self.style_object(object)),
                Expression::Identifier(id) => Style::Reference(id.name.as_str().to_string()),
                Expression::StaticMemberExpression(member) => match unwrap(&member.object) {
                    Expression::Identifier(id) => Style::Reference(format!(
                        "{}.{}",
                        id.name.as_str(),
                        member.property.name.as_str()
                    )),
                    _ => Style::Dynamic,
                },
                _ => Style::Dynamic,
            };
        }
        Style::None
    }

    fn sequence_site(opening: &JSXOpeningElement<'_>) -> SequenceSite {
        let mut site = SequenceSite {
            from: None,
            from_dynamic: false,
            duration: None,
        };
        for item in &opening.attributes {
            let JSXAttributeItem::Attribute(attribute) = item else {
                continue;
            };
            let value = Self::attribute_expression(attribute).and_then(Self::number_site);
            match crate::analysis::attribute_name(attribute) {
                Some("from") => {
                    site.from = value;
                    site.from_dynamic = value.is_none();
                }
                Some("durationInFrames") => site.duration = value,
                _ => {}
            }
        }
        site
    }
}

impl<'a> Visitor<'a> for Builder<'_> {
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
        let name = id.name.as_str();
        if name.to_ascii_uppercase().contains("DURATION")
            && let Some(value) = eval_number(init, self.consts)
        {
            // `5 * FPS` counts too; an edit replaces the whole expression with the new number.
            self.model.duration_consts.push(NumberSite {
                range: unwrap(init).span().into(),
                value,
            });
            return;
        }
        match unwrap(init) {
            Expression::ArrowFunctionExpression(_) | Expression::FunctionExpression(_)
                if name.starts_with(|c: char| c.is_ascii_uppercase()) =>
            {
                self.model
                    .components
                    .push((name.to_string(), unwrap(init).span().into()));
            }
            Expression::StringLiteral(s) => {
                self.model.string_consts.insert(
                    name.to_string(),
                    StringSite {
                        range: s.span.into(),
                        value: s.value.as_str().to_string(),
                        quote: self.quote_at(s.span.start),
                    },
                );
            }
            Expression::ObjectExpression(object) => {
                let style = self.style_object(object);
                for property in &object.properties {
                    let ObjectPropertyKind::ObjectProperty(prop) = property else {
                        continue;
                    };
                    if let (Some(key), Expression::ObjectExpression(inner)) =
                        (prop.key.static_name(), unwrap(&prop.value))
                    {
                        let nested = self.style_object(inner);
                        self.model.objects.insert(format!("{name}.{key}"), nested);
                    }
                }
                self.model.objects.insert(name.to_string(), style);
            }
            _ => {}
        }
    }

    fn enter_expression(&mut self, expr: &Expression<'a>) {
        match expr {
            Expression::StringLiteral(s) => self.model.strings.push(StringSite {
                range: s.span.into(),
                value: s.value.as_str().to_string(),
                quote: self.quote_at(s.span.start),
            }),
            Expression::CallExpression(call) => {
                let is_interpolate = matches!(
                    unwrap(&call.callee),
                    Expression::Identifier(id) if id.name.as_str() == "interpolate"
                );
                if !is_interpolate || call.arguments.len() < 2 {
                    return;
                }
                let driven_by_frame = call.arguments[0].as_expression().is_some_and(|e| {
                    matches!(unwrap(e), Expression::Identifier(id) if id.name.as_str() == "frame")
                });
                let Some(Expression::ArrayExpression(range)) =
                    call.arguments[1].as_expression().map(unwrap)
                else {
                    return;
                };
                if !driven_by_frame {
                    return;
                }
                let sites: Option<Vec<NumberSite>> = range
                    .elements
                    .iter()
                    .map(|e| e.as_expression().and_then(Self::number_site))
                    .collect();
                if let Some(sites) = sites.filter(|s| !s.is_empty()) {
                    self.model.frame_ranges.push(sites);
                }
            }
            _ => {}
        }
    }

    fn object_property(&mut self, prop: &ObjectProperty<'a>) {
        if !prop.computed
            && prop.key.static_name().as_deref() == Some("durationInFrames")
            && let Some(site) = Self::number_site(&prop.value)
        {
            self.model.duration_props.push(site);
        }
    }

    fn enter_jsx_element(&mut self, element: &JSXElement<'a>) {
        let opening = &element.opening_element;
        let name = opening.name.to_string();
        if name == "Sequence" || name.ends_with(".Sequence") {
            self.model.sequences.push(Self::sequence_site(opening));
        }
        let non_blank_children = element
            .children
            .iter()
            .filter(|c| !matches!(c, JSXChild::Text(t) if t.value.trim().is_empty()))
            .count();
        let child_elements = element
            .children
            .iter()
            .filter(|c| matches!(c, JSXChild::Element(_)))
            .count();
        let index = self.model.elements.len();
        self.model.elements.push(Element {
            name,
            range: element.span.into(),
            opening: opening.span.into(),
            name_end: opening.name.span().end as usize,
            closing_start: element
                .closing_element
                .as_ref()
                .map(|c| c.span.start as usize),
            parent: self.stack.last().copied(),
            direct_child: self.direct_children.contains(&element.span.start),
            style: self.element_style(opening),
            texts: Vec::new(),
            dynamic_texts: Vec::new(),
            child_elements,
            non_blank_children,
        });
        self.stack.push(index);
    }

    fn leave_jsx_element(&mut self, _element: &JSXElement<'a>) {
        self.stack.pop();
    }

    fn jsx_attribute(&mut self, owner: &JSXOpeningElement<'a>, attribute: &JSXAttribute<'a>) {
        let owner_name = owner.name.to_string();
        if owner_name == "Sequence" || owner_name.ends_with(".Sequence") {
            return;
        }
        if crate::analysis::attribute_name(attribute) == Some("durationInFrames")
            && let Some(site) = Self::attribute_expression(attribute).and_then(Self::number_site)
        {
            self.model.duration_props.push(site);
        }
    }

    fn jsx_child(&mut self, child: &JSXChild<'a>) {
        let Some(&current) = self.stack.last() else {
            return;
        };
        match child {
            JSXChild::Element(element) => {
                self.direct_children.insert(element.span.start);
            }
            JSXChild::Text(text) => {
                let raw = &self.code[text.span.start as usize..text.span.end as usize];
                let trimmed = raw.trim();
                if trimmed.is_empty() {
                    return;
                }
                let leading = raw.len() - raw.trim_start().len();
                let start = text.span.start as usize + leading;
                self.model.elements[current].texts.push(TextSite {
                    range: Range {
                        start,
                        end: start + trimmed.len(),
                    },
                    text: super::words::collapse(&decode_entities(trimmed)),
                    kind: TextKind::Jsx,
                });
            }
            JSXChild::ExpressionContainer(container) => {
                let Some(expr) = container.expression.as_expression() else {
                    return;
                };
                match unwrap(expr) {
                    Expression::StringLiteral(s) => {
                        let quote = self.quote_at(s.span.start);
                        self.model.elements[current].texts.push(TextSite {
                            range: s.span.into(),
                            text: super::words::collapse(s.value.as_str()),
                            kind: TextKind::Literal(quote),
                        });
                    }
                    Expression::Identifier(id) => self.model.elements[current]
                        .dynamic_texts
                        .push(id.name.as_str().to_string()),
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    text.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#39;", "'")
        .replace("&#123;", "{")
        .replace("&#125;", "}")
        .replace("&amp;", "&")
}

/// Escapes text for placement between JSX tags.
pub(super) fn jsx_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '{' => out.push_str("&#123;"),
            '}' => out.push_str("&#125;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A JS string literal of `text` delimited by `quote` (`'`, `"` or a backtick).
pub(super) fn js_string(text: &str, quote: char) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '$' if quote == '`' => out.push_str("\\$"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}
