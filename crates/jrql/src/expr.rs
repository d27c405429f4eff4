//! json-rql operator expressions → SPARQL expressions (docs/jrql.md §1.7 plus the SPARQL
//! functions that map cleanly), including aggregates for `@select` expressions, `@having` and
//! `@orderBy`.
//!
//! Owns only expressions; must not build graph patterns (beyond naming aggregate results) or
//! evaluate anything.

use crate::error::{JrqlError, abridge};
use crate::pattern::Translator;
use oxrdf::Variable;
use serde_json::{Map, Value};
use spargebra::algebra::{AggregateExpression, AggregateFunction, Expression, Function};
use spargebra::term::TermPattern;

/// Aggregates found while translating an expression, each named by a hidden variable.
pub(crate) type Aggregates = Vec<(Variable, AggregateExpression)>;

/// How an operator is translated.
#[derive(Clone, Copy)]
enum Op {
    Eq,
    Neq,
    Gt,
    Lt,
    Gte,
    Lte,
    And,
    Or,
    Not,
    Plus,
    Minus,
    Times,
    Divide,
    In,
    NotIn,
    Bound,
    SameTerm,
    If,
    Coalesce,
    Function(fn() -> Function, usize, usize),
    Aggregate(AggregateKind),
    Order,
    Splice,
}

#[derive(Clone, Copy)]
enum AggregateKind {
    Count,
    Sum,
    Min,
    Max,
    Avg,
    Sample,
    GroupConcat,
}

const UNBOUNDED: usize = usize::MAX;

fn operator(name: &str) -> Option<Op> {
    use Function as F;
    Some(match name {
        "@eq" => Op::Eq,
        "@neq" => Op::Neq,
        "@gt" => Op::Gt,
        "@lt" => Op::Lt,
        "@gte" => Op::Gte,
        "@lte" => Op::Lte,
        "@and" => Op::And,
        "@or" => Op::Or,
        "@not" => Op::Not,
        "@plus" => Op::Plus,
        "@minus" => Op::Minus,
        "@times" => Op::Times,
        "@divide" => Op::Divide,
        "@in" => Op::In,
        "@notin" => Op::NotIn,
        "@bound" => Op::Bound,
        "@sameTerm" => Op::SameTerm,
        "@if" => Op::If,
        "@coalesce" => Op::Coalesce,
        "@regex" => Op::Function(|| F::Regex, 2, 3),
        "@str" => Op::Function(|| F::Str, 1, 1),
        "@lang" => Op::Function(|| F::Lang, 1, 1),
        "@langmatches" => Op::Function(|| F::LangMatches, 2, 2),
        "@concat" => Op::Function(|| F::Concat, 0, UNBOUNDED),
        "@datatype" => Op::Function(|| F::Datatype, 1, 1),
        "@iri" => Op::Function(|| F::Iri, 1, 1),
        "@isIri" | "@isIRI" => Op::Function(|| F::IsIri, 1, 1),
        "@isBlank" => Op::Function(|| F::IsBlank, 1, 1),
        "@isLiteral" => Op::Function(|| F::IsLiteral, 1, 1),
        "@isNumeric" => Op::Function(|| F::IsNumeric, 1, 1),
        "@abs" => Op::Function(|| F::Abs, 1, 1),
        "@ceil" => Op::Function(|| F::Ceil, 1, 1),
        "@floor" => Op::Function(|| F::Floor, 1, 1),
        "@round" => Op::Function(|| F::Round, 1, 1),
        "@strlen" => Op::Function(|| F::StrLen, 1, 1),
        "@substr" => Op::Function(|| F::SubStr, 2, 3),
        "@ucase" => Op::Function(|| F::UCase, 1, 1),
        "@lcase" => Op::Function(|| F::LCase, 1, 1),
        "@encodeForUri" => Op::Function(|| F::EncodeForUri, 1, 1),
        "@contains" => Op::Function(|| F::Contains, 2, 2),
        "@strstarts" => Op::Function(|| F::StrStarts, 2, 2),
        "@strends" => Op::Function(|| F::StrEnds, 2, 2),
        "@strbefore" => Op::Function(|| F::StrBefore, 2, 2),
        "@strafter" => Op::Function(|| F::StrAfter, 2, 2),
        "@replace" => Op::Function(|| F::Replace, 3, 4),
        "@year" => Op::Function(|| F::Year, 1, 1),
        "@month" => Op::Function(|| F::Month, 1, 1),
        "@day" => Op::Function(|| F::Day, 1, 1),
        "@hours" => Op::Function(|| F::Hours, 1, 1),
        "@minutes" => Op::Function(|| F::Minutes, 1, 1),
        "@seconds" => Op::Function(|| F::Seconds, 1, 1),
        "@timezone" => Op::Function(|| F::Timezone, 1, 1),
        "@tz" => Op::Function(|| F::Tz, 1, 1),
        "@md5" => Op::Function(|| F::Md5, 1, 1),
        "@sha1" => Op::Function(|| F::Sha1, 1, 1),
        "@sha256" => Op::Function(|| F::Sha256, 1, 1),
        "@sha384" => Op::Function(|| F::Sha384, 1, 1),
        "@sha512" => Op::Function(|| F::Sha512, 1, 1),
        "@strlang" => Op::Function(|| F::StrLang, 2, 2),
        "@strdt" => Op::Function(|| F::StrDt, 2, 2),
        "@count" => Op::Aggregate(AggregateKind::Count),
        "@sum" => Op::Aggregate(AggregateKind::Sum),
        "@min" => Op::Aggregate(AggregateKind::Min),
        "@max" => Op::Aggregate(AggregateKind::Max),
        "@avg" => Op::Aggregate(AggregateKind::Avg),
        "@sample" => Op::Aggregate(AggregateKind::Sample),
        "@groupConcat" => Op::Aggregate(AggregateKind::GroupConcat),
        "@asc" | "@desc" => Op::Order,
        "@splice" => Op::Splice,
        _ => return None,
    })
}

