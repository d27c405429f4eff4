//! json-rql `@where` clauses → SPARQL algebra: subjects, arrays, groups (`@graph`, `@union`,
//! `@optional`, `@filter`, `@values`, `@bind`), sub-queries, and the solution modifiers of a
//! select (`@groupBy`, `@having`, aggregates, `@orderBy`, `@distinct`, `@limit`, `@offset`).
//!
//! A subject, an array of patterns and a group's `@graph` are each one conjunction: what
//! matches is joined, then optionals are left-joined, binds extend the rows and filters apply,
//! in SPARQL's group order. A member of an array that is only `@optional`, `@bind` and
//! `@filter` modifies the array's other members (`[A, {"@optional": B}]` keeps the rows of
//! `A` without `B`), as those keys written next to `@graph` do.
//!
//! Owns only pattern composition; must not evaluate patterns or render results.

use crate::error::{JrqlError, abridge};
use crate::expr::{Aggregates, is_constraint};
use crate::pattern::{Mode, Patterns, Translator};
use oxrdf::Variable;
use serde_json::{Map, Value};
use spargebra::algebra::{Expression, GraphPattern, OrderExpression};
use spargebra::term::{GroundTerm, TermPattern, TriplePattern};
use std::collections::HashMap;

/// Up to how many keys [`get`] scans an object rather than hashing the key.
const SCAN_LIMIT: usize = 8;

/// The value of a key of a JSON object. json-rql objects have few keys, and comparing them is
/// cheaper than hashing the one sought.
pub(crate) fn get<'v>(object: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    if object.len() <= SCAN_LIMIT {
        object.iter().find_map(|(k, v)| (k == key).then_some(v))
    } else {
        object.get(key)
    }
}

/// Whether a JSON object has a key (see [`get`]).
pub(crate) fn has(object: &Map<String, Value>, key: &str) -> bool {
    get(object, key).is_some()
}

/// Keys that make an object a read (query) pattern: one of the result clauses that
/// [`crate::ReadKind`] names (the one classifier of requests and sub-queries).
pub(crate) fn is_read(object: &Map<String, Value>) -> bool {
    crate::kind::ReadKind::of_object(object).is_some()
}

/// Keys that make an object a group pattern.
pub(crate) const GROUP_KEYS: [&str; 6] = [
    "@graph",
    "@union",
    "@optional",
    "@filter",
    "@values",
    "@bind",
];

/// Whether an object is a group pattern.
pub(crate) fn is_group(object: &Map<String, Value>) -> bool {
    object
        .keys()
        .any(|k| k.starts_with('@') && GROUP_KEYS.contains(&k.as_str()))
}

/// Keys of a group that modify the patterns beside it rather than match anything themselves.
const MODIFIER_KEYS: [&str; 3] = ["@optional", "@bind", "@filter"];

/// Whether an object is a group of modifiers only (`{"@optional": …}`, `{"@filter": …}`,
/// `{"@bind": …}`, or several of them): in an array, it modifies the array's other members.
fn is_modifier_group(object: &Map<String, Value>) -> bool {
    !object.is_empty() && object.keys().all(|k| MODIFIER_KEYS.contains(&k.as_str()))
}

/// The members of a conjunction, gathered from a subject, an array of patterns or a group.
#[derive(Default)]
struct Conjunction {
    /// Subjects, as one basic pattern with their inline filters.
    subjects: Patterns,
    /// Nested groups, sub-queries, unions and value tables, to join.
    joined: Vec<GraphPattern>,
    /// Optional patterns with their filters (the conditions of their left joins).
    optionals: Vec<(GraphPattern, Vec<Expression>)>,
    /// Variables bound to expressions over the rest.
    binds: Vec<(Variable, Expression)>,
    /// Filters over the whole conjunction.
    filters: Vec<Expression>,
}

