//! Compiled templates and expressions. Every template string of a recipe is compiled once, at
//! planning, into one minijinja environment; the plan holds small handles into it.

use std::collections::HashSet;
use std::sync::Arc;

use minijinja::{Environment, Expression, Template, UndefinedBehavior, Value};

use super::interpolate::Shape;
use crate::redact::Redactor;

/// Converts any serialisable value into a template value.
pub fn to_value<T: serde::Serialize>(value: &T) -> Value {
    Value::from(minijinja::value::Serde(value))
}

/// A recipe string, compiled.
#[derive(Clone, Debug)]
pub enum Tpl {
    /// No template syntax: used as written.
    Literal(serde_json::Value),
    /// Text with templates inside: renders to a string.
    Text(usize),
    /// Exactly one `{{ expr }}` (or a bare expression): yields the native value.
    Expr(usize),
}

/// A JSON-shaped value whose strings may be templates (bodies, `with`, query values).
#[derive(Clone, Debug)]
pub enum ValueTpl {
    Tpl(Tpl),
    Array(Vec<ValueTpl>),
    Object(Vec<(String, ValueTpl)>),
}

/// The instructions one render or evaluation may run.
pub const TEMPLATE_FUEL: u64 = 10_000_000;

/// Collects templates while planning.
pub struct TemplateBuilder {
    env: Environment<'static>,
    texts: usize,
    /// For each text template, its interpolation shape when it has one.
    shapes: Vec<Option<Shape>>,
    exprs: Vec<String>,
    /// The text templates and expressions that read `secrets`: what they render is searched
    /// for pieces of a secret (a slice, say), which the redactor then learns.
    secret_texts: HashSet<usize>,
    secret_exprs: HashSet<usize>,
    /// The text templates and expressions that can grow values (`grows`): rendered on a
    /// memory budget (`crate::memory`).
    growing_texts: HashSet<usize>,
    growing_exprs: HashSet<usize>,
    redactor: Redactor,
}

/// A compile error with the names a template reads.
pub type Compiled = Result<(Tpl, HashSet<String>), minijinja::Error>;

impl TemplateBuilder {
    pub fn new(redactor: &Redactor) -> TemplateBuilder {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_recursion_limit(64);
        // A runaway template (a loop over `range(99999999)`) stops with an error instead of
        // running for minutes: far more than any real template needs. `for_each` lists are
        // iterated outside templates and do not spend it.
        env.set_fuel(Some(TEMPLATE_FUEL));
        super::filters::register(&mut env, redactor);
        TemplateBuilder {
            env,
            texts: 0,
            shapes: Vec::new(),
            exprs: Vec::new(),
            secret_texts: HashSet::new(),
            secret_exprs: HashSet::new(),
            growing_texts: HashSet::new(),
            growing_exprs: HashSet::new(),
            redactor: redactor.clone(),
        }
    }

    /// Names that are always defined (minijinja's global functions).
    pub fn globals(&self) -> HashSet<String> {
        self.env
            .globals()
            .map(|(name, _)| name.to_string())
            .collect()
    }

    /// Compiles a string field: a literal, a text template or a single expression.
    pub fn string(&mut self, source: &str) -> Compiled {
        if !has_syntax(source) {
            return Ok((
                Tpl::Literal(serde_json::Value::String(source.to_string())),
                HashSet::new(),
            ));
        }
        if let Some(expr) = single_expression(source) {
            return self.expression(expr);
        }
        let name = self.texts.to_string();
        self.env
            .add_template_owned(name.clone(), source.to_string())?;
        self.texts += 1;
        self.shapes.push(Shape::of(source));
        let vars = self.env.get_template(&name)?.undeclared_variables(true);
        // By the text: minijinja's variable list misses names under a slice (`secrets.k[:8]`).
        if source.contains("secrets") {
            self.secret_texts.insert(self.texts - 1);
        }
        if grows(source) {
            self.growing_texts.insert(self.texts - 1);
        }
        Ok((Tpl::Text(self.texts - 1), vars))
    }

