//! List literals (`[[1, 2], [3, 4]]`, docs/language.md §7.7): constant tensors whose
//! elements are typed like literals by their context: f32 next to f32 (each element
//! rounded from its decimal, like a scalar literal), else exact, in the narrowest type
//! holding every element (a real with no exact binary value is E0307 there, as for a
//! scalar literal). An element at a constant index folds into that literal; any other
//! access reads a constant tensor (a ROM table in the HLS C++), made once per literal and
//! class in the instance.
//!
//! The checker (lang/src/check/lists.rs) has made sure the list is rectangular and holds
//! number literals only.

use super::literals::{fold_literal, folded_const, literal_source, value_class};
use super::*;
use crate::data::{value_range, ConstData};
use kiln_numeric::interval::narrowest_type;

impl<'h> Lowerer<'_, '_, 'h> {
    /// The class list literal `elems` takes in a context of class `hint`, or `None` when
    /// an element cannot be a constant of it.
    pub(super) fn list_class(&self, elems: &[hir::Expr], hint: Option<Class>) -> Option<Class> {
        let mut class = None;
        for e in elems {
            let v = folded_const(e, fold_literal(e)?, hint).ok()?;
            class = Some(value_class(&v));
        }
        class
    }

    /// Element `idx` of list literal `list` (of `shape` and `elems`).
    pub(super) fn list_elem(
        &mut self,
        list: &'h hir::Expr,
        shape: &[usize],
        elems: &'h [hir::Expr],
        idx: &[Affine],
        hint: Option<Class>,
    ) -> L<(ExprId, Class)> {
        let constant: Option<Vec<i64>> = idx.iter().map(|a| a.as_constant()).collect();
        if let Some(at) = constant.filter(|c| c.len() == shape.len()) {
            let mut flat = 0i64;
            let mut inside = true;
            for (&i, &n) in at.iter().zip(shape) {
                inside &= (0..n as i64).contains(&i);
                flat = flat * n as i64 + i;
            }
            if inside {
                return self.elem(&elems[flat as usize], &[], &Scope::default(), hint);
            }
        }
        let t = self.list_tensor(list, shape, elems, hint)?;
        Some(self.tensor_elem(t, idx, list.span))
    }

    /// The constant tensor of list literal `list` in a context of class `hint`.
    pub(super) fn list_tensor(
        &mut self,
        list: &'h hir::Expr,
        shape: &[usize],
        elems: &'h [hir::Expr],
        hint: Option<Class>,
    ) -> L<TensorId> {
        let f32 = hint == Some(Class::F32);
        // Every use of a named list literal is a copy with the same elements (and spans).
        let key = (
            elems.first().map(|e| e.span).unwrap_or(list.span),
            if f32 { "f32" } else { "exact" }.to_string(),
        );
        if let Some(t) = self.list_tensors.get(&key) {
            return Some(*t);
        }
        let mut values = Vec::with_capacity(elems.len());
        for e in elems {
            let lit = fold_literal(e)?;
            match folded_const(e, lit, hint) {
                Ok(v) => values.push(v),
                Err(_) => {
                    // Reports the element's error (E0307) as a scalar literal would.
                    self.folded(e, lit, hint);
                    return None;
                }
            }
        }
        let range = value_range(&values);
        let elem = match &range {
            _ if f32 => ScalarType::F32,
            Some(iv) => {
                let frac = values
                    .iter()
                    .filter_map(|v| v.as_exact())
                    .filter(|x| !x.is_zero())
                    .map(|x| x.min_frac())
                    .max()
                    .unwrap_or(0)
                    .max(0);
                narrowest_type(iv, frac)
            }
            None => ScalarType::F32,
        };
        let values = values
            .iter()
            .map(|v| crate::value::convert(v, &elem).0)
            .collect();
        Some(self.add_list_tensor(key, list.span, elem, shape, values, range))
    }

    /// `T([...])`: list literal `list` converted to `to` at compile time, each element
    /// from its binary64 value as a scalar literal converts (no exact value needed).
    pub(super) fn list_tensor_as(
        &mut self,
        list: &'h hir::Expr,
        shape: &[usize],
        elems: &'h [hir::Expr],
        to: ScalarType,
    ) -> L<TensorId> {
        let key = (
            elems.first().map(|e| e.span).unwrap_or(list.span),
            to.to_string(),
        );
        if let Some(t) = self.list_tensors.get(&key) {
            return Some(*t);
        }
        let mut values = Vec::with_capacity(elems.len());
        for e in elems {
            let source = literal_source(e, fold_literal(e)?, &to)?;
            values.push(crate::value::convert(&source, &to).0);
        }
        let range = value_range(&values);
        Some(self.add_list_tensor(key, list.span, to, shape, values, range))
    }

    /// The constant tensor of a list literal's `values`, of type `elem`, cached by `key`.
    fn add_list_tensor(
        &mut self,
        key: (Span, String),
        span: Span,
        elem: ScalarType,
        shape: &[usize],
        values: Vec<Value>,
        range: Option<kiln_numeric::interval::Interval>,
    ) -> TensorId {
        let c = self.mb.add_const(ConstData {
            name: "list".into(),
            elem,
            shape: shape.to_vec(),
            values,
            source: "a list literal".into(),
            range,
        });
        let t = self.const_tensor(c, "list", elem, shape.to_vec(), span);
        self.list_tensors.insert(key, t);
        t
    }
}