/// A basic graph pattern.
pub(crate) fn bgp(patterns: Vec<TriplePattern>) -> GraphPattern {
    GraphPattern::Bgp { patterns }
}

fn is_unit(pattern: &GraphPattern) -> bool {
    matches!(pattern, GraphPattern::Bgp { patterns } if patterns.is_empty())
}

/// The join of two patterns, eliding the empty (unit) pattern.
pub(crate) fn join(left: GraphPattern, right: GraphPattern) -> GraphPattern {
    if is_unit(&left) {
        right
    } else if is_unit(&right) {
        left
    } else {
        GraphPattern::Join {
            left: Box::new(left),
            right: Box::new(right),
        }
    }
}

/// The union of alternatives as a balanced tree (so that evaluation depth grows with the
/// logarithm of their number), if there are any.
pub(crate) fn union_of(mut alternatives: Vec<GraphPattern>) -> Option<GraphPattern> {
    match alternatives.len() {
        0 => None,
        1 => alternatives.pop(),
        n => {
            let right = alternatives.split_off(n / 2);
            Some(GraphPattern::Union {
                left: Box::new(union_of(alternatives)?),
                right: Box::new(union_of(right)?),
            })
        }
    }
}

/// The conjunction of expressions, if any.
pub(crate) fn conjunction(expressions: Vec<Expression>) -> Option<Expression> {
    expressions
        .into_iter()
        .reduce(|a, b| Expression::And(Box::new(a), Box::new(b)))
}

/// The pattern filtered by the conjunction of the expressions (unchanged if there are none).
pub(crate) fn filter(pattern: GraphPattern, expressions: Vec<Expression>) -> GraphPattern {
    match conjunction(expressions) {
        Some(expr) => GraphPattern::Filter {
            expr,
            inner: Box::new(pattern),
        },
        None => pattern,
    }
}

/// Items of a value that may be a single item or an array of them.
pub(crate) fn items(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    }
}

/// What a select projects.
pub(crate) enum Projected {
    /// A variable bound by the pattern.
    Var(Variable),
    /// A variable bound to an expression (possibly of aggregates).
    Expr(Variable, Value),
}

/// The projection of a select result specification, or `None` for `"*"`.
pub(crate) fn parse_result(
    translator: &mut Translator<'_>,
    key: &str,
    result: &Value,
) -> Result<Option<Vec<Projected>>, JrqlError> {
    let named = |translator: &mut Translator<'_>, s: &str| match translator.variable(s) {
        Some(v) if !crate::pattern::is_hidden(&v) => Ok(v),
        _ => Err(JrqlError::bad(format!(
            "{key} must name variables like \"?name\", found {s:?}"
        ))),
    };
    if result.as_str() == Some("*") {
        return Ok(None);
    }
    let mut projected = Vec::new();
    for item in items(result) {
        match item {
            Value::String(s) => projected.push(Projected::Var(named(translator, s)?)),
            Value::Object(expressions) => {
                for (var, expr) in expressions {
                    projected.push(Projected::Expr(named(translator, var)?, expr.clone()));
                }
            }
            other => {
                return Err(JrqlError::bad(format!(
                    "{key} must be \"*\", variables or variable expressions, found {}",
                    abridge(other)
                )));
            }
        }
    }
    Ok(Some(projected))
}

fn check_keys(object: &Map<String, Value>, allowed: &[&str], kind: &str) -> Result<(), JrqlError> {
    for key in object.keys() {
        if allowed.contains(&key.as_str()) {
            continue;
        }
        if key.starts_with('@') {
            return Err(JrqlError::unsupported(
                key.as_str(),
                format!("not supported in {kind}"),
            ));
        }
        return Err(JrqlError::bad(format!(
            "{kind} cannot have the non-keyword key {key:?}"
        )));
    }
    Ok(())
}

/// Keys allowed in a select (or distinct) query besides its result key.
pub(crate) const SELECT_KEYS: [&str; 10] = [
    "@context",
    "@select",
    "@distinct",
    "@where",
    "@values",
    "@orderBy",
    "@groupBy",
    "@having",
    "@limit",
    "@offset",
];