    /// Compiles an expression field (`when`, `for_each`, `check.that`, outputs), written bare
    /// or in braces.
    pub fn expression(&mut self, source: &str) -> Compiled {
        if has_syntax(source) && single_expression(source).is_none() {
            // Text around templates (`"hello {{ user }}"`) is a text template, not an expression.
            return self.string(source);
        }
        let source = single_expression(source).unwrap_or(source).trim();
        let vars = self
            .env
            .compile_expression(source)?
            .undeclared_variables(true);
        self.exprs.push(source.to_string());
        if source.contains("secrets") {
            self.secret_exprs.insert(self.exprs.len() - 1);
        }
        if grows(source) {
            self.growing_exprs.insert(self.exprs.len() - 1);
        }
        Ok((Tpl::Expr(self.exprs.len() - 1), vars))
    }

    /// Compiles every string inside a JSON value.
    pub fn value(
        &mut self,
        value: &serde_json::Value,
    ) -> Result<(ValueTpl, HashSet<String>), minijinja::Error> {
        let mut vars = HashSet::new();
        let tpl = self.value_into(value, &mut vars)?;
        Ok((tpl, vars))
    }

    fn value_into(
        &mut self,
        value: &serde_json::Value,
        vars: &mut HashSet<String>,
    ) -> Result<ValueTpl, minijinja::Error> {
        Ok(match value {
            serde_json::Value::String(text) => {
                let (tpl, names) = self.string(text)?;
                vars.extend(names);
                ValueTpl::Tpl(tpl)
            }
            serde_json::Value::Array(items) => ValueTpl::Array(
                items
                    .iter()
                    .map(|item| self.value_into(item, vars))
                    .collect::<Result<_, _>>()?,
            ),
            serde_json::Value::Object(map) => ValueTpl::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), self.value_into(v, vars)?)))
                    .collect::<Result<_, minijinja::Error>>()?,
            ),
            other => ValueTpl::Tpl(Tpl::Literal(other.clone())),
        })
    }

    pub fn finish(self) -> Result<Templates, minijinja::Error> {
        let owner = Owner {
            env: self.env,
            texts: self.texts,
            shapes: self.shapes,
            exprs: self.exprs,
            secret_texts: self.secret_texts,
            secret_exprs: self.secret_exprs,
            growing_texts: self.growing_texts,
            growing_exprs: self.growing_exprs,
            redactor: self.redactor,
        };
        let inner = Inner::try_new(owner, |owner| {
            let templates = (0..owner.texts)
                .map(|i| owner.env.get_template(&i.to_string()))
                .collect::<Result<Vec<_>, _>>()?;
            let exprs = owner
                .exprs
                .iter()
                .map(|e| owner.env.compile_expression(e.as_str()))
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, minijinja::Error>(Parts { templates, exprs })
        })?;
        Ok(Templates(Arc::new(inner)))
    }
}

struct Owner {
    env: Environment<'static>,
    texts: usize,
    shapes: Vec<Option<Shape>>,
    exprs: Vec<String>,
    secret_texts: HashSet<usize>,
    secret_exprs: HashSet<usize>,
    growing_texts: HashSet<usize>,
    growing_exprs: HashSet<usize>,
    redactor: Redactor,
}

struct Parts<'a> {
    templates: Vec<Template<'a, 'a>>,
    exprs: Vec<Expression<'a, 'a>>,
}

self_cell::self_cell!(
    struct Inner {
        owner: Owner,
        #[covariant]
        dependent: Parts,
    }
);

/// Every compiled template of a run. Cheap to clone.
#[derive(Clone)]
pub struct Templates(Arc<Inner>);

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Templates")
    }
}

impl Templates {
    /// Evaluates a compiled string to a native value (a string for text templates).
    pub fn eval(&self, tpl: &Tpl, ctx: &Value) -> Result<Value, minijinja::Error> {
        self.eval_within(tpl, ctx, crate::memory::TEMPLATE_MEMORY)
    }

    /// `eval`, where a render on a memory budget may hold `limit` bytes.
    fn eval_within(&self, tpl: &Tpl, ctx: &Value, limit: usize) -> Result<Value, minijinja::Error> {
        let parts = self.0.borrow_dependent();
        let value = match tpl {
            Tpl::Literal(value) => return Ok(to_value(value)),
            Tpl::Text(i) => Value::from(self.render(*i, ctx, limit)?),
            Tpl::Expr(i) => {
                if self.0.borrow_owner().growing_exprs.contains(i) {
                    let (templates, ctx, i) = (self.clone(), ctx.clone(), *i);
                    crate::memory::budgeted(limit, move || {
                        templates.0.borrow_dependent().exprs[i].eval(&ctx)
                    })
                    .map_err(over_budget)??
                } else {
                    parts.exprs[*i].eval(ctx)?
                }
            }
        };
        self.learn(tpl, || value.to_string(), ctx);
        Ok(value)
    }