/// Whether a key is a json-rql operator (supported or not).
pub(crate) fn is_operator(key: &str) -> bool {
    operator(key).is_some()
}

/// Whether a JSON value is a constraint: an object whose keys are all operators (plus an
/// optional `@distinct` flag for aggregates).
pub(crate) fn is_constraint(value: &Value) -> bool {
    match value {
        Value::Object(object) => {
            object.keys().any(|k| is_operator(k))
                && object.keys().all(|k| is_operator(k) || k == "@distinct")
        }
        _ => false,
    }
}

fn arguments(args: &Value) -> Vec<&Value> {
    match args {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    }
}

fn check_arity(name: &str, count: usize, min: usize, max: usize) -> Result<(), JrqlError> {
    if count < min || count > max {
        let expected = match (min, max) {
            (a, b) if a == b => format!("{a}"),
            (a, UNBOUNDED) => format!("at least {a}"),
            (a, b) => format!("{a} to {b}"),
        };
        return Err(JrqlError::bad(format!(
            "{name} takes {expected} argument(s), found {count}"
        )));
    }
    Ok(())
}

fn fold(
    mut args: Vec<Expression>,
    combine: fn(Box<Expression>, Box<Expression>) -> Expression,
) -> Option<Expression> {
    if args.is_empty() {
        return None;
    }
    let first = args.remove(0);
    Some(
        args.into_iter()
            .fold(first, |acc, next| combine(Box::new(acc), Box::new(next))),
    )
}