impl Translator<'_> {
    /// A `@where` clause as a graph pattern, its filters applied.
    pub(crate) fn where_clause(&mut self, json: &Value) -> Result<GraphPattern, JrqlError> {
        let (pattern, filters) = self.group_parts(json)?;
        Ok(filter(pattern, filters))
    }

    /// A group's pattern and, separately, its filters (so that an `@optional` can make them
    /// the condition of its left join).
    fn group_parts(&mut self, json: &Value) -> Result<(GraphPattern, Vec<Expression>), JrqlError> {
        match json {
            Value::Object(object) if is_read(object) => Ok((self.subquery(object)?, Vec::new())),
            Value::Object(object) if is_group(object) => self.group(object),
            Value::Null | Value::Object(_) | Value::Array(_) => {
                let mut parts = Conjunction::default();
                self.collect(json, &mut parts)?;
                Ok(Self::conjoin(parts))
            }
            other => Err(JrqlError::bad(format!(
                "expected a subject, group or query pattern, found {}",
                abridge(other)
            ))),
        }
    }

    /// Gathers the members of a conjunction (a subject, or an array of patterns): subjects
    /// into one basic pattern (with their inline filters), nested groups and sub-queries as
    /// separate patterns to join, and the `@optional`, `@bind` and `@filter` of members that
    /// are only those (`[subject, {"@optional": …}]`) as modifiers of the whole conjunction,
    /// as if written next to it in one group: an optional member left-joins the others, so
    /// their rows without it are kept, wherever it stands in the array.
    fn collect(&mut self, json: &Value, into: &mut Conjunction) -> Result<(), JrqlError> {
        match json {
            Value::Null => Ok(()),
            Value::Array(items) => items.iter().try_for_each(|item| self.collect(item, into)),
            Value::Object(object) if is_read(object) => {
                into.joined.push(self.subquery(object)?);
                Ok(())
            }
            Value::Object(object) if is_modifier_group(object) => self.modifiers(object, into),
            Value::Object(object) if is_group(object) => {
                let (pattern, filters) = self.group(object)?;
                into.joined.push(filter(pattern, filters));
                Ok(())
            }
            Value::Object(_) => self.subjects(json, Mode::Match, false, &mut into.subjects),
            other => Err(JrqlError::bad(format!(
                "expected a subject, group or query pattern, found {}",
                abridge(other)
            ))),
        }
    }

    /// The pattern of a conjunction, in the order of SPARQL's group evaluation: joins, then
    /// left joins of the optionals, then binds; and its filters, for the caller to apply.
    fn conjoin(parts: Conjunction) -> (GraphPattern, Vec<Expression>) {
        let Conjunction {
            subjects,
            joined,
            optionals,
            binds,
            filters,
        } = parts;
        let mut pattern = bgp(subjects.triple_patterns());
        for other in joined {
            pattern = join(pattern, other);
        }
        for (right, condition) in optionals {
            pattern = GraphPattern::LeftJoin {
                left: Box::new(pattern),
                right: Box::new(right),
                expression: conjunction(condition),
            };
        }
        for (variable, expression) in binds {
            pattern = GraphPattern::Extend {
                inner: Box::new(pattern),
                variable,
                expression,
            };
        }
        let mut all_filters = subjects.filters;
        all_filters.extend(filters);
        (pattern, all_filters)
    }

    fn group(
        &mut self,
        object: &Map<String, Value>,
    ) -> Result<(GraphPattern, Vec<Expression>), JrqlError> {
        for key in object.keys() {
            match key.as_str() {
                k if GROUP_KEYS.contains(&k) => {}
                "@context" => {
                    return Err(JrqlError::unsupported(
                        "@context",
                        "nested contexts are not supported; put @context at the top level",
                    ));
                }
                k if k.starts_with('@') => {
                    return Err(JrqlError::unsupported(
                        k,
                        "not supported in a group pattern",
                    ));
                }
                k => {
                    return Err(JrqlError::bad(format!(
                        "a group cannot have the property {k:?}; put subjects in @graph"
                    )));
                }
            }
        }
        let mut parts = Conjunction::default();
        if let Some(graph) = object.get("@graph") {
            self.collect(graph, &mut parts)?;
        }
        if let Some(union) = object.get("@union") {
            let mut alternatives = Vec::new();
            for alternative in items(union) {
                alternatives.push(self.where_clause(alternative)?);
            }
            if let Some(alternatives) = union_of(alternatives) {
                parts.joined.push(alternatives);
            }
        }
        if let Some(values) = object.get("@values") {
            let table = self.values_table(values)?;
            parts.joined.push(table);
        }
        self.modifiers(object, &mut parts)?;
        Ok(Self::conjoin(parts))
    }

    /// Adds a group's `@optional`, `@bind` and `@filter` to the conjunction they modify.
    fn modifiers(
        &mut self,
        object: &Map<String, Value>,
        into: &mut Conjunction,
    ) -> Result<(), JrqlError> {
        if let Some(optional) = object.get("@optional") {
            for item in items(optional) {
                let optional = self.group_parts(item)?;
                into.optionals.push(optional);
            }
        }
        if let Some(binds) = object.get("@bind") {
            self.bind_expressions(binds, &mut into.binds)?;
        }
        if let Some(constraints) = object.get("@filter") {
            for constraint in items(constraints) {
                match constraint {
                    Value::Object(c) if is_constraint(constraint) => {
                        let expression = self.constraint(c, &mut None)?;
                        into.filters.push(expression);
                    }
                    Value::Object(c) => {
                        if let Some(key) = c
                            .keys()
                            .find(|k| k.starts_with('@') && !crate::expr::is_operator(k))
                        {
                            return Err(JrqlError::unsupported(
                                key.as_str(),
                                "unknown operator in @filter",
                            ));
                        }
                        return Err(JrqlError::bad(format!(
                            "@filter must be a constraint like {{\"@gt\": [\"?x\", 1]}}, found {}",
                            abridge(constraint)
                        )));
                    }
                    other => {
                        return Err(JrqlError::bad(format!(
                            "@filter must be a constraint like {{\"@gt\": [\"?x\", 1]}}, found {}",
                            abridge(other)
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// An inline data table from `@values`: a variable expression or an array of them.
    pub(crate) fn values_table(&mut self, json: &Value) -> Result<GraphPattern, JrqlError> {
        let mut variables: Vec<Variable> = Vec::new();
        let mut rows: Vec<HashMap<Variable, GroundTerm>> = Vec::new();
        for row in items(json) {
            let Value::Object(row) = row else {
                return Err(JrqlError::bad(format!(
                    "@values must be variable expressions like {{\"?x\": 1}}, found {}",
                    abridge(row)
                )));
            };
            let mut bound = HashMap::new();
            for (key, value) in row {
                let variable = self.named_variable(key, "@values")?;
                if is_constraint(value) {
                    return Err(JrqlError::bad(format!(
                        "cannot use a constraint in @values: {}",
                        abridge(value)
                    )));
                }
                let term = match self.term_value(value)? {
                    TermPattern::NamedNode(n) => GroundTerm::NamedNode(n),
                    TermPattern::Literal(l) => GroundTerm::Literal(l),
                    _ => {
                        return Err(JrqlError::bad(format!(
                            "@values entries must be values or references, found {}",
                            abridge(value)
                        )));
                    }
                };
                if !variables.contains(&variable) {
                    variables.push(variable.clone());
                }
                bound.insert(variable, term);
            }
            rows.push(bound);
        }
        let bindings = rows
            .into_iter()
            .map(|mut row| variables.iter().map(|v| row.remove(v)).collect())
            .collect();
        Ok(GraphPattern::Values {
            variables,
            bindings,
        })
    }

    /// A constant value: a string, number or boolean, reference or value object.
    fn term_value(&mut self, value: &Value) -> Result<TermPattern, JrqlError> {
        match value {
            Value::Object(object) => self.term_expression(object),
            Value::String(s) if crate::pattern::var_token(s).is_some() => Err(JrqlError::bad(
                format!("expected a value, found the variable {s:?}"),
            )),
            Value::String(_) | Value::Number(_) | Value::Bool(_) => self.atom("", None, value),
            other => Err(JrqlError::bad(format!(
                "expected a value, found {}",
                abridge(other)
            ))),
        }
    }

    /// A user variable named by a key (not anonymous).
    pub(crate) fn named_variable(
        &mut self,
        key: &str,
        clause: &str,
    ) -> Result<Variable, JrqlError> {
        match self.variable(key) {
            Some(v) if !crate::pattern::is_hidden(&v) => Ok(v),
            _ => Err(JrqlError::bad(format!(
                "{clause} keys must be variables like \"?name\", found {key:?}"
            ))),
        }
    }

    /// Extends the pattern with `@bind` variable expressions.
    /// The variable expressions of a `@bind`, in order.
    fn bind_expressions(
        &mut self,
        json: &Value,
        out: &mut Vec<(Variable, Expression)>,
    ) -> Result<(), JrqlError> {
        for item in items(json) {
            let Value::Object(binds) = item else {
                return Err(JrqlError::bad(format!(
                    "@bind must be variable expressions like {{\"?x\": {{\"@plus\": [\"?y\", 1]}}}}, found {}",
                    abridge(item)
                )));
            };
            for (key, expression) in binds {
                let variable = self.named_variable(key, "@bind")?;
                let expression = self.expression(expression, &mut None)?;
                out.push((variable, expression));
            }
        }
        Ok(())
    }

    /// A sub-query in a `@where`: only selects are allowed.
    fn subquery(&mut self, object: &Map<String, Value>) -> Result<GraphPattern, JrqlError> {
        if object.contains_key("@context") {
            return Err(JrqlError::unsupported(
                "@context",
                "sub-queries cannot have their own @context",
            ));
        }
        match crate::kind::ReadKind::of_object(object) {
            Some(crate::ReadKind::Select | crate::ReadKind::Distinct) => {
                let (pattern, _) = self.select_query(object)?;
                Ok(pattern)
            }
            other => Err(JrqlError::unsupported(
                other.map_or("@describe", crate::ReadKind::key),
                "only @select sub-queries can be used in a @where",
            )),
        }
    }

    /// A select (or distinct) query as a projected pattern and its projection.
    pub(crate) fn select_query(
        &mut self,
        object: &Map<String, Value>,
    ) -> Result<(GraphPattern, Vec<Variable>), JrqlError> {
        check_keys(object, &SELECT_KEYS, "a select")?;
        let (result_key, result, distinct) = match (object.get("@select"), object.get("@distinct"))
        {
            (Some(result), None | Some(Value::Bool(false))) => ("@select", result, false),
            (Some(result), Some(Value::Bool(true))) => ("@select", result, true),
            (None, Some(result)) if !result.is_boolean() => ("@distinct", result, true),
            (Some(_), Some(other)) => {
                return Err(JrqlError::bad(format!(
                    "@distinct with @select must be a boolean, found {}",
                    abridge(other)
                )));
            }
            _ => return Err(JrqlError::bad("a select needs @select or @distinct")),
        };
        let Some(where_) = object.get("@where") else {
            return Err(JrqlError::unsupported(
                result_key,
                "a select requires a @where clause",
            ));
        };
        let mut pattern = self.where_clause(where_)?;
        if let Some(values) = object.get("@values") {
            pattern = join(pattern, self.values_table(values)?);
        }
        let projection = parse_result(self, result_key, result)?;
        self.solution_modifiers(object, pattern, projection, distinct)
    }

    /// Applies grouping, aggregates, select expressions, ordering, projection, distinct and
    /// slicing, in SPARQL's order.
    pub(crate) fn solution_modifiers(
        &mut self,
        object: &Map<String, Value>,
        mut pattern: GraphPattern,
        projection: Option<Vec<Projected>>,
        distinct: bool,
    ) -> Result<(GraphPattern, Vec<Variable>), JrqlError> {
        let mut aggregates = Aggregates::new();
        let mut group_vars = Vec::new();
        let grouped = object.contains_key("@groupBy");
        if let Some(group_by) = object.get("@groupBy") {
            for item in items(group_by) {
                match item {
                    Value::String(s) if crate::pattern::var_token(s).is_some() => {
                        group_vars.push(self.named_variable(s, "@groupBy")?);
                    }
                    other => {
                        let expression = self.expression(other, &mut None)?;
                        let variable = self.fresh();
                        pattern = GraphPattern::Extend {
                            inner: Box::new(pattern),
                            variable: variable.clone(),
                            expression,
                        };
                        group_vars.push(variable);
                    }
                }
            }
        }
        let mut extends = Vec::new();
        let variables = match projection {
            None => self
                .user_vars
                .iter()
                .filter(|v| !crate::pattern::is_hidden(v))
                .cloned()
                .collect(),
            Some(projected) => {
                let mut variables = Vec::new();
                for item in projected {
                    match item {
                        Projected::Var(v) => variables.push(v),
                        Projected::Expr(v, json) => {
                            let expression = self.expression(&json, &mut Some(&mut aggregates))?;
                            extends.push((v.clone(), expression));
                            variables.push(v);
                        }
                    }
                }
                variables
            }
        };
        let mut having = Vec::new();
        if let Some(h) = object.get("@having") {
            for item in items(h) {
                having.push(self.expression(item, &mut Some(&mut aggregates))?);
            }
        }
        let mut order = Vec::new();
        if let Some(order_by) = object.get("@orderBy") {
            for item in items(order_by) {
                order.push(self.order_expression(item, &mut aggregates)?);
            }
        }
        if grouped || !aggregates.is_empty() {
            pattern = GraphPattern::Group {
                inner: Box::new(pattern),
                variables: group_vars,
                aggregates,
            };
        }
        pattern = filter(pattern, having);
        for (variable, expression) in extends {
            pattern = GraphPattern::Extend {
                inner: Box::new(pattern),
                variable,
                expression,
            };
        }
        if !order.is_empty() {
            pattern = GraphPattern::OrderBy {
                inner: Box::new(pattern),
                expression: order,
            };
        }
        pattern = GraphPattern::Project {
            inner: Box::new(pattern),
            variables: variables.clone(),
        };
        if distinct {
            pattern = GraphPattern::Distinct {
                inner: Box::new(pattern),
            };
        }
        let offset = count(object, "@offset")?;
        let limit = count(object, "@limit")?;
        if offset.is_some() || limit.is_some() {
            pattern = GraphPattern::Slice {
                inner: Box::new(pattern),
                start: offset.unwrap_or(0),
                length: limit,
            };
        }
        Ok((pattern, variables))
    }

    fn order_expression(
        &mut self,
        item: &Value,
        aggregates: &mut Aggregates,
    ) -> Result<OrderExpression, JrqlError> {
        if let Value::Object(object) = item
            && object.len() == 1
            && let Some((key, expr)) = object.iter().next()
            && (key == "@asc" || key == "@desc")
        {
            let expression = self.expression(expr, &mut Some(aggregates))?;
            return Ok(if key == "@asc" {
                OrderExpression::Asc(expression)
            } else {
                OrderExpression::Desc(expression)
            });
        }
        Ok(OrderExpression::Asc(
            self.expression(item, &mut Some(aggregates))?,
        ))
    }
}

/// A non-negative integer clause (`@limit`, `@offset`).
fn count(object: &Map<String, Value>, key: &str) -> Result<Option<usize>, JrqlError> {
    match object.get(key) {
        None => Ok(None),
        Some(value) => value
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| {
                JrqlError::bad(format!(
                    "{key} must be a non-negative integer, found {}",
                    abridge(value)
                ))
            }),
    }
}

/// Checks the keys of a read pattern other than a select.
pub(crate) fn check_read_keys(
    object: &Map<String, Value>,
    allowed: &[&str],
    kind: &str,
) -> Result<(), JrqlError> {
    check_keys(object, allowed, kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Context;
    use serde_json::json;

    fn ctx() -> Context {
        Context::for_domain("test.example.org", None).unwrap()
    }

    #[test]
    fn joins_elide_the_unit_pattern() {
        let values = GraphPattern::Values {
            variables: vec![],
            bindings: vec![vec![]],
        };
        assert_eq!(join(bgp(vec![]), values.clone()), values);
        assert_eq!(join(values.clone(), bgp(vec![])), values);
        assert!(matches!(
            join(values.clone(), values),
            GraphPattern::Join { .. }
        ));
    }

    #[test]
    fn unions_are_balanced() {
        fn depth(p: &GraphPattern) -> usize {
            match p {
                GraphPattern::Union { left, right } => 1 + depth(left).max(depth(right)),
                _ => 0,
            }
        }
        let leaves = (0..16).map(|_| bgp(vec![])).collect();
        assert_eq!(depth(&union_of(leaves).unwrap()), 4);
        assert!(union_of(Vec::new()).is_none());
    }

    #[test]
    fn values_tables_have_a_column_per_variable() {
        let ctx = ctx();
        let mut translator = Translator::new(&ctx);
        let table = translator
            .values_table(&json!([{ "?a": 1 }, { "?b": { "@id": "x" } }]))
            .unwrap();
        let GraphPattern::Values {
            variables,
            bindings,
        } = table
        else {
            panic!()
        };
        assert_eq!(variables.len(), 2);
        assert_eq!(bindings.len(), 2);
        assert!(bindings[0][1].is_none() && bindings[1][0].is_none());
        assert!(
            translator
                .values_table(&json!({ "?a": { "@gt": 1 } }))
                .is_err()
        );
        assert!(translator.values_table(&json!({ "a": 1 })).is_err());
    }

    #[test]
    fn select_modifiers_nest_in_sparql_order() {
        let ctx = ctx();
        let mut translator = Translator::new(&ctx);
        let query = json!({
            "@select": "?n", "@distinct": true, "@where": { "@id": "?s", "name": "?n" },
            "@orderBy": "?n", "@limit": 2, "@offset": 1
        });
        let (pattern, variables) = translator.select_query(query.as_object().unwrap()).unwrap();
        assert_eq!(variables, vec![Variable::new_unchecked("n")]);
        let GraphPattern::Slice {
            inner,
            start: 1,
            length: Some(2),
        } = pattern
        else {
            panic!()
        };
        let GraphPattern::Distinct { inner } = *inner else {
            panic!()
        };
        let GraphPattern::Project { inner, .. } = *inner else {
            panic!()
        };
        assert!(matches!(*inner, GraphPattern::OrderBy { .. }));
    }

    #[test]
    fn groups_reject_properties_and_unknown_keys() {
        let ctx = ctx();
        let mut translator = Translator::new(&ctx);
        let e = translator
            .where_clause(&json!({ "@graph": {}, "name": "x" }))
            .unwrap_err();
        assert_eq!(e.status(), 4001);
        let e = translator
            .where_clause(&json!({ "@graph": {}, "@minus": {} }))
            .unwrap_err();
        assert_eq!(e.status(), 5011);
    }
}