    /// Renders text template `i`: on a memory budget when it can grow values.
    fn render(&self, i: usize, ctx: &Value, limit: usize) -> Result<String, minijinja::Error> {
        if !self.0.borrow_owner().growing_texts.contains(&i) {
            return self.0.borrow_dependent().templates[i].render(ctx);
        }
        let (templates, ctx) = (self.clone(), ctx.clone());
        crate::memory::budgeted(limit, move || {
            templates.0.borrow_dependent().templates[i].render(&ctx)
        })
        .map_err(over_budget)?
    }

    /// Evaluates a `for_each` list: a lazy sequence (`range(n)`) stays one, with its length,
    /// so that its items are made as the loop takes them; anything else becomes JSON. A list
    /// may be as large as the data it selects from: its budget is `LIST_MEMORY`.
    pub fn sequence(&self, tpl: &ValueTpl, ctx: &Value) -> Result<Sequence, minijinja::Error> {
        if let ValueTpl::Tpl(inner @ Tpl::Expr(_)) = tpl {
            let value = self.eval_within(inner, ctx, crate::memory::LIST_MEMORY)?;
            if let Some(len) = super::range::lazy_len(&value) {
                // Every item must be data, as `to_json` of the whole list would require; checked
                // now (written to nowhere), so that taking an item later cannot fail. A list
                // input's items are JSON already.
                let known = value
                    .downcast_object_ref::<super::input_list::InputList>()
                    .is_some();
                if !known && let Ok(items) = value.try_iter() {
                    for item in items {
                        to_json_checked(&item)?;
                    }
                }
                return Ok(Sequence::Lazy(value, len));
            }
            return Ok(Sequence::Json(to_json(&value)?));
        }
        Ok(Sequence::Json(self.value(tpl, ctx)?))
    }

    /// When `tpl` reads `secrets`: teaches the redactor every piece of a secret (8 characters
    /// or more) that `out` holds without the whole — a slice such as `secrets.key[:12]`,
    /// or a secret cut by `truncate` — so that it is masked like the secret.
    fn learn<S: AsRef<str>>(&self, tpl: &Tpl, out: impl FnOnce() -> S, ctx: &Value) {
        const PIECE: usize = 8;
        let owner = self.0.borrow_owner();
        let reads = match tpl {
            Tpl::Text(i) => owner.secret_texts.contains(i),
            Tpl::Expr(i) => owner.secret_exprs.contains(i),
            Tpl::Literal(_) => false,
        };
        if !reads {
            return;
        }
        let out = out();
        let out = out.as_ref();
        if out.len() < PIECE {
            return;
        }
        let Ok(secrets) = ctx.get_attr("secrets") else {
            return;
        };
        let Ok(names) = secrets.try_iter() else {
            return;
        };
        let out = &out[..out.len().min(64 * 1024)];
        for name in names {
            let Some(secret) = secrets
                .get_item(&name)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
            else {
                continue;
            };
            if secret.chars().count() < PIECE || out.contains(secret.as_str()) {
                continue;
            }
            let bounds: Vec<usize> = secret
                .char_indices()
                .map(|(i, _)| i)
                .chain(std::iter::once(secret.len()))
                .collect();
            // Most renders hold no piece: one pass over `out` with the secret's 8-grams says so.
            let grams: HashSet<&str> = (0..bounds.len().saturating_sub(PIECE))
                .map(|i| &secret[bounds[i]..bounds[i + PIECE]])
                .collect();
            let out_bounds: Vec<usize> = out
                .char_indices()
                .map(|(i, _)| i)
                .chain(std::iter::once(out.len()))
                .collect();
            let any = (0..out_bounds.len().saturating_sub(PIECE))
                .any(|i| grams.contains(&out[out_bounds[i]..out_bounds[i + PIECE]]));
            if !any {
                continue;
            }
            let mut start = 0;
            while start + PIECE < bounds.len() {
                // The longest piece from here that `out` holds.
                let found = (start + PIECE..bounds.len())
                    .rev()
                    .find(|&end| out.contains(&secret[bounds[start]..bounds[end]]));
                match found {
                    Some(end) => {
                        owner.redactor.add(&secret[bounds[start]..bounds[end]]);
                        start = end;
                    }
                    None => start += 1,
                }
            }
        }
    }

