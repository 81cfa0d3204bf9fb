//! Constant values in scene code: literals, simple arithmetic and the `const`s they refer to.
//!
//! Scenes often name their numbers and strings (`const DURATION = 5 * FPS;`,
//! `const FONT = "Inter, sans-serif";`); resolving those keeps the analysis from missing a value
//! only because it was given a name.

use std::collections::HashMap;

use oxc_ast::ast::{
    BinaryOperator, BindingPattern, Expression, ObjectPropertyKind, Program, UnaryOperator,
    VariableDeclarationKind, VariableDeclarator,
};

use super::walk::{Visitor, walk_program};

/// Object keys whose string values are shown on screen when an array of such objects is
/// mapped into JSX (`[{title: "Fast"}].map(...)`).
pub(crate) const TEXT_KEYS: &[&str] = &[
    "text",
    "title",
    "label",
    "subtitle",
    "heading",
    "headline",
    "caption",
    "description",
    "name",
];

/// The `const` bindings of a program that hold constant numbers, strings or lists of strings.
#[derive(Debug, Default)]
pub struct Consts {
    pub numbers: HashMap<String, f64>,
    pub strings: HashMap<String, String>,
    /// Visible strings of constant arrays: string elements, and text-like properties of object
    /// elements (see [`TEXT_KEYS`]).
    pub string_lists: HashMap<String, Vec<String>>,
}

impl Consts {
    /// Collects every `const name = <constant>` of `program`, in source order, so a constant may
    /// use the ones declared before it. The first binding of a name wins (the module-level one
    /// comes first in scene files).
    pub fn collect(program: &Program<'_>) -> Consts {
        let mut collector = Collector {
            consts: Consts::default(),
        };
        walk_program(&mut collector, program);
        collector.consts
    }
}

struct Collector {
    consts: Consts,
}

impl<'a> Visitor<'a> for Collector {
    fn variable_declarator(
        &mut self,
        decl: &VariableDeclarator<'a>,
        kind: VariableDeclarationKind,
        _top_level: bool,
    ) {
        if kind != VariableDeclarationKind::Const {
            return;
        }
        let (BindingPattern::BindingIdentifier(id), Some(init)) = (&decl.id, &decl.init) else {
            return;
        };
        let name = id.name.as_str().to_string();
        if let Some(n) = eval_number(init, &self.consts) {
            self.consts.numbers.entry(name).or_insert(n);
        } else if let Some(s) = literal_string(init, &self.consts) {
            self.consts.strings.entry(name).or_insert(s);
        } else if let Expression::ArrayExpression(_) = unwrap(init) {
            let texts = array_texts(init);
            if !texts.is_empty() {
                self.consts
                    .string_lists
                    .entry(name)
                    .or_insert_with(|| texts.into_iter().map(|(s, _)| s).collect());
            }
        }
    }
}

/// Strips what does not change a value: parentheses, `as const`, `satisfies T`, `x!`, `<T>x`.
pub(crate) fn unwrap<'e, 'a>(mut expr: &'e Expression<'a>) -> &'e Expression<'a> {
    loop {
        expr = match expr {
            Expression::ParenthesizedExpression(e) => &e.expression,
            Expression::TSAsExpression(e) => &e.expression,
            Expression::TSSatisfiesExpression(e) => &e.expression,
            Expression::TSNonNullExpression(e) => &e.expression,
            Expression::TSTypeAssertion(e) => &e.expression,
            other => return other,
        };
    }
}

/// The number `expr` always evaluates to: numeric literals, `+ - * /` over them, unary
/// minus, and names of numeric constants.
pub(crate) fn eval_number(expr: &Expression<'_>, consts: &Consts) -> Option<f64> {
    let value = match unwrap(expr) {
        Expression::NumericLiteral(n) => n.value,
        Expression::UnaryExpression(u) => match u.operator {
            UnaryOperator::UnaryNegation => -eval_number(&u.argument, consts)?,
            UnaryOperator::UnaryPlus => eval_number(&u.argument, consts)?,
            _ => return None,
        },
        Expression::BinaryExpression(b) => {
            let left = eval_number(&b.left, consts)?;
            let right = eval_number(&b.right, consts)?;
            match b.operator {
                BinaryOperator::Addition => left + right,
                BinaryOperator::Subtraction => left - right,
                BinaryOperator::Multiplication => left * right,
                BinaryOperator::Division if right != 0.0 => left / right,
                _ => return None,
            }
        }
        Expression::Identifier(id) => *consts.numbers.get(id.name.as_str())?,
        _ => return None,
    };
    value.is_finite().then_some(value)
}

/// The string `expr` always evaluates to: a string literal, a template without
/// interpolations, or the name of a string constant.
pub(crate) fn literal_string(expr: &Expression<'_>, consts: &Consts) -> Option<String> {
    match unwrap(expr) {
        Expression::StringLiteral(s) => Some(s.value.as_str().to_string()),
        Expression::TemplateLiteral(t) if t.expressions.is_empty() => t.quasis.first().map(|q| {
            q.value
                .cooked
                .as_ref()
                .map_or(q.value.raw.as_str(), |c| c.as_str())
                .to_string()
        }),
        Expression::Identifier(id) => consts.strings.get(id.name.as_str()).cloned(),
        _ => None,
    }
}

/// Whether `expr` is a fixed value rather than driven by something (a frame, a spring, a
/// prop): literals, arithmetic over them and names of constants.
pub(crate) fn is_constant(expr: &Expression<'_>, consts: &Consts) -> bool {
    match unwrap(expr) {
        Expression::BooleanLiteral(_) | Expression::NullLiteral(_) => true,
        other => eval_number(other, consts).is_some() || literal_string(other, consts).is_some(),
    }
}

/// The visible strings of an array literal with the byte offset where each literal starts:
/// string elements, and the text-like properties of object elements.
pub(crate) fn array_texts(expr: &Expression<'_>) -> Vec<(String, u32)> {
    let Expression::ArrayExpression(array) = unwrap(expr) else {
        return Vec::new();
    };
    let mut texts = Vec::new();
    for element in &array.elements {
        let Some(element) = element.as_expression() else {
            continue;
        };
        match unwrap(element) {
            Expression::StringLiteral(s) => {
                texts.push((s.value.as_str().to_string(), s.span.start))
            }
            Expression::ObjectExpression(object) => {
                for property in &object.properties {
                    let ObjectPropertyKind::ObjectProperty(prop) = property else {
                        continue;
                    };
                    let is_text_key = prop
                        .key
                        .static_name()
                        .is_some_and(|k| TEXT_KEYS.contains(&k.as_ref()));
                    if let (true, Expression::StringLiteral(s)) = (is_text_key, unwrap(&prop.value))
                    {
                        texts.push((s.value.as_str().to_string(), s.span.start));
                    }
                }
            }
            _ => {}
        }
    }
    texts
}
