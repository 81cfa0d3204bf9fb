//! A small read-only walker over the oxc AST.
//!
//! oxc 0.146 keeps its `Visit` trait in the separate `oxc_ast_visit` crate, which is not a
//! dependency; scene code only uses a modest part of the language, so this walker covers the
//! statements and expressions a Remotion scene can contain and calls back at the few node kinds
//! the analysers care about. Nodes it does not descend into (TypeScript types, decorators,
//! assignment patterns) cannot hold JSX, style objects or visible text.

use oxc_ast::ast::{
    Argument, ArrayExpressionElement, ArrowFunctionBody, ChainElement, Class, ClassElement,
    Declaration, ExportDefaultDeclarationKind, Expression, ForStatementInit, ForStatementLeft,
    Function, ImportDeclaration, JSXAttribute, JSXAttributeItem, JSXAttributeValue, JSXChild,
    JSXElement, JSXExpression, JSXOpeningElement, ObjectProperty, ObjectPropertyKind, Program,
    Statement, VariableDeclaration, VariableDeclarationKind, VariableDeclarator,
};

/// Callbacks of [`walk_program`]; every method has an empty default, so a visitor overrides
/// only what it needs. Calls come in source order (pre-order).
pub(crate) trait Visitor<'a> {
    /// A `const`/`let`/`var` binding; `top_level` is true outside any function or class body.
    fn variable_declarator(
        &mut self,
        _decl: &VariableDeclarator<'a>,
        _kind: VariableDeclarationKind,
        _top_level: bool,
    ) {
    }

    /// Any expression, before its children.
    fn enter_expression(&mut self, _expr: &Expression<'a>) {}

    /// A `key: value` property of an object literal, before its value is walked.
    fn object_property(&mut self, _prop: &ObjectProperty<'a>) {}

    /// A JSX element, before its attributes and children.
    fn enter_jsx_element(&mut self, _element: &JSXElement<'a>) {}

    /// A JSX element, after its attributes and children.
    fn leave_jsx_element(&mut self, _element: &JSXElement<'a>) {}

    /// An attribute of `owner`, before an expression value is walked.
    fn jsx_attribute(&mut self, _owner: &JSXOpeningElement<'a>, _attribute: &JSXAttribute<'a>) {}

    /// A child of a JSX element or fragment, before it is walked.
    fn jsx_child(&mut self, _child: &JSXChild<'a>) {}

    /// An `import ... from "..."` declaration.
    fn import_declaration(&mut self, _import: &ImportDeclaration<'a>) {}
}

/// Walks a whole program, calling `visitor` in source order.
pub(crate) fn walk_program<'a, V: Visitor<'a>>(visitor: &mut V, program: &Program<'a>) {
    let mut walker = Walker {
        visitor,
        function_depth: 0,
    };
    walker.statements(&program.body);
}

struct Walker<'v, V> {
    visitor: &'v mut V,
    /// How many function or class bodies enclose the current node (0 = module top level).
    function_depth: usize,
}

impl<'a, V: Visitor<'a>> Walker<'_, V> {
    fn statements(&mut self, statements: &[Statement<'a>]) {
        for statement in statements {
            self.statement(statement);
        }
    }

    fn statement(&mut self, statement: &Statement<'a>) {
        match statement {
            Statement::BlockStatement(block) => self.statements(&block.body),
            Statement::ExpressionStatement(s) => self.expression(&s.expression),
            Statement::IfStatement(s) => {
                self.expression(&s.test);
                self.statement(&s.consequent);
                if let Some(alternate) = &s.alternate {
                    self.statement(alternate);
                }
            }
            Statement::DoWhileStatement(s) => {
                self.statement(&s.body);
                self.expression(&s.test);
            }
            Statement::WhileStatement(s) => {
                self.expression(&s.test);
                self.statement(&s.body);
            }
            Statement::ForStatement(s) => {
                match &s.init {
                    Some(ForStatementInit::VariableDeclaration(decl)) => {
                        self.variable_declaration(decl)
                    }
                    Some(init) => {
                        if let Some(expr) = init.as_expression() {
                            self.expression(expr);
                        }
                    }
                    None => {}
                }
                if let Some(test) = &s.test {
                    self.expression(test);
                }
                if let Some(update) = &s.update {
                    self.expression(update);
                }
                self.statement(&s.body);
            }
            Statement::ForInStatement(s) => {
                self.for_left(&s.left);
                self.expression(&s.right);
                self.statement(&s.body);
            }
            Statement::ForOfStatement(s) => {
                self.for_left(&s.left);
                self.expression(&s.right);
                self.statement(&s.body);
            }
            Statement::LabeledStatement(s) => self.statement(&s.body),
            Statement::ReturnStatement(s) => {
                if let Some(argument) = &s.argument {
                    self.expression(argument);
                }
            }
            Statement::SwitchStatement(s) => {
                self.expression(&s.discriminant);
                for case in &s.cases {
                    if let Some(test) = &case.test {
                        self.expression(test);
                    }
                    self.statements(&case.consequent);
                }
            }
            Statement::ThrowStatement(s) => self.expression(&s.argument),
            Statement::TryStatement(s) => {
                self.statements(&s.block.body);
                if let Some(handler) = &s.handler {
                    self.statements(&handler.body.body);
                }
                if let Some(finalizer) = &s.finalizer {
                    self.statements(&finalizer.body);
                }
            }
            Statement::WithStatement(s) => {
                self.expression(&s.object);
                self.statement(&s.body);
            }
            Statement::ImportDeclaration(import) => self.visitor.import_declaration(import),
            Statement::ExportDeclaration(export) => self.declaration(&export.declaration),
            Statement::ExportDefaultDeclaration(export) => match &export.declaration {
                ExportDefaultDeclarationKind::FunctionDeclaration(function) => {
                    self.function(function)
                }
                ExportDefaultDeclarationKind::ClassDeclaration(class) => self.class(class),
                other => {
                    if let Some(expr) = other.as_expression() {
                        self.expression(expr);
                    }
                }
            },
            other => {
                if let Some(declaration) = other.as_declaration() {
                    self.declaration(declaration);
                }
            }
        }
    }

    fn declaration(&mut self, declaration: &Declaration<'a>) {
        match declaration {
            Declaration::VariableDeclaration(decl) => self.variable_declaration(decl),
            Declaration::FunctionDeclaration(function) => self.function(function),
            Declaration::ClassDeclaration(class) => self.class(class),
            // Type declarations, enums and namespaces hold no scene content.
            _ => {}
        }
    }

    fn for_left(&mut self, left: &ForStatementLeft<'a>) {
        if let ForStatementLeft::VariableDeclaration(decl) = left {
            self.variable_declaration(decl);
        }
    }

    fn variable_declaration(&mut self, decl: &VariableDeclaration<'a>) {
        let top_level = self.function_depth == 0;
        for declarator in &decl.declarations {
            self.visitor
                .variable_declarator(declarator, decl.kind, top_level);
            if let Some(init) = &declarator.init {
                self.expression(init);
            }
        }
    }

    fn function(&mut self, function: &Function<'a>) {
        self.function_depth += 1;
        for param in &function.params.items {
            if let Some(initializer) = &param.initializer {
                self.expression(initializer);
            }
        }
        if let Some(body) = &function.body {
            self.statements(&body.statements);
        }
        self.function_depth -= 1;
    }

    fn class(&mut self, class: &Class<'a>) {
        self.function_depth += 1;
        for element in &class.body.body {
            match element {
                ClassElement::MethodDefinition(method) => self.function(&method.value),
                ClassElement::PropertyDefinition(property) => {
                    if let Some(value) = &property.value {
                        self.expression(value);
                    }
                }
                ClassElement::AccessorProperty(property) => {
                    if let Some(value) = &property.value {
                        self.expression(value);
                    }
                }
                ClassElement::StaticBlock(block) => self.statements(&block.body),
                _ => {}
            }
        }
        self.function_depth -= 1;
    }

    fn arguments(&mut self, arguments: &[Argument<'a>]) {
        for argument in arguments {
            match argument {
                Argument::SpreadElement(spread) => self.expression(&spread.argument),
                other => {
                    if let Some(expr) = other.as_expression() {
                        self.expression(expr);
                    }
                }
            }
        }
    }

    fn expression(&mut self, expr: &Expression<'a>) {
        self.visitor.enter_expression(expr);
        match expr {
            Expression::TemplateLiteral(template) => {
                for inner in &template.expressions {
                    self.expression(inner);
                }
            }
            Expression::ArrayExpression(array) => {
                for element in &array.elements {
                    match element {
                        ArrayExpressionElement::SpreadElement(spread) => {
                            self.expression(&spread.argument)
                        }
                        other => {
                            if let Some(inner) = other.as_expression() {
                                self.expression(inner);
                            }
                        }
                    }
                }
            }
            Expression::ArrowFunctionExpression(arrow) => {
                self.function_depth += 1;
                for param in &arrow.params.items {
                    if let Some(initializer) = &param.initializer {
                        self.expression(initializer);
                    }
                }
                match &arrow.body {
                    ArrowFunctionBody::FunctionBody(body) => self.statements(&body.statements),
                    other => {
                        if let Some(inner) = other.as_expression() {
                            self.expression(inner);
                        }
                    }
                }
                self.function_depth -= 1;
            }
            Expression::AssignmentExpression(assign) => self.expression(&assign.right),
            Expression::AwaitExpression(e) => self.expression(&e.argument),
            Expression::BinaryExpression(e) => {
                self.expression(&e.left);
                self.expression(&e.right);
            }
            Expression::LogicalExpression(e) => {
                self.expression(&e.left);
                self.expression(&e.right);
            }
            Expression::CallExpression(call) => {
                self.expression(&call.callee);
                self.arguments(&call.arguments);
            }
            Expression::NewExpression(call) => {
                self.expression(&call.callee);
                self.arguments(&call.arguments);
            }
            Expression::ChainExpression(chain) => match &chain.expression {
                ChainElement::CallExpression(call) => {
                    self.expression(&call.callee);
                    self.arguments(&call.arguments);
                }
                ChainElement::TSNonNullExpression(e) => self.expression(&e.expression),
                other => {
                    if let Some(member) = other.as_member_expression() {
                        self.expression(member.as_expression());
                    }
                }
            },
            Expression::ClassExpression(class) => self.class(class),
            Expression::ConditionalExpression(e) => {
                self.expression(&e.test);
                self.expression(&e.consequent);
                self.expression(&e.alternate);
            }
            Expression::FunctionExpression(function) => self.function(function),
            Expression::ImportExpression(e) => self.expression(&e.source),
            Expression::ObjectExpression(object) => {
                for property in &object.properties {
                    match property {
                        ObjectPropertyKind::ObjectProperty(prop) => {
                            self.visitor.object_property(prop);
                            if prop.computed
                                && let Some(key) = prop.key.as_expression()
                            {
                                self.expression(key);
                            }
                            self.expression(&prop.value);
                        }
                        ObjectPropertyKind::SpreadProperty(spread) => {
                            self.expression(&spread.argument)
                        }
                    }
                }
            }
            Expression::ParenthesizedExpression(e) => self.expression(&e.expression),
            Expression::SequenceExpression(e) => {
                for inner in &e.expressions {
                    self.expression(inner);
                }
            }
            Expression::TaggedTemplateExpression(e) => {
                self.expression(&e.tag);
                for inner in &e.quasi.expressions {
                    self.expression(inner);
                }
            }
            Expression::UnaryExpression(e) => self.expression(&e.argument),
            Expression::YieldExpression(e) => {
                if let Some(argument) = &e.argument {
                    self.expression(argument);
                }
            }
            Expression::PrivateInExpression(e) => self.expression(&e.right),
            Expression::JSXElement(element) => self.jsx_element(element),
            Expression::JSXFragment(fragment) => self.jsx_children(&fragment.children),
            Expression::TSAsExpression(e) => self.expression(&e.expression),
            Expression::TSSatisfiesExpression(e) => self.expression(&e.expression),
            Expression::TSTypeAssertion(e) => self.expression(&e.expression),
            Expression::TSNonNullExpression(e) => self.expression(&e.expression),
            Expression::TSInstantiationExpression(e) => self.expression(&e.expression),
            Expression::StaticMemberExpression(e) => self.expression(&e.object),
            Expression::ComputedMemberExpression(e) => {
                self.expression(&e.object);
                self.expression(&e.expression);
            }
            Expression::PrivateFieldExpression(e) => self.expression(&e.object),
            // Literals, identifiers, `this`, `super`, meta properties: leaves.
            _ => {}
        }
    }

    fn jsx_element(&mut self, element: &JSXElement<'a>) {
        self.visitor.enter_jsx_element(element);
        let opening = &element.opening_element;
        for item in &opening.attributes {
            match item {
                JSXAttributeItem::Attribute(attribute) => {
                    self.visitor.jsx_attribute(opening, attribute);
                    match &attribute.value {
                        Some(JSXAttributeValue::ExpressionContainer(container)) => {
                            self.jsx_expression(&container.expression)
                        }
                        Some(JSXAttributeValue::Element(inner)) => self.jsx_element(inner),
                        Some(JSXAttributeValue::Fragment(fragment)) => {
                            self.jsx_children(&fragment.children)
                        }
                        Some(JSXAttributeValue::StringLiteral(_)) | None => {}
                    }
                }
                JSXAttributeItem::SpreadAttribute(spread) => self.expression(&spread.argument),
            }
        }
        self.jsx_children(&element.children);
        self.visitor.leave_jsx_element(element);
    }

    fn jsx_children(&mut self, children: &[JSXChild<'a>]) {
        for child in children {
            self.visitor.jsx_child(child);
            match child {
                JSXChild::Text(_) => {}
                JSXChild::Element(element) => self.jsx_element(element),
                JSXChild::Fragment(fragment) => self.jsx_children(&fragment.children),
                JSXChild::ExpressionContainer(container) => {
                    self.jsx_expression(&container.expression)
                }
                JSXChild::Spread(spread) => self.expression(&spread.expression),
            }
        }
    }

    fn jsx_expression(&mut self, expr: &JSXExpression<'a>) {
        if let Some(inner) = expr.as_expression() {
            self.expression(inner);
        }
    }
}