    /// Evaluates to JSON.
    pub fn json(&self, tpl: &Tpl, ctx: &Value) -> Result<serde_json::Value, minijinja::Error> {
        match tpl {
            Tpl::Literal(value) => Ok(value.clone()),
            other => to_json(&self.eval(other, ctx)?),
        }
    }

    /// Evaluates to text: strings as they are, other values as JSON.
    pub fn text(&self, tpl: &Tpl, ctx: &Value) -> Result<String, minijinja::Error> {
        match tpl {
            Tpl::Text(i) => {
                let text = match self.0.borrow_owner().shapes[*i]
                    .as_ref()
                    .and_then(|shape| shape.render(ctx))
                {
                    Some(text) => text,
                    None => self.render(*i, ctx, crate::memory::TEMPLATE_MEMORY)?,
                };
                self.learn(tpl, || text.as_str(), ctx);
                return Ok(text);
            }
            Tpl::Literal(serde_json::Value::String(text)) => return Ok(text.clone()),
            _ => {}
        }
        Ok(match self.json(tpl, ctx)? {
            serde_json::Value::String(text) => text,
            other => other.to_string(),
        })
    }

    /// Evaluates every template inside a JSON-shaped value.
    pub fn value(
        &self,
        tpl: &ValueTpl,
        ctx: &Value,
    ) -> Result<serde_json::Value, minijinja::Error> {
        Ok(match tpl {
            ValueTpl::Tpl(tpl) => self.json(tpl, ctx)?,
            ValueTpl::Array(items) => serde_json::Value::Array(
                items
                    .iter()
                    .map(|i| self.value(i, ctx))
                    .collect::<Result<_, _>>()?,
            ),
            ValueTpl::Object(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), self.value(v, ctx)?)))
                    .collect::<Result<_, minijinja::Error>>()?,
            ),
        })
    }

    /// Evaluates an expression for its truth.
    pub fn truthy(&self, tpl: &Tpl, ctx: &Value) -> Result<bool, minijinja::Error> {
        Ok(self.eval(tpl, ctx)?.is_true())
    }
}

fn over_budget(exceeded: crate::memory::Exceeded) -> minijinja::Error {
    minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, exceeded.to_string())
}

/// Whether a template can make values much larger than what it reads, so that it renders on a
/// memory budget: statements other than `if` (a `set` in a `for` loop can double a string each
/// time round), calls with arguments (`replace`, `center(width)`, `indent`, `format`, `range`)
/// and `*`. Anything else grows at most by its own length per value it reads. Over-approximate
/// by design: a false positive costs a hop to a render thread, a false negative the process.
fn grows(source: &str) -> bool {
    const BOUNDED: [&str; 9] = [
        "if", "elif", "else", "endif", "raw", "endraw", "break", "continue", "",
    ];
    let statements = source.match_indices("{%").any(|(at, _)| {
        let rest = source[at + 2..]
            .trim_start_matches(['-', '+', '~'])
            .trim_start();
        let word: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        !BOUNDED.contains(&word.as_str())
    });
    statements || source.contains('(') || source.contains('*')
}

/// Converts a template value to JSON; undefined and non-data values are errors.
/// Fails as `to_json` of a list holding `value` would, without building the JSON.
fn to_json_checked(value: &Value) -> Result<(), minijinja::Error> {
    serde_json::to_writer(std::io::sink(), value).map_err(|e| {
        minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("the value cannot be used as data: {e}"),
        )
    })
}

/// A `for_each` list, evaluated.
pub enum Sequence {
    Json(serde_json::Value),
    /// A sequence whose items are computed when asked for, and how many it has.
    Lazy(Value, usize),
}

pub fn to_json(value: &Value) -> Result<serde_json::Value, minijinja::Error> {
    if value.is_undefined() {
        return Err(minijinja::Error::new(
            minijinja::ErrorKind::UndefinedError,
            "the expression is undefined",
        ));
    }
    serde_json::to_value(value).map_err(|e| {
        minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("the value cannot be used as data: {e}"),
        )
    })
}