impl Translator<'_> {
    /// Translates an expression: a variable, an atom, a reference, a value object, or a
    /// constraint (whose operators are ANDed). Aggregates are only allowed if `aggregates` is
    /// given.
    pub(crate) fn expression(
        &mut self,
        json: &Value,
        aggregates: &mut Option<&mut Aggregates>,
    ) -> Result<Expression, JrqlError> {
        match json {
            Value::String(s) => Ok(match self.variable(s) {
                Some(v) => Expression::Variable(v),
                None => Expression::Literal(oxrdf::Literal::new_simple_literal(s.clone())),
            }),
            Value::Number(n) => Ok(Expression::Literal(crate::value::number_literal(n))),
            Value::Bool(b) => Ok(Expression::Literal(crate::value::boolean_literal(*b))),
            Value::Object(object) if is_constraint(json) => self.constraint(object, aggregates),
            Value::Object(object) => match self.term_expression(object)? {
                TermPattern::NamedNode(n) => Ok(Expression::NamedNode(n)),
                TermPattern::Literal(l) => Ok(Expression::Literal(l)),
                TermPattern::Variable(v) => Ok(Expression::Variable(v)),
                other => Err(JrqlError::bad(format!(
                    "{other} cannot be used in an expression"
                ))),
            },
            Value::Null | Value::Array(_) => Err(JrqlError::bad(format!(
                "expected an expression, found {}",
                abridge(json)
            ))),
        }
    }

    /// A reference, vocabulary reference or value object as a term (or variable).
    pub(crate) fn term_expression(
        &mut self,
        object: &Map<String, Value>,
    ) -> Result<TermPattern, JrqlError> {
        if object.contains_key("@value") {
            return self.value_object(object);
        }
        match (object.get("@id"), object.get("@vocab"), object.len()) {
            (Some(Value::String(id)), None, 1) => self.id_term(id),
            (None, Some(Value::String(vocab)), 1) => self.vocab_term(vocab),
            _ => {
                if let Some(key) = object.keys().find(|k| {
                    k.starts_with('@')
                        && !is_operator(k)
                        && !matches!(k.as_str(), "@id" | "@vocab" | "@distinct")
                }) {
                    return Err(JrqlError::unsupported(
                        key.as_str(),
                        "unknown or unsupported keyword in an expression",
                    ));
                }
                Err(JrqlError::bad(format!(
                    "expected a reference, value or operator, found {}",
                    abridge(&Value::Object(object.clone()))
                )))
            }
        }
    }

    /// A constraint object: every operator entry, ANDed.
    pub(crate) fn constraint(
        &mut self,
        object: &Map<String, Value>,
        aggregates: &mut Option<&mut Aggregates>,
    ) -> Result<Expression, JrqlError> {
        let distinct = match object.get("@distinct") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(JrqlError::bad(format!(
                    "@distinct in an aggregate must be a boolean, found {other}"
                )));
            }
        };
        if distinct
            && !object
                .keys()
                .any(|k| matches!(operator(k), Some(Op::Aggregate(_))))
        {
            return Err(JrqlError::bad(
                "@distinct in a constraint only applies to an aggregate like @count",
            ));
        }
        let mut parts = Vec::new();
        for (key, args) in object {
            if key == "@distinct" {
                continue;
            }
            let args: Vec<&Value> = arguments(args);
            parts.push(self.operation(key, None, &args, distinct, aggregates)?);
        }
        fold(parts, Expression::And).ok_or_else(|| JrqlError::bad("an empty constraint"))
    }

    /// An inline constraint operator with its subject variable as the first argument, e.g.
    /// `"age": {"@gt": 40}` → `?age > 40`.
    pub(crate) fn inline_operator(
        &mut self,
        name: &str,
        variable: &Variable,
        args: &Value,
    ) -> Result<Expression, JrqlError> {
        let args = arguments(args);
        self.operation(name, Some(variable), &args, false, &mut None)
    }

    fn operation(
        &mut self,
        name: &str,
        first: Option<&Variable>,
        args: &[&Value],
        distinct: bool,
        aggregates: &mut Option<&mut Aggregates>,
    ) -> Result<Expression, JrqlError> {
        let Some(op) = operator(name) else {
            return Err(JrqlError::unsupported(name, "unknown operator"));
        };
        if let Op::Aggregate(kind) = op {
            if first.is_some() {
                return Err(JrqlError::bad(format!(
                    "aggregate {name} cannot be used as an inline filter"
                )));
            }
            return self.aggregate(name, kind, args, distinct, aggregates);
        }
        let mut exprs: Vec<Expression> = Vec::with_capacity(args.len() + 1);
        if let Some(v) = first {
            exprs.push(Expression::Variable(v.clone()));
        }
        match op {
            Op::Order => {
                return Err(JrqlError::bad(format!(
                    "{name} can only be used in @orderBy"
                )));
            }
            Op::Splice => {
                return Err(JrqlError::unsupported(
                    name,
                    "shared datatype operations are not supported",
                ));
            }
            Op::Bound => {
                if first.is_none() {
                    check_arity(name, args.len(), 1, 1)?;
                    let Some(Value::String(s)) = args.first() else {
                        return Err(JrqlError::bad("@bound takes a variable"));
                    };
                    return match self.variable(s) {
                        Some(v) => Ok(Expression::Bound(v)),
                        None => Err(JrqlError::bad(format!(
                            "@bound takes a variable, found {s:?}"
                        ))),
                    };
                }
                check_arity(name, args.len(), 0, 0)?;
                return Ok(Expression::Bound(
                    first
                        .cloned()
                        .ok_or_else(|| JrqlError::bad("@bound takes a variable"))?,
                ));
            }
            _ => {}
        }
        for arg in args {
            exprs.push(self.expression(arg, aggregates)?);
        }
        let count = exprs.len();
        let binary = |exprs: Vec<Expression>,
                      make: fn(Box<Expression>, Box<Expression>) -> Expression|
         -> Result<Expression, JrqlError> {
            check_arity(name, exprs.len(), 2, 2)?;
            fold(exprs, make).ok_or_else(|| JrqlError::bad(format!("{name} needs arguments")))
        };
        match op {
            Op::Eq => binary(exprs, Expression::Equal),
            Op::Neq => Ok(Expression::Not(Box::new(binary(exprs, Expression::Equal)?))),
            Op::Gt => binary(exprs, Expression::Greater),
            Op::Lt => binary(exprs, Expression::Less),
            Op::Gte => binary(exprs, Expression::GreaterOrEqual),
            Op::Lte => binary(exprs, Expression::LessOrEqual),
            Op::SameTerm => binary(exprs, Expression::SameTerm),
            Op::And | Op::Or => {
                check_arity(name, count, 1, UNBOUNDED)?;
                let make = if matches!(op, Op::And) {
                    Expression::And
                } else {
                    Expression::Or
                };
                fold(exprs, make).ok_or_else(|| JrqlError::bad(format!("{name} needs arguments")))
            }
            Op::Not => {
                check_arity(name, count, 1, 1)?;
                let inner = exprs.remove(0);
                Ok(Expression::Not(Box::new(inner)))
            }
            Op::Plus | Op::Minus | Op::Times | Op::Divide => {
                check_arity(name, count, 1, UNBOUNDED)?;
                if count == 1 {
                    let inner = Box::new(exprs.remove(0));
                    return match op {
                        Op::Plus => Ok(Expression::UnaryPlus(inner)),
                        Op::Minus => Ok(Expression::UnaryMinus(inner)),
                        _ => Err(JrqlError::bad(format!("{name} takes at least 2 arguments"))),
                    };
                }
                let make = match op {
                    Op::Plus => Expression::Add,
                    Op::Minus => Expression::Subtract,
                    Op::Times => Expression::Multiply,
                    _ => Expression::Divide,
                };
                fold(exprs, make).ok_or_else(|| JrqlError::bad(format!("{name} needs arguments")))
            }
            Op::In | Op::NotIn => {
                check_arity(name, count, 1, UNBOUNDED)?;
                let needle = exprs.remove(0);
                let test = Expression::In(Box::new(needle), exprs);
                Ok(if matches!(op, Op::NotIn) {
                    Expression::Not(Box::new(test))
                } else {
                    test
                })
            }
            Op::If => {
                check_arity(name, count, 3, 3)?;
                let mut it = exprs.into_iter();
                match (it.next(), it.next(), it.next()) {
                    (Some(a), Some(b), Some(c)) => {
                        Ok(Expression::If(Box::new(a), Box::new(b), Box::new(c)))
                    }
                    _ => Err(JrqlError::bad("@if takes 3 arguments")),
                }
            }
            Op::Coalesce => Ok(Expression::Coalesce(exprs)),
            Op::Function(function, min, max) => {
                check_arity(name, count, min, max)?;
                Ok(Expression::FunctionCall(function(), exprs))
            }
            Op::Bound | Op::Order | Op::Splice | Op::Aggregate(_) => {
                Err(JrqlError::bad(format!("{name} is not allowed here")))
            }
        }
    }

    fn aggregate(
        &mut self,
        name: &str,
        kind: AggregateKind,
        args: &[&Value],
        distinct: bool,
        aggregates: &mut Option<&mut Aggregates>,
    ) -> Result<Expression, JrqlError> {
        if aggregates.is_none() {
            return Err(JrqlError::bad(format!(
                "aggregate {name} can only be used in @select expressions, @having or @orderBy"
            )));
        }
        let star = matches!(args, [] | [Value::String(_)])
            && args.first().is_none_or(|a| a.as_str() == Some("*"));
        let aggregate = if matches!(kind, AggregateKind::Count) && star {
            AggregateExpression::CountSolutions { distinct }
        } else {
            let (expr_json, separator) = match (kind, args) {
                (AggregateKind::GroupConcat, [expr, Value::String(separator)]) => {
                    (*expr, Some(separator.clone()))
                }
                (_, [expr]) => (*expr, None),
                _ => {
                    return Err(JrqlError::bad(format!(
                        "{name} takes one expression{}",
                        if matches!(kind, AggregateKind::GroupConcat) {
                            " and an optional separator string"
                        } else {
                            ""
                        }
                    )));
                }
            };
            // Aggregates cannot nest.
            let expr = self.expression(expr_json, &mut None)?;
            let function = match kind {
                AggregateKind::Count => AggregateFunction::Count,
                AggregateKind::Sum => AggregateFunction::Sum,
                AggregateKind::Min => AggregateFunction::Min,
                AggregateKind::Max => AggregateFunction::Max,
                AggregateKind::Avg => AggregateFunction::Avg,
                AggregateKind::Sample => AggregateFunction::Sample,
                AggregateKind::GroupConcat => AggregateFunction::GroupConcat { separator },
            };
            AggregateExpression::FunctionCall {
                name: function,
                expr,
                distinct,
            }
        };
        let variable = self.fresh();
        if let Some(aggregates) = aggregates.as_mut() {
            aggregates.push((variable.clone(), aggregate));
        }
        Ok(Expression::Variable(variable))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Context;
    use serde_json::json;

    fn expression(json: Value) -> Result<Expression, JrqlError> {
        let ctx = Context::for_domain("test.example.org", None).unwrap();
        let mut translator = Translator::new(&ctx);
        translator.expression(&json, &mut None)
    }

    #[test]
    fn operators_translate_to_sparql() {
        let int = |i: i64| Expression::Literal(crate::value::number_literal(&i.into()));
        let a = || Box::new(Expression::Variable(Variable::new_unchecked("a")));
        assert_eq!(
            expression(json!({ "@neq": ["?a", 1] })).unwrap(),
            Expression::Not(Box::new(Expression::Equal(a(), Box::new(int(1)))))
        );
        assert_eq!(
            expression(json!({ "@and": [{ "@gt": ["?a", 1] }, { "@lt": ["?a", 5] }] })).unwrap(),
            Expression::And(
                Box::new(Expression::Greater(a(), Box::new(int(1)))),
                Box::new(Expression::Less(a(), Box::new(int(5))))
            )
        );
        assert_eq!(
            expression(json!({ "@notin": ["?a", 1, 2] })).unwrap(),
            Expression::Not(Box::new(Expression::In(a(), vec![int(1), int(2)])))
        );
        assert_eq!(
            expression(json!({ "@minus": "?a" })).unwrap(),
            Expression::UnaryMinus(a())
        );
        assert!(matches!(
            expression(json!({ "@regex": ["?n", "^F", "i"] })).unwrap(),
            Expression::FunctionCall(Function::Regex, args) if args.len() == 3
        ));
        assert_eq!(
            expression(json!({ "@id": "fred" })).unwrap(),
            Expression::NamedNode(oxrdf::NamedNode::new_unchecked(
                "http://test.example.org/fred"
            ))
        );
        assert_eq!(
            expression(json!("text")).unwrap(),
            Expression::Literal(oxrdf::Literal::new_simple_literal("text"))
        );
    }

    #[test]
    fn arity_and_placement_errors() {
        assert!(
            expression(json!({ "@eq": ["?a"] }))
                .unwrap_err()
                .to_string()
                .contains("@eq")
        );
        assert!(expression(json!({ "@not": ["?a", "?b"] })).is_err());
        assert!(
            expression(json!({ "@count": "?a" })).is_err(),
            "aggregates need a select"
        );
        assert!(expression(json!({ "@asc": "?a" })).is_err());
        assert_eq!(
            expression(json!({ "@splice": [0, 1] }))
                .unwrap_err()
                .status(),
            5011
        );
        assert_eq!(
            expression(json!({ "@eq": [1, 1], "@distinct": true }))
                .unwrap_err()
                .status(),
            4001
        );
        assert_eq!(
            expression(json!({ "@id": "x", "@foo": 1 }))
                .unwrap_err()
                .status(),
            5011
        );
        assert!(expression(json!(null)).is_err());
    }

    #[test]
    fn aggregates_are_named_by_hidden_variables() {
        let ctx = Context::for_domain("test.example.org", None).unwrap();
        let mut translator = Translator::new(&ctx);
        let mut aggregates = Aggregates::new();
        let e = translator
            .expression(
                &json!({ "@plus": [{ "@count": "*" }, { "@sum": "?x", "@distinct": true }] }),
                &mut Some(&mut aggregates),
            )
            .unwrap();
        assert_eq!(aggregates.len(), 2);
        assert!(matches!(
            aggregates[0].1,
            AggregateExpression::CountSolutions { distinct: false }
        ));
        assert!(matches!(
            aggregates[1].1,
            AggregateExpression::FunctionCall { distinct: true, .. }
        ));
        assert!(matches!(e, Expression::Add(..)));
    }

    #[test]
    fn constraint_detection() {
        assert!(is_constraint(&json!({ "@gt": 1 })));
        assert!(is_constraint(&json!({ "@count": "?x", "@distinct": true })));
        assert!(!is_constraint(&json!({ "@id": "x" })));
        assert!(!is_constraint(&json!({ "@distinct": true })));
        assert!(!is_constraint(&json!("x")));
    }
}