fn has_syntax(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

/// The expression inside a string that is exactly one `{{ expr }}`.
pub fn single_expression(text: &str) -> Option<&str> {
    let inner = text.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    if inner.contains("{{") || inner.contains("}}") {
        return None;
    }
    let inner = inner.strip_prefix('-').unwrap_or(inner);
    let inner = inner.strip_suffix('-').unwrap_or(inner);
    Some(inner.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    #[test]
    fn a_slice_of_a_secret_is_learned_and_masked() {
        let redactor = Redactor::new();
        let mut builder = TemplateBuilder::new(&redactor);
        let (tpl, _) = builder
            .string("/x?k={{ secrets.key[:12] }}&n={{ inputs.n }}")
            .unwrap();
        let (plain, _) = builder.string("/y/{{ inputs.n }}/{{ inputs.m }}").unwrap();
        let templates = builder.finish().unwrap();
        let ctx = to_value(&serde_json::json!({
            "secrets": {"key": "0123456789abcdefghij"},
            "inputs": {"n": 5, "m": "0123456789ab"},
        }));
        let out = templates.text(&tpl, &ctx).unwrap();
        assert_eq!(out, "/x?k=0123456789ab&n=5");
        assert_eq!(redactor.mask(&out), "/x?k=***&n=5");
        // A template that does not read secrets teaches nothing.
        let redactor2 = Redactor::new();
        let mut other = TemplateBuilder::new(&redactor2);
        let (plain2, _) = other.string("/y/{{ inputs.n }}/{{ inputs.m }}").unwrap();
        let other = other.finish().unwrap();
        other.text(&plain2, &ctx).unwrap();
        assert_eq!(redactor2.mask("0123456789ab"), "0123456789ab");
        let _ = plain;
    }

    #[test]
    fn single_expressions_keep_native_values() {
        let mut builder = TemplateBuilder::new(&Redactor::new());
        let (list, vars) = builder.string("{{ inputs.ids }}").unwrap();
        assert!(vars.contains("inputs.ids"));
        let (text, _) = builder.string("{{ inputs.base }}/v1/{{ n + 1 }}").unwrap();
        let (bare, _) = builder.expression("inputs.ids | length").unwrap();
        let (lit, vars) = builder.string("plain").unwrap();
        assert!(vars.is_empty());
        let templates = builder.finish().unwrap();
        let ctx =
            to_value(&serde_json::json!({"inputs": {"ids": [1, 2], "base": "http://h"}, "n": 1}));
        assert_eq!(
            templates.json(&list, &ctx).unwrap(),
            serde_json::json!([1, 2])
        );
        assert_eq!(templates.text(&text, &ctx).unwrap(), "http://h/v1/2");
        assert_eq!(templates.json(&bare, &ctx).unwrap(), serde_json::json!(2));
        assert_eq!(templates.text(&lit, &ctx).unwrap(), "plain");
    }

    #[test]
    fn undefined_names_are_errors() {
        let mut builder = TemplateBuilder::new(&Redactor::new());
        let (tpl, _) = builder.string("x{{ missing }}").unwrap();
        let templates = builder.finish().unwrap();
        let error = templates.text(&tpl, &to_value(&context! {})).unwrap_err();
        assert_eq!(error.kind(), minijinja::ErrorKind::UndefinedError);
    }

    #[test]
    fn templates_that_can_grow_values_render_on_a_budget() {
        for source in [
            "{% set s = s ~ s %}",
            "{%- for i in items %}{{ i }}{% endfor %}",
            "{%+ macro m() %}{% endmacro %}",
            "{{ s | replace('a', s) }}",
            "{{ s | center(1000000000) }}",
            "{{ 'x' * n }}",
        ] {
            assert!(grows(source), "{source}");
        }
        for source in [
            "{{ item.id }}",
            "{% if a %}{{ a ~ b }}{% else %}{{ c | urlencode }}{% endif %}",
            "{{ secrets.key | b64encode }}",
        ] {
            assert!(!grows(source), "{source}");
        }
    }

    #[test]
    fn recognises_single_expressions() {
        assert_eq!(single_expression("{{ a.b }}"), Some("a.b"));
        assert_eq!(single_expression(" {{- a -}} "), Some("a"));
        assert_eq!(single_expression("{{ a }}{{ b }}"), None);
        assert_eq!(single_expression("x{{ a }}"), None);
    }
}
